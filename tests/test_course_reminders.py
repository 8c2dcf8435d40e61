"""Course reminders: one email before each visit, at most one a day, saying "today" or
"tomorrow" as of the moment it is sent, and due again after a visit moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.courses.reminders import queue_due_reminders
from app.mail.delivery import deliver_due
from app.models.schedule import CourseSession
from tests.fixtures_courses import denver, make_course, move
from tests.fixtures_mail import outbox_rows


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port}


def reminders(smtp_server, address="ada@example.com") -> list[str]:
    return [
        str(i.message["Subject"])
        for i in smtp_server.to(address)
        if "Reminder" in str(i.message["Subject"]) or "Recordatorio" in str(i.message["Subject"])
    ]


def reminded(course_id: int) -> dict[int, object]:
    from app.core.extensions import db

    db.session.expire_all()
    rows = db.session.execute(select(CourseSession).where(CourseSession.course_id == course_id)).scalars()
    return {s.number: s.reminded_at for s in rows}


def test_one_reminder_a_day_today_or_tomorrow_as_sent(ctx, smtp_server):
    # Visits on Monday 15:00, Tuesday 9:00 and Wednesday 9:00 (clinic time).
    course = make_course([denver(2027, 3, 8, 15), denver(2027, 3, 9, 9), denver(2027, 3, 10, 9)])
    deliver_due(denver(2027, 3, 1, 9))
    monday_10 = denver(2027, 3, 8, 10)
    # Monday's and Tuesday's visits are both within 24 hours: one email, for Monday's.
    assert queue_due_reminders(monday_10) == 1
    assert queue_due_reminders(monday_10 + timedelta(hours=3)) == 0  # one a day
    deliver_due(monday_10)
    assert reminders(smtp_server) == ["Reminder: your appointment today – Mindset TMS"]
    assert reminded(course.id)[1] == monday_10 and reminded(course.id)[2] is None
    # Queued late on Monday, sent after midnight: it says "today", decided when it is sent.
    monday_late = denver(2027, 3, 8, 23, 50)
    assert queue_due_reminders(monday_late) == 0  # Monday had its reminder
    tuesday_0010 = denver(2027, 3, 9, 0, 10)
    assert queue_due_reminders(tuesday_0010) == 1
    deliver_due(tuesday_0010)
    assert reminders(smtp_server)[-1] == "Reminder: your appointment today – Mindset TMS"
    # Tuesday 9:30: Wednesday's visit is within 24 hours, but Tuesday had its email.
    assert queue_due_reminders(denver(2027, 3, 9, 9, 30)) == 0
    wednesday_0005 = denver(2027, 3, 10, 0, 5)
    assert queue_due_reminders(wednesday_0005 - timedelta(minutes=10)) == 0
    assert queue_due_reminders(wednesday_0005) == 1
    assert len(reminders(smtp_server)) == 2
    deliver_due(wednesday_0005)
    assert len(reminders(smtp_server)) == 3


def test_tomorrow_and_a_moved_visit_is_reminded_again(ctx, smtp_server):
    course = make_course([denver(2027, 11, 9, 9), denver(2027, 11, 12, 9)])
    deliver_due(denver(2027, 11, 1, 9))
    evening = denver(2027, 11, 8, 18)
    assert queue_due_reminders(evening) == 1
    deliver_due(evening)
    assert reminders(smtp_server) == ["Reminder: your appointment tomorrow – Mindset TMS"]
    # The visit moves to Thursday: its reminder is due again, for the new time.
    move(course.id, {1: denver(2027, 11, 11, 14)})
    assert reminded(course.id)[1] is None
    assert queue_due_reminders(denver(2027, 11, 10, 15)) == 1
    deliver_due(denver(2027, 11, 10, 15))
    assert reminders(smtp_server)[-1] == "Reminder: your appointment tomorrow – Mindset TMS"
    [last] = [i.message for i in smtp_server.to("ada@example.com")][-1:]
    body = last.get_body(("plain",)).get_content()
    assert "2:00" in body and "visit 1 of 2" in body


def test_no_reminder_without_email_or_for_cancelled_or_far_visits(ctx, smtp_server):
    from tests.fixtures_courses import cancel

    make_course([denver(2027, 3, 9, 9)], email=None)
    course = make_course([denver(2027, 3, 9, 10), denver(2027, 3, 20, 9)], email="bo@example.com")
    cancel(course.id, [1])
    assert queue_due_reminders(denver(2027, 3, 8, 12)) == 0
    assert [row.kind for row in outbox_rows()] == ["course_planned", "course_changed"]


def test_spanish_reminder(ctx, smtp_server):
    make_course([denver(2027, 3, 9, 9)], email="eva@example.com", locale="es", name="Eva Pérez")
    queue_due_reminders(denver(2027, 3, 8, 12))
    deliver_due(denver(2027, 3, 8, 12))
    assert reminders(smtp_server, "eva@example.com") == ["Recordatorio: su visita de mañana – Mindset TMS"]


def test_a_reminder_queued_before_a_move_is_not_sent(ctx, smtp_server):
    course = make_course([denver(2027, 3, 9, 9), denver(2027, 3, 12, 9)])
    deliver_due(denver(2027, 3, 1, 9))
    assert queue_due_reminders(denver(2027, 3, 8, 12)) == 1
    move(course.id, {1: denver(2027, 3, 10, 9)})  # before the worker sent it
    deliver_due(denver(2027, 3, 8, 12))
    assert reminders(smtp_server) == []
    assert [row.status for row in outbox_rows("course_reminder")] == ["cancelled"]
    assert queue_due_reminders(denver(2027, 3, 9, 12)) == 1  # the new time's own reminder
