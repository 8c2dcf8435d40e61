"""Courses made straight from the models (the rows a course service writes), and changes to
them that call the patient notifications as the service does, inside the change's transaction
(raising a moved or cancelled session's SEQUENCE first, as app.courses.service does)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

DENVER = ZoneInfo("America/Denver")


def denver(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A clinic wall-clock time as the UTC instant it is that day (DST included)."""
    return datetime(year, month, day, hour, minute, tzinfo=DENVER).astimezone(UTC)


@dataclass
class PlannedCourse:
    id: int
    public_id: str
    token: str


def _basics(session):
    from app.models.schedule import AppointmentType, Chair, CourseTemplate

    chairs = session.execute(select(Chair).order_by(Chair.position)).scalars().all()
    if chairs:
        template = session.execute(select(CourseTemplate)).scalars().first()
        return chairs, template
    first = AppointmentType(key="first_session", name="First session", minutes=60)
    regular = AppointmentType(key="session", name="Session", minutes=30)
    chairs = [Chair(name="Chair 1", position=1), Chair(name="Chair 2", position=2)]
    session.add_all([first, regular, *chairs])
    session.flush()
    template = CourseTemplate(
        key="standard",
        name="Standard 36",
        first_type=first,
        session_type=regular,
        cadence=json.dumps(
            [
                {"weeks": 6, "per_week": 5},
                {"weeks": 1, "per_week": 3},
                {"weeks": 1, "per_week": 2},
                {"weeks": 1, "per_week": 1},
            ]
        ),
    )
    session.add(template)
    session.flush()
    return chairs, template


def new_uid() -> str:
    return f"{uuid.uuid4().hex}@mindset-tms.example"


def make_course(
    starts: list[datetime],
    *,
    email: str | None = "ada@example.com",
    locale: str = "en",
    name: str = "Ada Lovelace",
    chair_index: int = 0,
    notify: bool = True,
) -> PlannedCourse:
    """A course with one session at each of `starts` (the first 60 minutes, the rest 30), planned
    in one transaction that also queues the planned email (`notify`)."""
    from app.core.database import write_transaction
    from app.courses import notifications
    from app.models.schedule import Course, CourseSession

    with write_transaction() as session:
        chairs, template = _basics(session)
        course = Course(
            template=template,
            name=name,
            email=email,
            phone="+19705550123",
            locale=locale,
            preferred_time=time(9, 0),
            page_token_hash="",
        )
        token = notifications.new_course_page_token(course)
        session.add(course)
        session.flush()
        for number, start in enumerate(starts, 1):
            session_type = template.first_type if number == 1 else template.session_type
            session.add(
                CourseSession(
                    course=course,
                    number=number,
                    type_id=session_type.id,
                    chair_id=chairs[chair_index].id,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=session_type.minutes),
                    ical_uid=new_uid(),
                )
            )
        session.flush()
        if notify:
            notifications.course_planned(course, token)
        return PlannedCourse(course.id, course.public_id, token)


def move(course_id: int, moves: dict[int, datetime], chair_index: int | None = None) -> None:
    """Move sessions (by number) to new starts, keeping their lengths; one change, one call."""
    from app.core.database import write_transaction
    from app.courses import notifications
    from app.models.schedule import Chair, Course

    with write_transaction() as session:
        course = session.get(Course, course_id)
        changed = []
        for s in course.sessions:
            if s.number in moves:
                length = s.ends_at - s.starts_at
                s.starts_at, s.ends_at = moves[s.number], moves[s.number] + length
                if chair_index is not None:
                    s.chair = session.execute(select(Chair).order_by(Chair.position)).scalars().all()[chair_index]
                s.ical_sequence += 1  # as the course service does for a change
                changed.append(s)
        notifications.course_changed(course, changed, [])


def cancel(course_id: int, numbers: list[int]) -> None:
    from app.core.database import write_transaction
    from app.courses import notifications
    from app.models.schedule import SESSION_CANCELLED, Course

    with write_transaction() as session:
        course = session.get(Course, course_id)
        cancelled = [s for s in course.sessions if s.number in numbers]
        for s in cancelled:
            s.status = SESSION_CANCELLED
            s.ical_sequence += 1
        notifications.course_changed(course, [], cancelled)


def add(course_id: int, start: datetime) -> int:
    """A session added at the end of the course (as after a missed one); returns its number."""
    from app.core.database import write_transaction
    from app.courses import notifications
    from app.models.schedule import Course, CourseSession

    with write_transaction() as session:
        course = session.get(Course, course_id)
        last = course.sessions[-1]
        number = max(s.number for s in course.sessions) + 1
        added = CourseSession(
            course=course,
            number=number,
            type_id=course.template.session_type_id,
            chair_id=last.chair_id,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            ical_uid=new_uid(),
        )
        session.add(added)
        session.flush()
        notifications.course_changed(course, [added], [])
        return number


def planned_sessions(course_id: int) -> set[tuple[str, datetime, datetime]]:
    """(UID, start, end) of every session the database says takes place (not cancelled)."""
    from app.core.extensions import db
    from app.models.schedule import SESSION_CANCELLED, CourseSession

    db.session.expire_all()
    rows = db.session.execute(
        select(CourseSession).where(CourseSession.course_id == course_id, CourseSession.status != SESSION_CANCELLED)
    )
    return {(s.ical_uid, s.starts_at, s.ends_at) for s in rows.scalars()}
