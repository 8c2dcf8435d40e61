"""The booking flow's figures, measured in headless chromium: what /book weighs and how
tall it is on a phone, Tab presses to a time, clicks from the home page to "You're booked",
the day strip by arrow keys without a reload, the whole flow without JavaScript, no sideways
scroll at 320 px, and a screenshot of every page (under test-artifacts/, not committed)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core.actors import THE_PATIENT
from tests.conftest import ROOT, future_day, local_dt

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 360, "height": 740}
MAX_BOOK_BYTES = 40 * 1024
MAX_BOOK_ELEMENTS = 800
MAX_TABS_TO_A_TIME = 15
MAX_CLICKS_TO_BOOKED = 5


@pytest.fixture
def site(app):
    """Six weeks of free times (eight a weekday), as the clinic would have, and one booking."""
    from app.booking import service
    from app.core.database import write_transaction
    from app.models import Slot
    from tests.conftest import patient

    with app.app_context():
        with write_transaction() as session:
            for day in range(2, 44):
                on = future_day(day)
                if on.weekday() >= 5:
                    continue
                for hour in (9, 10, 11, 13, 14, 15, 16):
                    start = local_dt(on, hour)
                    session.add(
                        Slot(
                            starts_at=start,
                            ends_at=start + timedelta(minutes=30),
                            modes="in_person,phone,video" if hour != 16 else "phone",
                        )
                    )
        from sqlalchemy import select

        from app.core.extensions import db

        last = db.session.execute(select(Slot).order_by(Slot.starts_at.desc())).scalars().first()
        token = service.book(last.public_id, "phone", patient(), actor=THE_PATIENT).manage_token
    return {"token": token}


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


def test_book_page_weight_elements_and_height_on_a_phone(live_server, browser, site):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="America/Denver")
    page = context.new_page()
    sizes: dict[str, int] = {}
    failures: list[str] = []
    page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.status < 300 else None)
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: failures.append(m.text) if m.type == "error" else None)
    try:
        page.goto(live_server.url + "/book", wait_until="networkidle")
        total = sum(sizes.values())
        elements = page.evaluate("document.getElementsByTagName('*').length")
        height = page.evaluate("document.documentElement.scrollHeight")
        header = page.evaluate("document.querySelector('.site-header').offsetHeight")
        print(
            f"\n/book: {total} bytes in {len(sizes)} responses, {elements} elements, "
            f"{height} px tall at 360 px ({height / PHONE['height']:.2f} screens), header {header} px"
        )
        shot(page, "book")
        assert total <= MAX_BOOK_BYTES, sizes
        assert elements <= MAX_BOOK_ELEMENTS
        assert height <= 3 * PHONE["height"]
        # Brand and button on one row, the menu wrapped onto two rows below (it must never
        # scroll sideways and hide an item): under a sixth of the screen.
        assert header <= 130
        assert not failures, failures
    finally:
        context.close()


def tabs_until(page, predicate: str, limit: int = 60) -> int:
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate}); }})()"):
            return presses
    raise AssertionError(f"no element matching {predicate} within {limit} Tab presses")


def test_keyboard_tabs_to_a_time_and_arrows_through_the_days_without_a_reload(live_server, page, site):
    page.goto(live_server.url + "/book")
    presses = tabs_until(page, "el.classList.contains('slot')")
    print(f"\nTab presses from the top of /book to the first time: {presses}")
    assert presses <= MAX_TABS_TO_A_TIME

    page.evaluate("window.__sameDocument = true")
    page.goto(live_server.url + "/book")
    page.evaluate("window.__sameDocument = true")
    tabs_until(page, "el.getAttribute('role') === 'tab'")
    first = page.evaluate("document.activeElement.dataset.day")
    assert page.evaluate("document.activeElement.getAttribute('aria-selected')") == "true"
    page.keyboard.press("ArrowRight")
    second = page.evaluate("document.activeElement.dataset.day")
    assert second > first
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"day={second}"))
    page.wait_for_function(
        f"document.activeElement.dataset.day === '{second}' && "
        "document.activeElement.getAttribute('aria-selected') === 'true'"
    )
    assert page.evaluate("window.__sameDocument") is True  # no full reload
    heading = page.locator("#times-heading").inner_text()
    assert page.locator("[data-picker-status]").inner_text() == heading
    # The way to meet filters in place too, and carries into the times' links.
    page.get_by_label("Phone", exact=True).check()
    page.wait_for_url(re.compile(r"mode=phone"))
    assert page.evaluate("window.__sameDocument") is True
    assert "mode=phone" in page.locator("a.slot").first.get_attribute("href")


def test_from_the_home_page_to_booked_in_five_clicks(live_server, page, site):
    clicks = 0

    def click(locator):
        nonlocal clicks
        clicks += 1
        locator.click()

    page.goto(live_server.url + "/")
    click(page.get_by_role("link", name="Book a free consultation").first)
    page.wait_for_url("**/book")
    click(page.locator("a.slot").first)
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Phone number").fill("970-555-0123")
    click(page.get_by_label("Phone call"))
    click(page.get_by_label(re.compile("I have read the privacy notice")))
    click(page.get_by_role("button", name="Book this consultation"))
    page.get_by_role("heading", name="You're booked").wait_for()
    print(f"\nClicks from the home page to You're booked: {clicks}")
    assert clicks <= MAX_CLICKS_TO_BOOKED


def test_the_whole_flow_without_javascript(live_server, browser, site):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/book")
        days = page.locator("a.day-chip")
        target = days.nth(1).get_attribute("data-day")
        days.nth(1).click()
        page.wait_for_url(re.compile(rf"day={target}"))
        page.get_by_label("Phone", exact=True).check()
        page.get_by_role("button", name="Show times").click()
        page.wait_for_url(re.compile(rf"day={target}&mode=phone|mode=phone&day={target}"))
        page.locator("a.slot").first.click()
        assert page.get_by_label("Phone call").is_checked()
        page.get_by_label("Full name").fill("Ada Lovelace")
        page.get_by_label("Email address").fill("ada@example.com")
        page.get_by_label("Phone number").fill("970-555-0123")
        page.get_by_label(re.compile("I have read the privacy notice")).check()
        page.get_by_role("button", name="Book this consultation").click()
        page.get_by_role("heading", name="You're booked").wait_for()
        manage = page.locator(".manage-link a").get_attribute("href")
        page.goto(manage)
        page.get_by_role("link", name="Move to another time").click()
        page.locator("a.slot").first.click()
        page.get_by_role("button", name="Move my consultation").click()
        page.get_by_text("Your consultation has been moved").wait_for()
    finally:
        context.close()


def test_no_sideways_scroll_at_320_px_and_a_screenshot_of_each_page(live_server, browser, site):
    token = site["token"]
    pages = {
        "home": "/",
        "book": "/book",
        "book-phone": "/book?mode=phone&day=nonsense",
        "confirmed": f"/manage/{token}/confirmed",
        "manage": f"/manage/{token}",
        "cancel": f"/manage/{token}/cancel",
        "reschedule": f"/manage/{token}/reschedule",
    }
    for width in (320, 1280):
        context = browser.new_context(
            viewport={"width": width, "height": 800}, is_mobile=width < 400, timezone_id="America/New_York"
        )
        page = context.new_page()
        try:
            page.goto(live_server.url + "/book")
            pages["form"] = page.locator("a.slot").first.get_attribute("href")
            for name, path in pages.items():
                page.goto(live_server.url + path)
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, (name, width, overflow)
                shot(page, name)
        finally:
            context.close()
