"""The staff console in a real browser (headless chromium) against gunicorn: sign in, set
weekly hours and a holiday, see /book follow at once, cancel a booking and see its time free."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import future_day, make_booking
from tests.fixtures_staff import STAFF_PASSWORD, make_staff

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"staff-{name}.png"), full_page=True)


@pytest.fixture
def admin_account(app):
    with app.app_context():
        make_staff("alex@mindset-tms.example", "admin", name="Alex Admin")


def test_sign_in_set_hours_and_holiday_cancel_a_booking(live_server, page, admin_account, app):
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    day = future_day(5)
    holiday = future_day(5 + 7)
    weekday = day.strftime("%A")

    page.goto(live_server.url + "/staff/bookings")
    assert "/staff/sign-in" in page.url  # signed out: sent to sign in first
    page.get_by_label("Email address").fill("alex@mindset-tms.example")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Bookings").wait_for()  # back where they were going

    page.goto(live_server.url + "/book")
    assert page.locator(f"#day-{day.isoformat()}").count() == 0

    page.goto(live_server.url + "/staff/")
    page.get_by_role("link", name="Opening hours").click()
    form = page.locator("#add-hours")
    form.get_by_label(weekday).check()
    form.get_by_label("Opens at").fill("09:00")
    form.get_by_label("Closes at").fill("11:00")
    form.get_by_role("button", name="Save these hours").click()
    page.get_by_text("The booking page shows the new times now").wait_for()
    assert page.get_by_role("row", name=re.compile(f"{weekday} 9:00 AM to 11:00 AM")).count() == 1
    shot(page, "hours")

    # /book shows one day at a time: ?day= picks it.
    page.goto(live_server.url + f"/book?day={holiday.isoformat()}")
    assert page.locator("#day-times .slot").count() == 4
    page.goto(live_server.url + f"/book?day={day.isoformat()}")
    listed = page.locator("#day-times .slot")
    assert listed.count() == 4

    page.goto(live_server.url + "/staff/hours")
    close = page.locator("#close")
    close.get_by_label("First closed day").fill(holiday.isoformat())
    close.get_by_label("Reason (optional, e.g. Christmas)").fill("Staff training")
    close.get_by_role("button", name="Close these days").click()
    page.get_by_text("The clinic is closed").wait_for()
    page.goto(live_server.url + f"/book?day={holiday.isoformat()}")
    assert page.locator(f'a.day-chip[data-day="{holiday.isoformat()}"]').count() == 0
    assert page.locator("#day-times .slot").count() == 0
    page.goto(live_server.url + f"/book?day={day.isoformat()}")
    assert page.locator("#day-times .slot").count() == 4

    # A patient books the first time; staff cancel it and the time is offered again.
    first_href = listed.first.get_attribute("href")
    with app.app_context():
        from app.core.extensions import db
        from app.models import Slot

        public_id = first_href.rsplit("/", 1)[1]
        slot = db.session.execute(db.select(Slot).where(Slot.public_id == public_id)).scalar_one()
        booking_id = make_booking(slot, name="Ada Lovelace").booking.public_id
    page.goto(live_server.url + f"/book?day={day.isoformat()}")
    assert page.locator(f'a[href="{first_href}"]').count() == 0

    page.goto(live_server.url + "/staff/bookings")
    page.get_by_label("Search by name, email or phone").fill("lovelace")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile(r"9:00 AM")).click()
    page.get_by_role("heading", name="Ada Lovelace").wait_for()
    page.get_by_role("link", name=re.compile("Cancel consultation")).click()
    page.get_by_label("Message to the patient (optional)").fill("Sorry, the clinician is away.")
    page.get_by_role("button", name="Yes, cancel the consultation").click()
    page.get_by_text("is free again").wait_for()
    assert "/staff/bookings/" + booking_id in page.url
    page.goto(live_server.url + f"/book?day={day.isoformat()}")
    assert page.locator(f'a[href="{first_href}"]').count() == 1

    page.goto(live_server.url + f"/staff/calendar?week={day.isoformat()}")
    shot(page, "calendar")
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.get_by_text("You are signed out").wait_for()
    page.goto(live_server.url + "/staff/")
    assert "/staff/sign-in" in page.url
    assert not [p for p in problems if "Content Security Policy" in p], problems


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _staff_pages(app) -> list[str]:
    """Every staff page, with a booking (and a free time) to show."""
    with app.app_context():
        from datetime import time

        from app.core.database import write_transaction
        from app.models import AvailabilityRule
        from tests.conftest import make_slot

        booking_id = make_booking(make_slot(), note="Mornings please").booking.public_id
        free = make_slot().public_id
        with write_transaction() as session:
            rule = AvailabilityRule(weekday=5, start_time=time(9), end_time=time(12))
            session.add(rule)
        rule_id = rule.id
    detail = f"/staff/bookings/{booking_id}"
    return [
        "/staff/",
        "/staff/calendar",
        "/staff/hours",
        "/staff/bookings",
        detail,
        detail + "/cancel",
        detail + "/move",
        detail + "/erase",
        "/staff/bookings/new",
        f"/staff/bookings/new?slot={free}",
        f"/staff/hours/weekly/{rule_id}/edit",
        f"/staff/hours/to-move?b={booking_id}",
        "/staff/export",
        "/staff/audit",
        "/staff/accounts",
        "/staff/settings/calendar-feeds",
        "/staff/account/password",
    ]


def _sign_in_admin(page, live_server) -> None:
    page.goto(live_server.url + "/staff/sign-in")
    page.get_by_label("Email address").fill("alex@mindset-tms.example")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Good to see you")).wait_for()


def _axe_failures(page, path: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    return [f"{path}: {v['id']} {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]


def test_staff_pages_pass_axe(live_server, page, admin_account, app):
    paths = _staff_pages(app)
    _sign_in_admin(page, live_server)
    failures = []
    for path in paths:
        page.goto(live_server.url + path)
        failures += _axe_failures(page, path)
    assert not failures, "\n".join(failures)


def test_staff_pages_are_a_tool_that_fits_a_phone(live_server, phone_page, admin_account, app):
    """At 360 px: no public header, footer or booking button; nothing wider than the screen
    (tables become stacked rows, status beside the time); axe finds nothing."""
    paths = _staff_pages(app)
    page = phone_page
    _sign_in_admin(page, live_server)
    failures = []
    for path in paths:
        page.goto(live_server.url + path)
        assert page.locator(".site-header, .site-footer").count() == 0, path
        assert page.get_by_text("Book a free consultation").count() == 0, path
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the screen"
        for cell in page.locator(".data-table td[data-label='Status']").all():
            box = cell.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, path
        failures += _axe_failures(page, path)
        shot(page, "phone-" + path.strip("/").replace("/", "-").split("?")[0])
    assert not failures, "\n".join(failures)
