"""A 360 px phone in English and Spanish: the day strip's counts fit their chips, every menu
item can be reached without scrolling sideways, and buttons that sit together have space
between them. (SCREENSHOT_DIR=... keeps a screenshot of each page looked at.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from tests.conftest import future_day, local_dt, make_booking, make_slot
from tests.test_browser_booking import shot

pytestmark = pytest.mark.browser
WIDTH = 360


@pytest.fixture
def busy_week(app):
    """A full day (14 times), a day with 4, and days with none in the first strip."""
    with app.app_context():
        full, some = future_day(3), future_day(5)
        for i in range(14):
            make_slot(local_dt(full, 9) + timedelta(minutes=30 * i))
        for i in range(4):
            make_slot(local_dt(some, 9) + timedelta(minutes=30 * i))
        return full


def outside(page, selector: str) -> list[str]:
    """The elements matching `selector` (and their text) that stick out of the viewport or,
    for text, out of their own box."""
    return page.evaluate(
        """([selector, width]) => {
        const bad = [];
        for (const el of document.querySelectorAll(selector)) {
            const box = el.getBoundingClientRect();
            if (box.left < 0 || box.right > width || el.scrollWidth > el.clientWidth + 0.5)
                bad.push(el.textContent.trim() + ' ' + JSON.stringify([box.left, box.right]));
        }
        return bad;
    }""",
        [selector, WIDTH],
    )


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_day_strip_counts_fit_their_chips_at_360px(live_server, phone_page, busy_week, prefix):
    phone_page.goto(f"{live_server.url}{prefix}/book?day={busy_week.isoformat()}")
    shot(phone_page, f"day-strip{prefix.replace('/', '-') or '-en'}")
    chips = phone_page.locator(".day-chip")
    assert chips.count() == 7
    assert outside(phone_page, ".day-chip") == []
    # Each count stays inside its chip, with a little room at both sides.
    gaps = phone_page.evaluate("""() => [...document.querySelectorAll('.day-chip')].map(chip => {
        const c = chip.getBoundingClientRect(), t = chip.querySelector('.chip-count');
        const r = document.createRange(); r.selectNodeContents(t);
        const text = r.getBoundingClientRect();
        return [t.textContent, Math.min(text.left - c.left, c.right - text.right)];
    })""")
    assert all(gap >= 2 for _, gap in gaps), gaps
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= WIDTH


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_every_menu_item_is_on_screen_at_360px(live_server, phone_page, prefix):
    phone_page.goto(f"{live_server.url}{prefix}/")
    shot(phone_page, f"menu{prefix.replace('/', '-') or '-en'}")
    items = phone_page.locator(".nav-list a")
    assert items.count() >= 4
    assert outside(phone_page, ".nav-list a") == []
    assert outside(phone_page, ".nav-list") == []
    about = phone_page.locator(".nav-list a").last
    about.click()  # reachable with a tap, no sideways scroll first
    assert phone_page.url.rstrip("/").endswith("/about")


def vertical_or_horizontal_gap(a: dict, b: dict) -> float:
    horizontal = max(b["x"] - (a["x"] + a["width"]), a["x"] - (b["x"] + b["width"]))
    vertical = max(b["y"] - (a["y"] + a["height"]), a["y"] - (b["y"] + b["height"]))
    return max(horizontal, vertical)


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_buttons_side_by_side_have_space_at_360px(app, live_server, phone_page, prefix):
    with app.app_context():
        booked = make_booking(make_slot())
        other = make_slot().public_id
    phone_page.goto(f"{live_server.url}{prefix}/manage/{booked.manage_token}/reschedule/{other}")
    shot(phone_page, f"move{prefix.replace('/', '-') or '-en'}")
    move = phone_page.locator("form button[type=submit]").last.bounding_box()
    keep = phone_page.locator(f"form a[href$='/manage/{booked.manage_token}']").bounding_box()
    assert vertical_or_horizontal_gap(move, keep) >= 8

    today = future_day(0)
    joined = requests.post(
        f"{live_server.url}/api/v1/waitlist",
        json={
            "name": "Ana",
            "email": "ana@example.com",
            "phone": "970-555-0123",
            "consent": True,
            "earliest": today.isoformat(),
            "latest": (today + timedelta(days=20)).isoformat(),
        },
        timeout=10,
    )
    assert joined.status_code == 201, joined.text
    phone_page.goto(f"{live_server.url}{prefix}/waitlist/{joined.json()['token']}")
    shot(phone_page, f"waitlist-entry{prefix.replace('/', '-') or '-en'}")
    save = phone_page.locator("button.button:not(.button-danger)").last.bounding_box()
    leave = phone_page.locator("button.button-danger").bounding_box()
    assert vertical_or_horizontal_gap(save, leave) >= 8


def test_wide_day_strip_says_what_the_counts_are(live_server, page, busy_week):
    page.goto(f"{live_server.url}/es/book?day={busy_week.isoformat()}")
    counts = page.locator(".day-chip .chip-count").all_inner_texts()
    assert "14 horarios" in counts and "sin horarios" in counts, counts
    assert page.evaluate("""() => [...document.querySelectorAll('.day-chip')]
        .every(c => c.scrollWidth <= c.clientWidth)""")


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_every_menu_item_is_whole_on_a_wide_screen(live_server, page, prefix):
    """At 1280 px the menu shares the header's row: a longer Spanish label wraps the menu
    rather than clip its last item ("Contacto") out of sight."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}{prefix}/")
    clipped = page.evaluate("""() => {
        const list = document.querySelector('.nav-list'), edge = list.getBoundingClientRect();
        const cut = [...list.querySelectorAll('a')].filter(a => {
            const box = a.getBoundingClientRect();
            return box.left < edge.left - 0.5 || box.right > edge.right + 0.5;
        }).map(a => a.textContent.trim());
        return list.scrollWidth > list.clientWidth + 0.5 ? cut.concat(['(the menu scrolls)']) : cut;
    }""")
    assert clipped == []
