"""The front desk's course pages through the client: plan from a consultation, the proposal,
confirm, run the course; errors at the field; admin pages; day sheet and dashboard."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from app.core.database import write_transaction
from app.core.extensions import db
from app.courses import service as courses
from app.models import Chair, Course, CourseSession, utcnow
from app.models.staff import AuditLog
from app.schedule.clinic_time import clinic_today
from tests.conftest import csrf_token, make_booking
from tests.course_helpers import next_monday, open_weekdays, template_id
from tests.fixtures_staff import staff_post


@pytest.fixture
def desk(ctx, staff_client):
    open_weekdays()
    return staff_client


def _form_fields(html: str) -> dict:
    """The hidden fields of the proposal's confirm form, as the browser would send them."""
    form = html[html.index('action="/staff/courses/confirm"') :]
    form = form[: form.index("</form>")]
    return {
        m.group(1): m.group(2).replace("&#43;", "+")
        for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)
    }


def _propose(client, **fields):
    data = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "",
        "locale": "en",
        "template": str(template_id()),
        "start": next_monday().isoformat(),
        "at": "10:00",
        "chair": "0",
        "payment": "insurer",
        "authorised_sessions": "30",
        "authorised_until": "",
        "booking": "",
    }
    data.update(fields)
    return staff_post(client, "/staff/courses/propose", data)


def test_from_a_consultation_to_a_confirmed_course(desk):
    booking = make_booking().booking
    detail = desk.get(f"/staff/bookings/{booking.public_id}").get_data(as_text=True)
    assert f"/staff/courses/new?booking={booking.public_id}" in detail
    form = desk.get(f"/staff/courses/new?booking={booking.public_id}").get_data(as_text=True)
    assert 'value="Ada Lovelace"' in form and 'value="ada@example.com"' in form
    page = _propose(desk, booking=booking.public_id)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('data-label="Session"') == 36
    assert "6 past the authorisation" in html and "Confirm and book 36 sessions" in html
    fields = _form_fields(html)
    assert fields["booking"] == booking.public_id and len(fields["plan"].split()) == 36
    done = desk.post("/staff/courses/confirm", data={**fields, "csrf_token": csrf_token(html)})
    assert done.status_code == 303
    course = db.session.execute(select(Course)).scalar_one()
    assert course.booking_id == booking.id and course.authorised_sessions == 30
    page = desk.get(done.headers["Location"]).get_data(as_text=True)
    assert "1 of 36" in page and "36 of 36" in page and "Past authorisation" in page
    assert (
        db.session.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "course.plan")
        ).scalar_one()
        == 1
    )


def test_a_clash_at_confirm_shows_fresh_proposals(desk):
    html = _propose(desk, chair="1").get_data(as_text=True)
    fields = _form_fields(html)
    courses.plan_course(
        courses.PatientDetails("Bob Stone", "bob@example.com"),
        courses.PlanRequest(template_id(), next_monday(), time(10), chair_id=1),
    )
    page = desk.post("/staff/courses/confirm", data={**fields, "csrf_token": csrf_token(html)})
    text = page.get_data(as_text=True)
    assert page.status_code == 409 and "clashes" in text and "Moved from preferred time" in text
    assert db.session.execute(select(func.count(Course.id))).scalar_one() == 1


def test_errors_are_shown_at_their_field_and_typed_values_kept(desk):
    page = _propose(desk, name="", start=(clinic_today() - timedelta(days=3)).isoformat(), at="25:99")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Enter the patient&#39;s name." in html or "Enter the patient's name." in html
    assert "field-invalid" in html and 'value="ada@example.com"' in html
    page = _propose(desk, start=(clinic_today() - timedelta(days=3)).isoformat())
    assert page.status_code == 422 and "The first day has passed" in page.get_data(as_text=True)
    missing_csrf = desk.post("/staff/courses/propose", data={"name": "Ada"})
    assert missing_csrf.status_code == 400


def _first_session_started(course) -> CourseSession:
    """Put the course's first session an hour ago (as if the course began earlier today)."""
    with write_transaction() as session:
        first = session.execute(
            select(CourseSession).where(CourseSession.course_id == course.id, CourseSession.number == 1)
        ).scalar_one()
        length = first.ends_at - first.starts_at
        first.starts_at = (utcnow() - timedelta(hours=1)).replace(second=0, microsecond=0)
        first.ends_at = first.starts_at + length
    return first


def test_running_a_course_from_its_page(desk):
    course = courses.plan_course(
        courses.PatientDetails("Ada Lovelace", "ada@example.com"),
        courses.PlanRequest(template_id(), next_monday(), time(10)),
    )
    url = f"/staff/courses/{course.public_id}"
    first = _first_session_started(course)
    response = staff_post(desk, f"{url}/sessions/{first.number}/attendance", {"status": "missed"}, token_from=url)
    assert response.status_code == 303
    page = desk.get(url).get_data(as_text=True)
    assert "Add a session at the end" in page
    assert staff_post(desk, f"{url}/add-session", token_from=url).status_code == 303
    assert db.session.execute(select(func.count(CourseSession.id))).scalar_one() == 37
    third = courses.find_course(course.public_id).sessions[2]
    move = f"{url}/sessions/{third.number}/move"
    bad = staff_post(
        desk, move, {"on_date": third.starts_at.date().isoformat(), "at": "22:00", "chair": "0"}, token_from=move
    )
    assert bad.status_code == 422 and "not open" in bad.get_data(as_text=True)
    ended = staff_post(desk, f"{url}/end", {"reason": ""}, token_from=url)
    assert ended.status_code == 422 and "Say why" in ended.get_data(as_text=True)
    ended = staff_post(desk, f"{url}/end", {"reason": "Moved away"}, token_from=url)
    assert ended.status_code == 303 and courses.find_course(course.public_id).status == "ended"


def test_day_sheet_lists_each_chairs_sessions_and_the_dashboard_counts(desk):
    courses.plan_course(
        courses.PatientDetails("Ada Lovelace", "ada@example.com"),
        courses.PlanRequest(template_id(), next_monday(), time(10)),
    )
    sheet = desk.get(f"/staff/day?day={next_monday().isoformat()}").get_data(as_text=True)
    assert "Ada L." in sheet and "1 of 36" in sheet and "Lovelace" not in sheet
    assert "Chair 1" in sheet and "Chair 2" in sheet
    board = desk.get("/staff/").get_data(as_text=True)
    assert "chair use this week" in board and "course in progress" in board


def test_admin_pages_keep_chairs_and_are_admins_only(ctx, admin_client, staff_client):
    assert staff_client.get("/staff/schedule").status_code == 403
    assert admin_client.get("/staff/schedule").status_code == 200
    page = staff_post(
        admin_client, "/staff/schedule/chairs/new", {"name": "Chair 1", "position": "3", "is_active": "y"}
    )
    assert page.status_code == 422 and "Another chair has that name" in page.get_data(as_text=True)
    assert (
        staff_post(
            admin_client, "/staff/schedule/chairs/new", {"name": "Chair 3", "position": "3", "is_active": "y"}
        ).status_code
        == 303
    )
    chair = db.session.execute(select(Chair).where(Chair.name == "Chair 3")).scalar_one()
    assert (
        staff_post(admin_client, f"/staff/schedule/chairs/{chair.id}", {"name": "Chair 3", "position": "3"}).status_code
        == 303
    )
    db.session.refresh(chair)
    assert not chair.is_active
    bad = staff_post(
        admin_client,
        "/staff/schedule/templates/new",
        {"key": "x", "name": "X", "first_type": "2", "session_type": "3", "cadence": "six weeks"},
    )
    assert bad.status_code == 422 and "weeks x sessions" in bad.get_data(as_text=True)
    good = staff_post(
        admin_client,
        "/staff/schedule/templates/new",
        {
            "key": "twice",
            "name": "Twice weekly",
            "first_type": "2",
            "session_type": "3",
            "cadence": "4x2",
            "is_active": "y",
        },
    )
    assert good.status_code == 303


def test_staff_pick_another_time_for_a_moved_session_before_confirming(desk):
    # Bob holds chair 1 and chair 2 at 10:00 on the first Tuesday, so Ada's second session moves.
    tuesday = next_monday() + timedelta(days=1)
    for chair in (1, 2):
        courses.plan_course(
            courses.PatientDetails(f"Bob {chair}", f"bob{chair}@example.com"),
            courses.PlanRequest(template_id("itbs_30"), tuesday, time(10), chair_id=chair),
        )
    html = _propose(desk).get_data(as_text=True)
    assert 'name="time-2"' in html
    fields = _form_fields(html)
    done = desk.post("/staff/courses/confirm", data={**fields, "time-2": "13:00", "csrf_token": csrf_token(html)})
    assert done.status_code == 303, done.get_data(as_text=True)[:3000]
    course = db.session.execute(select(Course).where(Course.name == "Ada Lovelace")).scalar_one()
    second = courses.find_course(course.public_id).sessions[1]
    assert second.starts_at.astimezone(courses.clinic_zone()).time() == time(13)
    # A picked time outside opening hours shows the proposal again with the reason.
    html = _propose(desk, name="Cy Young", email="cy@example.com").get_data(as_text=True)
    fields = _form_fields(html)
    moved = [n for n in range(1, 37) if f'name="time-{n}"' in html]
    if moved:
        again = desk.post(
            "/staff/courses/confirm", data={**fields, f"time-{moved[0]}": "20:00", "csrf_token": csrf_token(html)}
        )
        assert again.status_code == 422 and "Nothing was booked" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "ada@example"}, "email", "the patient"),
        ({"email": "Ada <ada@example.com>\r\nBcc: x@example.com"}, "email", "line breaks"),
        ({"phone": "12"}, "phone", "patient"),
        ({"at": "10:03"}, "at", "5-minute mark"),
    ],
)
def test_a_course_takes_the_booking_rules_for_its_patient_and_the_chairs_grid(desk, fields, field, message):
    """The same email and phone rules as a consultation (in the console's voice) and a time on
    the chairs' five-minute grid, refused at the field with what was typed kept; nothing planned."""
    page = _propose(desk, **fields)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and message in html
    assert f'id="{field}-error"' in html or f'aria-describedby="{field}-error"' in html or "field-invalid" in html
    assert db.session.execute(select(func.count(Course.id))).scalar_one() == 0


def test_a_move_off_the_grid_is_refused_at_the_field(desk):
    course = courses.plan_course(
        courses.PatientDetails("Ada Lovelace", "ada@example.com"),
        courses.PlanRequest(template_id(), next_monday(), time(10)),
    )
    second = courses.find_course(course.public_id).sessions[1]
    move = f"/staff/courses/{course.public_id}/sessions/{second.number}/move"
    answer = staff_post(
        desk, move, {"on_date": second.starts_at.date().isoformat(), "at": "11:02", "chair": "0"}, token_from=move
    )
    assert answer.status_code == 422 and "5-minute mark" in answer.get_data(as_text=True)
