"""What the patient's course page reads: the course its private token names, and the course
as the patient sees it (visits done and left, the next ones, which may still be moved online)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.core.extensions import db
from app.core.timefmt import clinic_zone, to_local
from app.core.tokens import hash_token, looks_like_token
from app.courses import service
from app.courses.errors import CourseError, InvalidCourseInput, TimeNotOpen
from app.models import utcnow
from app.models.schedule import (
    COURSE_PLANNED,
    SESSION_ATTENDED,
    SESSION_CANCELLED,
    SESSION_MISSED,
    SESSION_PLANNED,
    Course,
    CourseSession,
)
from app.schedule import free
from app.schedule.errors import ChairTaken

NEXT_SHOWN = 3  # how many coming visits the page shows first, with where and when


def find_by_token(token: str) -> Course | None:
    """The course this page token names (only its hash is stored, as for manage links)."""
    if not looks_like_token(token):
        return None
    return db.session.execute(select(Course).where(Course.page_token_hash == hash_token(token))).scalar_one_or_none()


def move_notice() -> timedelta:
    """How far ahead a visit must be to be moved online: the booking notice (BOOKING_MIN_NOTICE_HOURS)."""
    return timedelta(hours=current_app.config["BOOKING_MIN_NOTICE_HOURS"])


def can_move(course: Course, session: CourseSession, now: datetime) -> bool:
    """Whether the patient may ask online to move this visit: a planned visit of a running
    course, at least the booking notice away (nearer than that, they call the clinic)."""
    return (
        course.status == COURSE_PLANNED
        and session.status == SESSION_PLANNED
        and session.starts_at - now >= move_notice()
    )


@dataclass(frozen=True)
class CourseOverview:
    course: Course
    visits: list[CourseSession]  # every visit that takes or took place, in time order
    done: int  # attended
    missed: int
    left: int  # planned and still to come
    next: list[CourseSession]
    later: list[CourseSession]
    movable: frozenset[int]  # session ids the patient may ask to move
    unapproved: frozenset[int]  # session ids past the insurer's authorised count or date

    @property
    def total(self) -> int:
        return len(self.visits)


def overview(course: Course, now: datetime) -> CourseOverview:
    visits = sorted((s for s in course.sessions if s.status != SESSION_CANCELLED), key=lambda s: s.starts_at)
    coming = [s for s in visits if s.status == SESSION_PLANNED and s.ends_at > now]
    return CourseOverview(
        course=course,
        visits=visits,
        done=sum(1 for s in visits if s.status == SESSION_ATTENDED),
        missed=sum(1 for s in visits if s.status == SESSION_MISSED),
        left=len(coming),
        next=coming[:NEXT_SHOWN],
        later=coming[NEXT_SHOWN:],
        movable=frozenset(s.id for s in coming if can_move(course, s, now)),
        unapproved=frozenset(s.id for s in coming if service.is_past_authorisation(course, s)),
    )


# --- asking to move one visit ---------------------------------------------------------------

MOVE_DAYS = 14  # how many clinic days ahead the patient may pick a new time on
MOVE_STEP_MINUTES = 15  # the times offered on a day are on these minutes of the hour


class MoveRefused(Exception):
    """The patient's move cannot be made; `message` says why, in their language."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def move_days(now: datetime) -> list[date]:
    """The days a visit may be moved to: from the first day the notice allows, MOVE_DAYS on."""
    first = to_local(now + move_notice()).date()
    return [first + timedelta(days=n) for n in range(MOVE_DAYS)]


def free_times(course: Course, item: CourseSession, on: date, now: datetime) -> list[datetime]:
    """The times on `on` the visit could move to: free on some chair in use for its whole length
    (app.schedule.free, the one answer to "is this free"), at least the booking notice away,
    every quarter hour, on a day the course has no other visit (one a day)."""
    if on not in move_days(now):
        return []
    zone = clinic_zone()
    if any(
        s.starts_at.astimezone(zone).date() == on
        for s in course.sessions
        if s.status != SESSION_CANCELLED and s.id != item.id
    ):
        return []
    minutes = int((item.ends_at - item.starts_at).total_seconds() // 60)
    starts = free.free_times(on, minutes, except_session_ids=[item.id], now=now + move_notice())
    return [at for at, _chair in starts if to_local(at).minute % MOVE_STEP_MINUTES == 0]


def visit_by_number(course: Course, number: int) -> CourseSession | None:
    return next((s for s in course.sessions if s.number == number), None)


def ask_to_move(token: str, number: int, starts_at: datetime, now: datetime | None = None) -> list[CourseSession]:
    """Move one visit of the course `token` names to `starts_at`, on any free chair (the course
    service's move, in its transaction; the update email carries the page link). Raises
    MoveRefused with the reason in the patient's words."""
    now = now or utcnow()
    course = find_by_token(token)
    item = visit_by_number(course, number) if course else None
    if course is None or item is None:
        raise MoveRefused(_("This visit could not be found."), 404)
    if not can_move(course, item, now):
        raise MoveRefused(_("This visit is too soon to move online. Please call us."))
    if starts_at not in free_times(course, item, to_local(starts_at).date(), now):
        raise MoveRefused(_("That time is no longer free. Please choose another."))
    try:
        return service.move_session(course.public_id, number, starts_at, now=now, page_token=token)
    except (ChairTaken, TimeNotOpen, InvalidCourseInput):
        raise MoveRefused(_("That time is no longer free. Please choose another.")) from None
    except CourseError:
        raise MoveRefused(_("This visit can no longer be moved online. Please call us.")) from None
