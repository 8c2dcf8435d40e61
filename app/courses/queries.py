"""What staff pages show about courses: courses in progress, a day's sessions per chair, and
how much of the week's chair time is planned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from app.core.extensions import db
from app.courses.service import ordinals
from app.models import Booking, Chair, Course, CourseSession
from app.models.schedule import COURSE_PAUSED, COURSE_PLANNED, SESSION_CANCELLED
from app.schedule.clinic_time import day_range
from app.schedule.opening_hours import opening_rules, opening_windows

IN_PROGRESS = (COURSE_PLANNED, COURSE_PAUSED)


@dataclass(frozen=True)
class SheetRow:
    session: CourseSession
    course: Course
    ordinal: int
    total: int

    @property
    def short_name(self) -> str:
        """First name and initial ("Ada L."): enough to greet, little on a printed sheet."""
        parts = self.course.name.split()
        if len(parts) < 2:
            return self.course.name
        return f"{parts[0]} {parts[-1][0]}."


def courses_in_progress() -> list[Course]:
    return list(
        db.session.execute(
            select(Course)
            .where(Course.status.in_(IN_PROGRESS))
            .order_by(Course.created_at.desc())
            .options(selectinload(Course.sessions), selectinload(Course.template))
        ).scalars()
    )


@cache
def _count_in_progress_statement():
    return select(func.count(Course.id)).where(Course.status.in_(IN_PROGRESS))


def count_in_progress() -> int:
    return db.session.execute(_count_in_progress_statement()).scalar_one()


def day_sheet(on: date) -> list[tuple[Chair, list[SheetRow]]]:
    """Each chair in use (and any other with sessions that day), with the day's sessions in order."""
    lower, upper = day_range(on, on)
    sessions = list(
        db.session.execute(
            select(CourseSession)
            .where(
                CourseSession.starts_at >= lower,
                CourseSession.starts_at < upper,
                CourseSession.status != SESSION_CANCELLED,
            )
            .order_by(CourseSession.starts_at)
            .options(selectinload(CourseSession.course).selectinload(Course.sessions))
        ).scalars()
    )
    chairs = list(db.session.execute(select(Chair).order_by(Chair.position, Chair.id)).scalars())
    sheet = []
    for chair in chairs:
        rows = []
        for item in sessions:
            if item.chair_id == chair.id:
                places = ordinals(item.course)
                rows.append(SheetRow(item, item.course, places.get(item.number, 0), len(places)))
        if rows or chair.is_active:
            sheet.append((chair, rows))
    return sheet


@dataclass(frozen=True)
class ChairUse:
    planned_minutes: int
    open_minutes: int

    @property
    def percent(self) -> int:
        return round(100 * self.planned_minutes / self.open_minutes) if self.open_minutes else 0


# The dashboard's statements, built once (it asks on every request).
@cache
def _active_chairs_statement():
    return select(Chair.id).where(Chair.is_active.is_(True))


@cache
def _planned_statement():
    return select(CourseSession.starts_at, CourseSession.ends_at).where(
        CourseSession.starts_at >= bindparam("lower"),
        CourseSession.starts_at < bindparam("upper"),
        CourseSession.status != SESSION_CANCELLED,
        CourseSession.chair_id.in_(bindparam("chairs", expanding=True)),
    )


def chair_use(monday: date) -> ChairUse:
    """Session minutes planned this week on the chairs in use, against their open minutes."""
    rules = opening_rules()
    active = list(db.session.execute(_active_chairs_statement()).scalars())
    open_minutes = 0
    for offset in range(7):
        for start, end in opening_windows(monday + timedelta(days=offset), rules):
            open_minutes += int((end - start).total_seconds() // 60)
    lower, upper = day_range(monday, monday + timedelta(days=6))
    planned = db.session.execute(_planned_statement(), {"lower": lower, "upper": upper, "chairs": active}).all()
    minutes = sum(int((end - start).total_seconds() // 60) for start, end in planned)
    return ChairUse(minutes, open_minutes * len(active))


def consultation_of(course: Course) -> Booking | None:
    """The consultation the course was planned from, if any."""
    return db.session.get(Booking, course.booking_id) if course.booking_id else None


def courses_for_booking(booking_id: int) -> list[Course]:
    return list(
        db.session.execute(select(Course).where(Course.booking_id == booking_id).order_by(Course.created_at)).scalars()
    )
