"""A finished consultation to a confirmed 36-session course in a real browser, counting the
clicks; then the course page and the chairs' day sheet at phone and desk widths."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import make_booking
from tests.course_helpers import open_weekdays
from tests.fixtures_staff import STAFF_PASSWORD, make_staff

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")
MAX_CLICKS = 6


def shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"course-{name}.png"), full_page=True)
        page.screenshot(path=os.path.join(SHOTS, f"course-{name}-top.png"))


@pytest.fixture
def consultation(app):
    with app.app_context():
        open_weekdays()
        make_staff("desk@mindset-tms.example", "staff", name="Dana Desk")
        booking = make_booking(name="Ada Lovelace").booking
        # Another patient's short sessions hold both chairs at 10:00 from the course's third day,
        # so the proposal shows moved sessions and the time pickers.
        from datetime import time, timedelta

        from app.core.timefmt import clinic_zone
        from app.courses import service as courses
        from tests.course_helpers import template_id

        day = booking.slot.starts_at.astimezone(clinic_zone()).date() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        for chair in (1, 2):
            courses.plan_course(
                courses.PatientDetails(f"Other {chair}", f"other{chair}@example.com"),
                courses.PlanRequest(template_id("itbs_30"), day + timedelta(days=2), time(10), chair_id=chair),
            )
        return booking.public_id


def sign_in(page, url: str) -> None:
    page.goto(url + "/staff/sign-in")
    page.get_by_label("Email address").fill("desk@mindset-tms.example")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Good to see you, Dana").wait_for()


def test_consultation_to_confirmed_course_in_at_most_six_clicks(live_server, page, browser, consultation):
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/staff/bookings/{consultation}")
    clicks = 0

    def click(locator) -> None:
        nonlocal clicks
        clicks += 1
        locator.click()

    started = time.perf_counter()
    click(page.get_by_role("link", name="Plan a course"))
    page.get_by_label("Patient's name").wait_for()
    assert page.get_by_label("Patient's name").input_value() == "Ada Lovelace"
    click(page.get_by_role("button", name="Propose the sessions"))
    page.get_by_role("heading", name="Standard rTMS, 36 sessions for Ada Lovelace").wait_for()
    assert page.locator(".proposal-table tbody tr").count() == 36
    shot(page, "proposal-1280")
    click(page.get_by_role("button", name="Confirm and book 36 sessions").first)
    page.get_by_text("Planned 36 sessions for Ada Lovelace.").wait_for()
    elapsed = time.perf_counter() - started
    print(f"consultation to confirmed course: {clicks} clicks, {elapsed:.1f} s (scripted)")
    assert clicks <= MAX_CLICKS
    assert page.locator(".course-sessions tbody tr").count() == 36
    assert page.get_by_text("36 of 36").count() == 1
    shot(page, "detail-1280")
    course_url = page.url

    page.get_by_role("link", name="Move session 3", exact=True).click()
    page.get_by_label("New time").fill("15:00")
    page.get_by_label("Also move every later session to this time of day").check()
    page.get_by_role("button", name="Move", exact=True).click()
    page.get_by_text("Moved 34 sessions.").wait_for()

    first_day = page.locator(".course-sessions tbody tr").first.locator("td").nth(1).inner_text()
    assert first_day
    page.goto(live_server.url + "/staff/courses")
    day_link = page.get_by_role("link", name="Today's day sheet (chairs)")
    day_link.wait_for()

    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, timezone_id="America/Denver"
    )
    small = phone.new_page()
    try:
        sign_in(small, live_server.url)
        small.goto(course_url)
        small.get_by_role("heading", name="Ada Lovelace").wait_for()
        assert small.evaluate("document.documentElement.scrollWidth") <= 360
        shot(small, "detail-360")
        small.goto(f"{live_server.url}/staff/courses/new?booking={consultation}")
        small.get_by_role("button", name="Propose the sessions").click()
        small.get_by_role("heading", name="Standard rTMS, 36 sessions for Ada Lovelace").wait_for()
        assert small.evaluate("document.documentElement.scrollWidth") <= 360
        shot(small, "proposal-360")
        monday = course_monday(page, course_url)
        small.goto(f"{live_server.url}/staff/day?day={monday}")
        small.get_by_text("1 of 36").wait_for()
        assert small.evaluate("document.documentElement.scrollWidth") <= 360
        shot(small, "day-sheet-360")
    finally:
        phone.close()
    page.goto(f"{live_server.url}/staff/day?day={monday}")
    page.get_by_text("Ada L.").wait_for()
    shot(page, "day-sheet-1280")
    page.emulate_media(media="print")
    assert _pages(page.pdf(format="Letter")) == 1


def _pages(pdf: bytes) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def course_monday(page, course_url: str) -> str:
    """The first session's date of the course on `course_url`, from its move link's form."""
    page.goto(course_url.rstrip("/") + "/sessions/1/move")
    return page.get_by_label("New date").input_value()
