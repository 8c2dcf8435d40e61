"""The patient's booking flow in a real browser (headless chromium): mouse, a 360 px phone
in another time zone, and with JavaScript switched off. (Booking with the keyboard alone, from
the home page, is in test_accessibility.py.)"""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import make_slot, tab_to

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def slots(app):
    with app.app_context():
        return [make_slot().public_id for _ in range(6)]


def fill_details(page) -> None:
    page.get_by_label("Phone call").check()
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Phone number").fill("970-555-0123")
    page.get_by_label("Not sure yet").check()
    page.get_by_label(re.compile("I have read the privacy notice")).check()


def test_book_see_it_gone_cancel_see_it_back(live_server, page, slots):
    page.goto(live_server.url + "/book")
    first = page.locator(f'a[href="/book/{slots[0]}"]')
    assert first.count() == 1
    first.click()
    fill_details(page)
    shot(page, "desktop-form")
    page.get_by_role("button", name="Book this consultation").click()
    page.get_by_role("heading", name="You're booked").wait_for()
    # Focus moves to the confirmation's heading, so a screen reader starts there.
    assert page.evaluate("document.activeElement.id") == "confirmed-heading"
    shot(page, "desktop-confirmed")
    manage_url = page.locator(".manage-link a").get_attribute("href")
    assert re.search(r"/manage/[A-Za-z0-9_-]{32}$", manage_url)

    page.goto(live_server.url + "/book")
    assert page.locator(f'a[href="/book/{slots[0]}"]').count() == 0

    page.goto(manage_url)
    page.get_by_role("link", name="Cancel…").click()
    page.get_by_role("heading", name="Cancel your consultation?").wait_for()
    page.get_by_label("Would you like to tell us why? (optional)").fill("Feeling better")
    page.get_by_role("button", name="Yes, cancel my consultation").click()
    page.get_by_text("This consultation was cancelled").wait_for()
    page.get_by_role("link", name="Book a new consultation").click()
    page.wait_for_url("**/book?mode=phone")
    page.goto(live_server.url + "/book")
    assert page.locator(f'a[href="/book/{slots[0]}"]').count() == 1


def test_skip_link_comes_first_and_focus_is_visible(live_server, page, slots):
    page.goto(live_server.url + "/book")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    tab_to(page, "el.classList.contains('slot')")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/book/"))


def test_errors_are_announced_and_input_kept(live_server, page, slots):
    page.goto(f"{live_server.url}/book/{slots[1]}")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email address").fill("not an email")
    page.get_by_role("button", name="Book this consultation").click()
    summary = page.locator("#error-summary[role=alert]")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "check your email" in summary.inner_text()
    assert page.get_by_label("Full name").input_value() == "Ada Lovelace"
    assert page.get_by_label("Email address").get_attribute("aria-invalid") == "true"
    described = page.get_by_label("Email address").get_attribute("aria-describedby")
    assert "email-error" in described
    shot(page, "desktop-errors")


def test_phone_width_other_time_zone(live_server, phone_page, slots):
    page = phone_page
    page.goto(live_server.url + "/book")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The visitor is in New York: their own time shows beside the clinic's.
    local = page.locator(".local-time").first
    local.wait_for()
    assert "your time" in local.inner_text() and ("EST" in local.inner_text() or "ET" in local.inner_text())
    shot(page, "phone-book")
    page.locator(f'a[href="/book/{slots[2]}"]').click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "phone-form")
    # The summary's time reads as one phrase, with the visitor's own time after all of it.
    summary_time = page.locator(".summary dd", has=page.locator("time.clinic-time"))
    summary_time.locator(".local-time").wait_for()
    lines = [line.strip() for line in summary_time.inner_text().splitlines() if line.strip()]
    assert len(lines) == 2, lines
    # The zone is named once, by the clock's own words (never three times, never its key).
    assert lines[0].endswith(("MST", "MDT")) and "Mountain" not in lines[0] and lines[1].startswith("your time")


def test_booking_works_without_javascript(live_server, browser, slots):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1024, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/book/{slots[3]}")
        fill_details(page)
        page.get_by_role("button", name="Book this consultation").click()
        page.get_by_role("heading", name="You're booked").wait_for()
    finally:
        context.close()
