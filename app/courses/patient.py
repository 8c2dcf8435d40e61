"""What the patient's course page reads: the course its private token names, and the course
as the patient sees it (visits done and left, the next ones, which may still be moved online)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.core.extensions import db
from app.core.tokens import hash_token, looks_like_token
from app.models.schedule import (
    COURSE_PLANNED,
    SESSION_ATTENDED,
    SESSION_CANCELLED,
    SESSION_MISSED,
    SESSION_PLANNED,
    Course,
    CourseSession,
)

NEXT_SHOWN = 3  # how many coming visits the page shows first, with where and when


def find_by_token(token: str) -> Course | None:
    """The course this page token names (only its hash is stored, as for manage links)."""
    if not looks_like_token(token):
        return None
    return db.session.execute(
        select(Course).where(Course.page_token_hash == hash_token(token))).scalar_one_or_none()


def move_notice() -> timedelta:
    """How far ahead a visit must be to be moved online: the booking notice (BOOKING_MIN_NOTICE_HOURS)."""
    return timedelta(hours=int(current_app.config.get("BOOKING_MIN_NOTICE_HOURS", 12)))


def can_move(course: Course, session: CourseSession, now: datetime) -> bool:
    """Whether the patient may ask online to move this visit: a planned visit of a running
    course, at least the booking notice away (nearer than that, they call the clinic)."""
    return (course.status == COURSE_PLANNED and session.status == SESSION_PLANNED
            and session.starts_at - now >= move_notice())


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

    @property
    def total(self) -> int:
        return len(self.visits)


def overview(course: Course, now: datetime) -> CourseOverview:
    visits = sorted((s for s in course.sessions if s.status != SESSION_CANCELLED),
                    key=lambda s: s.starts_at)
    coming = [s for s in visits if s.status == SESSION_PLANNED and s.ends_at > now]
    return CourseOverview(
        course=course, visits=visits,
        done=sum(1 for s in visits if s.status == SESSION_ATTENDED),
        missed=sum(1 for s in visits if s.status == SESSION_MISSED),
        left=len(coming), next=coming[:NEXT_SHOWN], later=coming[NEXT_SHOWN:],
        movable=frozenset(s.id for s in coming if can_move(course, s, now)))
