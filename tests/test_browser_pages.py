"""The information pages in a real browser: at 360 px the comparison table becomes stacked
cards and nothing scrolls sideways; on a wide screen it is a real table; everything works with
JavaScript turned off; keyboard focus is always visible."""

from __future__ import annotations

import pytest

from tests.conftest import make_slot

pytestmark = pytest.mark.browser

INFO_PAGES = [
    "/",
    "/treatments",
    "/treatments/tms",
    "/treatments/ketamine",
    "/compare/tms-vs-ketamine",
    "/faq",
    "/about",
    "/privacy",
    "/self-check",
    "/book",
]


@pytest.fixture
def slots(app):
    with app.app_context():
        return [make_slot().public_id for _ in range(3)]


def horizontal_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_no_page_scrolls_sideways_on_a_360px_phone(live_server, phone_page, slots):
    for path in INFO_PAGES:
        phone_page.goto(live_server.url + path)
        assert horizontal_overflow(phone_page) <= 0, path
        cta = phone_page.get_by_role("link", name="Book a free consultation").first
        box = cta.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, path


def test_comparison_is_stacked_cards_on_a_phone(live_server, phone_page):
    phone_page.goto(live_server.url + "/compare/tms-vs-ketamine")
    table = phone_page.locator("table.compare-table")
    assert table.evaluate("t => getComputedStyle(t).display") == "block"
    rows = phone_page.locator("table.compare-table tbody tr")
    assert rows.count() == 11
    for i in range(rows.count()):
        row = rows.nth(i)
        assert row.evaluate("r => getComputedStyle(r).display") == "block"
        box = row.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    # Each value says which treatment it belongs to, since the column headers are hidden.
    labels = phone_page.locator("table.compare-table tbody tr:first-child td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)"
    )
    assert labels == ['"TMS"', '"IV ketamine"']
    header = phone_page.locator("table.compare-table thead").bounding_box()
    assert header["height"] <= 1
    # The cards stack: each starts below the one before it.
    tops = [rows.nth(i).bounding_box()["y"] for i in range(3)]
    assert tops == sorted(tops) and tops[1] - tops[0] > 40


def test_comparison_is_a_real_table_on_a_wide_screen(live_server, page):
    page.goto(live_server.url + "/compare/tms-vs-ketamine")
    table = page.locator("table.compare-table")
    assert table.evaluate("t => getComputedStyle(t).display") == "table"
    assert page.locator("table.compare-table caption").is_visible()
    headers = page.locator("table.compare-table thead th")
    assert headers.all_inner_texts() == ["What it is about", "TMS", "IV ketamine"]
    assert all(headers.nth(i).is_visible() for i in range(3))
    assert horizontal_overflow(page) <= 0
    # The table exposes table semantics to assistive technology.
    assert page.get_by_role("table", name="TMS and IV ketamine compared on 11 points").count() == 1
    assert page.get_by_role("rowheader", name="Time to results").count() == 1


def test_everything_works_without_javascript(live_server, browser, slots):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        main_nav = page.get_by_role("navigation", name="Main")
        main_nav.get_by_role("link", name="Compare", exact=True).click()
        page.wait_for_url("**/compare/tms-vs-ketamine")
        assert page.get_by_role("rowheader", name="Cost without insurance").is_visible()
        main_nav.get_by_role("link", name="Self-check", exact=True).click()
        page.wait_for_url("**/self-check")
        page.get_by_role("group", name="Have you ever had a seizure?").get_by_label("Yes").check()
        page.get_by_role("group", name="Which matters more to you right now?").get_by_label(
            "An approach without medication"
        ).check()
        page.get_by_role("button", name="See things to discuss").click()
        assert page.get_by_role("heading", name="Things to discuss with a clinician").is_visible()
        assert page.get_by_role("heading", name="Your history of seizures").is_visible()
        page.get_by_role("button", name="Change my answers").click()
        assert page.get_by_role("group", name="Have you ever had a seizure?").get_by_label("Yes").is_checked()
        page.get_by_role("button", name="See things to discuss").click()
        page.get_by_role("button", name="Book a consultation and attach these answers").click()
        page.wait_for_url("**/book")
        page.locator("a.slot").first.click()
        assert page.get_by_label("Attach my self-check answers for the clinician").is_visible()
        assert horizontal_overflow(page) <= 0
    finally:
        context.close()


def test_keyboard_focus_is_visible_on_links_and_buttons(live_server, page):
    page.goto(live_server.url + "/self-check")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # it comes into view
    seen = 0
    for _ in range(12):
        page.keyboard.press("Tab")
        style = page.evaluate("""(() => { const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; })()""")
        assert style[0] != "none" and style[1] >= 2, style
        seen += 1
    assert seen == 12
