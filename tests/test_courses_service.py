"""The course service on SQLite and PostgreSQL: a plan lands whole or not at all, the
database refuses a chair clash, and running a course keeps the chairs' holds true."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.core.tokens import hash_token
from app.courses import notifications
from app.courses import service as courses
from app.courses.errors import CourseNotActive, InvalidCourseInput, PlanClash, TimeNotOpen
from app.models import Course, CourseSession, DateOverride
from app.models.schedule import SESSION_ATTENDED, SESSION_CANCELLED, SESSION_MISSED, SESSION_PLANNED
from app.models.staff import AuditLog
from app.schedule import holds
from app.schedule.errors import ChairTaken
from tests.course_helpers import holds_match_sessions, next_monday, open_weekdays, overlapping_sessions, template_id
from tests.fixtures_staff import make_staff

ADA = courses.PatientDetails("Ada Lovelace", "ada@example.com", "+19705550123", "en")
BOB = courses.PatientDetails("Bob Stone", "bob@example.com", "", "es")


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def calls(monkeypatch):
    """What the course service told the patient notifications (the calls, in order)."""
    made: list = []
    monkeypatch.setattr(
        notifications, "course_planned", lambda course, page_token=None: made.append(("planned", course.id, page_token))
    )
    monkeypatch.setattr(
        notifications,
        "course_changed",
        lambda course, changed, cancelled, page_token=None: made.append(
            ("changed", course.id, [s.number for s in changed], [s.number for s in cancelled])
        ),
    )
    return made


@pytest.fixture
def desk(ctx):
    open_weekdays()
    return make_staff("desk@mindset-tms.example")


def request(**kw) -> courses.PlanRequest:
    values = {"template_id": template_id(), "start": next_monday(), "preferred_time": time(10)}
    values.update(kw)
    return courses.PlanRequest(**values)


def local(at: datetime) -> datetime:
    return at.astimezone(clinic_zone())


def test_a_confirmed_proposal_lands_whole_with_its_holds_audit_and_one_email(desk, calls):
    proposal = courses.propose_plan(request(authorised_sessions=30), email=ADA.email)
    assert len(proposal.sessions) == 36 and proposal.past_authorisation == 6
    course = courses.plan_course(ADA, request(authorised_sessions=30), proposal.sessions, actor=desk)
    [(kind, course_id, token)] = calls
    assert (kind, course_id) == ("planned", course.id)
    assert token and hash_token(token) == course.page_token_hash
    stored = courses.find_course(course.public_id)
    assert [(s.number, s.chair_id, s.starts_at) for s in stored.sessions] == [
        (p.number, p.chair_id, p.starts_at) for p in proposal.sessions
    ]
    assert holds_match_sessions() and not overlapping_sessions()
    assert [courses.is_past_authorisation(stored, s) for s in stored.sessions].count(True) == 6
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "course.plan")).scalar_one()
    assert entry.actor_email == desk.email and "36 sessions" in entry.details and "Ada" not in entry.details


def test_a_taken_chair_time_refuses_the_whole_plan_with_fresh_proposals(desk, calls):
    proposal = courses.propose_plan(request(chair_id=1), email=ADA.email)
    courses.plan_course(ADA, request(chair_id=1), proposal.sessions)
    with pytest.raises(PlanClash) as raised:
        courses.plan_course(BOB, request(chair_id=1), proposal.sessions)
    clash = raised.value
    assert (clash.number, clash.chair_id, clash.starts_at) == (1, 1, proposal.sessions[0].starts_at)
    assert len(clash.proposals) == 36 and all(p.moved for p in clash.proposals[:1])
    assert db.session.execute(select(func.count(Course.id))).scalar_one() == 1
    assert holds_match_sessions() and len(calls) == 1
    # The fresh proposal is good: confirming it lands.
    courses.plan_course(BOB, request(chair_id=1), clash.proposals)
    assert not overlapping_sessions() and holds_match_sessions()


def test_without_a_chair_the_second_patient_gets_the_other_chair_at_the_same_time(desk, calls):
    first = courses.plan_course(ADA, request())
    second = courses.plan_course(BOB, request())
    a, b = courses.find_course(first.public_id), courses.find_course(second.public_id)
    assert {a.sessions[0].chair_id, b.sessions[0].chair_id} == {1, 2}
    assert a.sessions[0].starts_at == b.sessions[0].starts_at


def test_closures_are_never_planned_and_bad_input_names_its_field(desk):
    closed = next_monday() + timedelta(days=2)
    with write_transaction() as session:
        session.add(DateOverride(on_date=closed, kind="closed", reason="Holiday"))
    proposal = courses.propose_plan(request())
    assert closed not in {local(s.starts_at).date() for s in proposal.sessions}
    with pytest.raises(InvalidCourseInput) as raised:
        courses.plan_course(courses.PatientDetails(" "), request())
    assert raised.value.field == "name"
    with pytest.raises(InvalidCourseInput) as raised:
        courses.propose_plan(request(start=next_monday() - timedelta(weeks=2)))
    assert raised.value.field == "start"


def test_a_missed_session_gets_one_more_at_the_end_at_the_same_time(desk, calls):
    course = courses.plan_course(ADA, request(start=next_monday()))
    now = courses.find_course(course.public_id).sessions[1].starts_at + timedelta(hours=2)
    courses.record_attendance(course.public_id, 1, SESSION_ATTENDED, actor=desk, now=now)
    courses.record_attendance(course.public_id, 2, SESSION_MISSED, actor=desk, now=now)
    added = courses.add_session_at_end(course.public_id, actor=desk, now=now)
    stored = courses.find_course(course.public_id)
    last_before = max(s.starts_at for s in stored.sessions if s.number != added.number)
    assert added.number == 37 and added.starts_at > last_before
    assert local(added.starts_at).time() == time(10)
    assert local(added.starts_at).date() == local(last_before).date() + timedelta(days=1)
    assert calls[-1] == ("changed", course.id, [37], []) and len(courses.ordinals(stored)) == 37
    assert holds_match_sessions()
    with pytest.raises(Exception) as raised:
        courses.record_attendance(course.public_id, 30, SESSION_ATTENDED, now=now)
    assert "own day" in str(raised.value)


def test_moving_one_session_frees_its_old_time_and_refuses_closed_or_taken_times(desk, calls):
    course = courses.plan_course(ADA, request(chair_id=1))
    third = courses.find_course(course.public_id).sessions[2]
    old_start = third.starts_at
    moved = courses.move_session(course.public_id, 3, old_start + timedelta(hours=4), actor=desk)
    assert [s.number for s in moved] == [3] and moved[0].ical_sequence == 1
    assert calls[-1] == ("changed", course.id, [3], [])
    assert holds_match_sessions()
    # The old time is free again for someone else.
    assert holds.is_free(1, old_start, old_start + timedelta(minutes=40))
    with pytest.raises(TimeNotOpen):
        courses.move_session(course.public_id, 4, local(old_start).replace(hour=20) + timedelta(days=1))
    # Bob's iTBS course shares chair 1 from Thursday; Ada's session 9 cannot take his time.
    other = courses.plan_course(
        BOB, request(template_id=template_id("itbs_30"), chair_id=1, start=next_monday() + timedelta(days=3))
    )
    ninth = courses.find_course(course.public_id).sessions[8]
    bobs = next(
        s
        for s in courses.find_course(other.public_id).sessions
        if local(s.starts_at).date() == local(ninth.starts_at).date()
    )
    with pytest.raises(ChairTaken):
        courses.move_session(course.public_id, 9, bobs.starts_at, chair_id=1)
    assert courses.find_course(course.public_id).sessions[8].starts_at == ninth.starts_at
    assert holds_match_sessions() and not overlapping_sessions()


def test_moving_every_later_session_gives_them_the_new_time_of_day(desk, calls):
    course = courses.plan_course(ADA, request())
    tenth = courses.find_course(course.public_id).sessions[9]
    new = local(tenth.starts_at).replace(hour=15)
    moved = courses.move_session(course.public_id, 10, new, later_too=True, actor=desk)
    assert [s.number for s in moved] == list(range(10, 37))
    stored = courses.find_course(course.public_id)
    assert all(local(s.starts_at).time() == time(15) for s in stored.sessions[9:])
    assert all(local(s.starts_at).time() == time(10) for s in stored.sessions[:9])
    assert calls[-1][2] == list(range(10, 37))
    assert holds_match_sessions() and not overlapping_sessions()


def test_pause_frees_the_chairs_and_resume_plans_as_many_again(desk, calls):
    course = courses.plan_course(ADA, request())
    sessions = courses.find_course(course.public_id).sessions
    now = sessions[4].starts_at + timedelta(hours=1)
    for number in range(1, 6):
        courses.record_attendance(course.public_id, number, SESSION_ATTENDED, now=now)
    cancelled = courses.pause_course(course.public_id, actor=desk, now=now)
    assert len(cancelled) == 31 and holds_match_sessions()
    assert calls[-1] == ("changed", course.id, [], list(range(6, 37)))
    with pytest.raises(CourseNotActive):
        courses.add_session_at_end(course.public_id, now=now)
    resume_on = local(now).date() + timedelta(days=14)
    created = courses.resume_course(course.public_id, resume_on, time(14), actor=desk, now=now)
    assert len(created) == 31 and created[0].number == 37
    stored = courses.find_course(course.public_id)
    assert stored.status == "planned" and len(courses.ordinals(stored)) == 36
    assert all(local(s.starts_at).time() == time(14) for s in created)
    assert holds_match_sessions() and not overlapping_sessions()


def test_ending_early_needs_a_reason_and_cancels_what_is_to_come(desk, calls):
    course = courses.plan_course(ADA, request())
    with pytest.raises(InvalidCourseInput) as raised:
        courses.end_course(course.public_id, "  ")
    assert raised.value.field == "reason"
    cancelled = courses.end_course(course.public_id, "Moved away", actor=desk)
    assert len(cancelled) == 36 and all(s.ical_sequence == 1 for s in cancelled)
    stored = courses.find_course(course.public_id)
    assert stored.status == "ended" and stored.end_reason == "Moved away"
    assert all(s.status == SESSION_CANCELLED for s in stored.sessions)
    assert (
        db.session.execute(
            select(func.count()).select_from(CourseSession).where(CourseSession.status == SESSION_PLANNED)
        ).scalar_one()
        == 0
    )
    assert holds_match_sessions()
    with pytest.raises(CourseNotActive):
        courses.move_session(course.public_id, 3, stored.sessions[3].starts_at)
    assert [c[0] for c in calls] == ["planned", "changed"]


def test_free_times_leave_out_held_chair_time_and_closed_hours(desk):
    from app.schedule.free import free_times

    monday = next_monday()
    everything = free_times(monday, 40)
    assert everything and all(local(s).time() >= time(9) for s, _ in everything)
    assert all(local(s + timedelta(minutes=40)).time() <= time(17) for s, _ in everything)
    course = courses.plan_course(ADA, request(chair_id=1))
    first = courses.find_course(course.public_id).sessions[0]
    on_chair_1 = {s for s, _ in free_times(monday, 40, [1])}
    assert not any(first.starts_at - timedelta(minutes=40) < s < first.ends_at for s in on_chair_1)
    assert first.starts_at in {s for s, c in free_times(monday, 40) if c == 2}
    assert first.starts_at in {s for s, _ in free_times(monday, 40, [1], except_session_ids=[first.id])}


@pytest.mark.parametrize("start", [date(2027, 3, 1), date(2027, 10, 25)])
def test_a_course_across_a_daylight_saving_change_keeps_its_wall_clock_time(desk, start):
    course = courses.plan_course(ADA, request(start=start))
    stored = courses.find_course(course.public_id)
    assert len(stored.sessions) == 36
    assert all(local(s.starts_at).time() == time(10) for s in stored.sessions)
    assert len({s.starts_at.astimezone(UTC).hour for s in stored.sessions}) == 2
    assert holds_match_sessions()


def test_moving_a_session_weeks_later_with_every_later_one_keeps_one_a_day(desk, calls):
    course = courses.plan_course(ADA, request())
    third = courses.find_course(course.public_id).sessions[2]
    target = local(third.starts_at + timedelta(days=14)).replace(hour=15)
    courses.move_session(course.public_id, 3, target, later_too=True)
    stored = courses.find_course(course.public_id)
    days = [local(s.starts_at).date() for s in stored.sessions]
    assert len(set(days)) == len(days) and len(stored.sessions) == 36
    assert local(stored.sessions[2].starts_at) == target
    assert holds_match_sessions() and not overlapping_sessions()
