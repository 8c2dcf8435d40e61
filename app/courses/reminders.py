"""Course reminders: one email before each session, at most one a day per course.

The worker looks for sessions starting within REMINDER_HOURS_BEFORE that have not been
reminded (a moved session is due again: app.courses.notifications clears `reminded_at`) and
queues one reminder per course, for its earliest such session, unless the course already had
one on the clinic's day; the next one goes the next day. The email says "today" or
"tomorrow" as of the moment it is sent (app.mail.rendering), like a consultation's reminder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, select, update

from app.core.database import write_transaction
from app.core.timefmt import clinic_zone, to_local
from app.courses.notifications import course_event
from app.mail import outbox
from app.mail.outbox import Message
from app.models import utcnow
from app.models.schedule import COURSE_PLANNED, SESSION_PLANNED, Course, CourseSession


def clinic_day_start(now: datetime) -> datetime:
    """The UTC instant the clinic's current day began."""
    local = to_local(now)
    return datetime.combine(local.date(), datetime.min.time(), tzinfo=clinic_zone()).astimezone(UTC)


def queue_due_reminders(now: datetime | None = None) -> int:
    """Queue the reminders due at `now` (in one transaction); returns how many were queued."""
    now = now or utcnow()
    hours = current_app.config["REMINDER_HOURS_BEFORE"]
    if hours <= 0:
        return 0
    queued = 0
    with write_transaction() as session:
        due = (
            session.execute(
                select(CourseSession)
                .join(Course)
                .where(
                    CourseSession.status == SESSION_PLANNED,
                    CourseSession.reminded_at.is_(None),
                    CourseSession.starts_at > now,
                    CourseSession.starts_at <= now + timedelta(hours=hours),
                    Course.status == COURSE_PLANNED,
                    Course.email.is_not(None),
                    Course.email != "",
                )
                .order_by(CourseSession.starts_at)
            )
            .scalars()
            .all()
        )
        today = clinic_day_start(now)
        seen: set[int] = set()
        for course_session in due:
            course = course_session.course
            if course.id in seen:
                continue
            seen.add(course.id)
            reminded_today = session.execute(
                select(CourseSession.id)
                .where(CourseSession.course_id == course.id, CourseSession.reminded_at >= today)
                .limit(1)
            ).first()
            if reminded_today:
                continue
            # Claimed by this UPDATE, so two workers never both remind one session.
            claimed = cast(
                CursorResult,
                session.execute(
                    update(CourseSession)
                    .where(CourseSession.id == course_session.id, CourseSession.reminded_at.is_(None))
                    .values(reminded_at=now)
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
            if not claimed:
                continue
            assert course.email, "the query selects only courses with an email"
            outbox.enqueue_unbooked(
                Message(
                    outbox.COURSE_REMINDER,
                    to_address=course.email,
                    to_name=course.name,
                    details=course_event(course, [course_session], None),
                )
            )
            queued += 1
    return queued
