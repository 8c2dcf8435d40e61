"""The staff API's course routes on SQLite and PostgreSQL: templates, planning a course (201
with every session, 409 with the clash and a fresh plan, 422 by field), reading it, moving a
session and recording attendance, each through the course service, as the token's person."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.models import AvailabilityRule, Course, CourseSession
from app.models.staff import AuditLog
from app.schedule import holds
from app.schedule.clinic_time import clinic_today
from app.staff import api_tokens
from tests.conftest import make_booking
from tests.fixtures_staff import make_staff

DESK = "desk@mindset-tms.example"
PATIENT = {"name": "Ana Díaz", "email": "ana.diaz@example.com", "phone": "970-555-0123", "locale": "es"}


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def headers(ctx):
    """A desk account's token, with the clinic open 9:00-17:00 on weekdays."""
    with write_transaction() as session:
        for weekday in range(5):
            session.add(AvailabilityRule(weekday=weekday, start_time=time(9), end_time=time(17)))
    token = api_tokens.create(make_staff(DESK).id).token
    return {"Authorization": f"Bearer {token}"}


def next_monday():
    today = clinic_today()
    return today + timedelta(days=7 - today.weekday())


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(clinic_zone())


def plan(client, headers, **changes):
    body = {"patient": PATIENT, "template": "rtms_36", "start": next_monday().isoformat(), "time": "10:00"}
    body.update(changes)
    return client.post("/api/v1/courses", json=body, headers=headers)


def test_templates_list_the_seeded_courses_with_their_session_counts(client, headers):
    response = client.get("/api/v1/course-templates", headers=headers)
    assert response.status_code == 200
    templates = {t["id"]: t for t in response.get_json()["templates"]}
    assert {"rtms_36", "itbs_30", "maintenance_6", "rtms_36_three_a_week"} <= set(templates)
    assert templates["rtms_36"]["sessions"] == 36 and templates["itbs_30"]["sessions"] == 30
    assert templates["rtms_36"]["name"] == "Standard rTMS, 36 sessions"
    assert templates["rtms_36"]["first_session_minutes"] > templates["rtms_36"]["session_minutes"]


def test_planning_a_course_answers_every_session_and_reads_back_the_same(client, headers):
    response = plan(client, headers, chair="Chair 2", self_pay=True)
    assert response.status_code == 201, response.get_json()
    course = response.get_json()["course"]
    assert not course["id"].isdigit() and course["template"] == "rtms_36" and course["status"] == "planned"
    sessions = course["sessions"]
    assert [s["number"] for s in sessions] == list(range(1, 37))
    assert {s["chair"] for s in sessions} == {"Chair 2"} and {s["status"] for s in sessions} == {"planned"}
    first = local(sessions[0]["start"])
    assert first.date() == next_monday() and first.time() == time(10)
    assert datetime.fromisoformat(sessions[0]["start"]).utcoffset() is not None
    days = [local(s["start"]).date() for s in sessions]
    assert len(set(days)) == 36 and all(day.weekday() < 5 for day in days)
    assert not any(s["past_authorisation"] for s in sessions)
    assert client.get(f"/api/v1/courses/{course['id']}", headers=headers).get_json() == {"course": course}
    stored = db.session.execute(select(Course).where(Course.public_id == course["id"])).scalar_one()
    assert stored.phone == "+19705550123" and stored.locale == "es" and stored.email == PATIENT["email"]
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "course.plan")).scalar_one()
    assert entry.actor_email == DESK


def test_a_course_from_a_consultation_and_an_authorisation_are_kept(client, headers):
    consultation = make_booking(email="ana.diaz@example.com")
    response = plan(client, headers, booking=consultation.booking.reference_display.lower(), authorised_sessions=30)
    assert response.status_code == 201, response.get_json()
    sessions = response.get_json()["course"]["sessions"]
    assert [s["number"] for s in sessions if s["past_authorisation"]] == list(range(31, 37))
    stored = db.session.execute(select(Course)).scalar_one()
    assert stored.booking_id == consultation.booking.id and stored.authorised_sessions == 30


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"template": "no-such-template"}, "template", "template_not_found"),
        ({"chair": "Chair 9"}, "chair", "chair_not_found"),
        ({"booking": "K7Q4-92MP"}, "booking", "invalid"),
        ({"start": "2020-01-06"}, "start", "invalid"),
        ({"start": "2027-02-30"}, "start", "invalid"),
        ({"time": "25:00"}, "time", "invalid"),
        ({"time": "9:00"}, "time", "invalid"),
        ({"patient": {**PATIENT, "email": "ana@"}}, "patient.email", "invalid"),
        ({"patient": {**PATIENT, "phone": "12"}}, "patient.phone", "invalid"),
        ({"patient": {**PATIENT, "locale": "fr"}}, "patient.locale", "invalid"),
        ({"patient": {"email": "ana@example.com", "phone": "970-555-0123"}}, "patient.name", "invalid"),
        ({"patient": "Ana"}, "patient", "invalid"),
        ({"authorised_sessions": 0}, "authorised_sessions", "invalid"),
    ],
)
def test_a_field_to_fix_is_422_at_the_field_and_nothing_is_planned(client, headers, change, field, code):
    response = plan(client, headers, **change)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and field in error["fields"], error
    assert db.session.execute(select(func.count(Course.id))).scalar_one() == 0


def test_a_body_that_is_not_a_json_object_is_refused(client, headers):
    assert client.post("/api/v1/courses", data="template=rtms_36", headers=headers).status_code == 415
    broken = client.post("/api/v1/courses", data="{", content_type="application/json", headers=headers)
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "bad_request"
    assert client.post("/api/v1/courses", json=[1], headers=headers).status_code == 400
    missing = client.post("/api/v1/courses", json={}, headers=headers).get_json()["error"]
    assert set(missing["fields"]) == {"patient", "template", "start", "time"}


def test_a_caller_with_no_email_can_have_a_course(client, headers):
    response = plan(client, headers, patient={"name": "Bob Stone", "phone": "970-555-0199"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["course"]["email"] is None


def test_a_chair_taken_meanwhile_is_409_with_the_clash_and_a_fresh_plan(client, headers, monkeypatch):
    first = plan(client, headers, chair="Chair 1")
    assert first.status_code == 201
    # Fault injection: the second plan's first read of the chairs misses the first course
    # (as when another desk commits between the read and the write).
    real = holds.held_cells
    reads = []

    def stale_once(chair_ids, lower, upper, except_session_ids=()):
        reads.append(1)
        if len(reads) == 1:
            return {chair_id: set() for chair_id in chair_ids}
        return real(chair_ids, lower, upper, except_session_ids)

    monkeypatch.setattr(holds, "held_cells", stale_once)
    response = plan(client, headers, chair="Chair 1", patient={**PATIENT, "email": "bob@example.com"})
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "chair_taken"
    clash = error["clash"]
    assert clash["number"] == 1 and clash["chair"] == "Chair 1"
    assert local(clash["start"]) == local(first.get_json()["course"]["sessions"][0]["start"])
    proposals = error["proposals"]
    assert len(proposals) == 36 and {p["chair"] for p in proposals} == {"Chair 1"}
    assert local(proposals[0]["start"]).time() != time(10)
    assert db.session.execute(select(func.count(Course.id))).scalar_one() == 1


def test_moving_a_session_answers_the_course_and_a_held_time_is_409(client, headers):
    mine = plan(client, headers, chair="Chair 1").get_json()["course"]
    theirs = plan(
        client, headers, chair="Chair 1", time="14:00", patient={**PATIENT, "email": "bob@example.com"}
    ).get_json()["course"]
    second = local(mine["sessions"][1]["start"])
    new_start = second.replace(hour=11, minute=30)
    url = f"/api/v1/courses/{mine['id']}/sessions/2"
    moved = client.patch(url, json={"start": new_start.isoformat()}, headers=headers)
    assert moved.status_code == 200, moved.get_json()
    session = moved.get_json()["course"]["sessions"][1]
    assert session["number"] == 2 and local(session["start"]) == new_start
    # Onto the other course's time on the same chair: refused, nothing moves.
    taken = local(theirs["sessions"][1]["start"])
    clash = client.patch(url, json={"start": taken.isoformat(), "chair": "Chair 1"}, headers=headers)
    assert clash.status_code == 409 and clash.get_json()["error"]["code"] == "chair_taken"
    assert clash.get_json()["error"]["clash"]["chair"] == "Chair 1"
    # The nearest free times that day, none on the other course's time on its chair.
    proposals = clash.get_json()["error"]["proposals"]
    assert 1 <= len(proposals) <= 5 and all(local(p["start"]).date() == taken.date() for p in proposals)
    assert not [p for p in proposals if p["chair"] == "Chair 1" and local(p["start"]) == taken]
    retry = client.patch(url, json={"start": proposals[0]["start"], "chair": proposals[0]["chair"]}, headers=headers)
    assert retry.status_code == 200, retry.get_json()
    new_start = local(proposals[0]["start"])
    shown = client.get(f"/api/v1/courses/{mine['id']}", headers=headers).get_json()["course"]
    assert local(shown["sessions"][1]["start"]) == new_start
    movers = db.session.execute(select(AuditLog.actor_email).where(AuditLog.action == "course.move")).scalars()
    assert list(movers) == [DESK, DESK]


@pytest.mark.parametrize(
    "start",
    [
        "2027-01-12T10:03:00-07:00",
        "2027-01-12T10:00:30-07:00",
        "2027-01-12T10:00:00",
        "2027-01-12",
        "tomorrow",
        "2027-01-12T10:00:00+00:07",
        "2027-02-30T10:00:00-07:00",
        5,
    ],
)
def test_a_new_start_that_is_not_a_time_on_the_grid_is_422(client, headers, start):
    course = plan(client, headers).get_json()["course"]
    response = client.patch(f"/api/v1/courses/{course['id']}/sessions/2", json={"start": start}, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert "start" in response.get_json()["error"]["fields"]


def test_unknown_courses_and_sessions_are_404(client, headers):
    course = plan(client, headers).get_json()["course"]
    start = {"start": datetime.combine(next_monday(), time(12), clinic_zone()).isoformat()}
    assert (
        client.get("/api/v1/courses/no-such-course", headers=headers).get_json()["error"]["code"] == "course_not_found"
    )
    missing = client.patch(f"/api/v1/courses/{course['id']}/sessions/99", json=start, headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "session_not_found"
    missed = client.post(
        f"/api/v1/courses/{course['id']}/sessions/99/attendance", json={"status": "missed"}, headers=headers
    )
    assert missed.status_code == 404


def test_attendance_is_recorded_from_the_session_s_own_day(client, headers):
    course = plan(client, headers).get_json()["course"]
    url = f"/api/v1/courses/{course['id']}/sessions/1/attendance"
    early = client.post(url, json={"status": "attended"}, headers=headers)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "session_not_changeable"
    # The first session's day comes (its time moved into the past).
    yesterday = datetime.now(UTC) - timedelta(days=1)
    with write_transaction() as session:
        session.execute(
            update(CourseSession)
            .where(CourseSession.number == 1)
            .values(starts_at=yesterday, ends_at=yesterday + timedelta(minutes=90))
        )
    attended = client.post(url, json={"status": "attended"}, headers=headers)
    assert attended.status_code == 200, attended.get_json()
    assert attended.get_json()["course"]["sessions"][0]["status"] == "attended"
    corrected = client.post(url, json={"status": "missed"}, headers=headers)
    assert corrected.get_json()["course"]["sessions"][0]["status"] == "missed"
    wrong = client.post(url, json={"status": "late"}, headers=headers)
    assert wrong.status_code == 422 and "status" in wrong.get_json()["error"]["fields"]
