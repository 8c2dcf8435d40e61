"""Treatment chairs, appointment types, course templates, courses and their sessions.

A chair holds one patient at a time. The database decides: every planned session writes one
`ChairHold` row per five-minute cell it covers, under a unique index on (chair, cell), so two
sessions that overlap on one chair can never both be committed, whatever their lengths, on
SQLite and PostgreSQL alike (app.schedule.holds is the one function that writes them).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, new_public_id, utcnow

# Every hold is made of cells this long; durations and opening times are multiples of it.
CELL_MINUTES = 5

COURSE_PLANNED, COURSE_PAUSED, COURSE_ENDED, COURSE_COMPLETED = (
    "planned",
    "paused",
    "ended",
    "completed",
)
COURSE_STATUSES = (COURSE_PLANNED, COURSE_PAUSED, COURSE_ENDED, COURSE_COMPLETED)

SESSION_PLANNED, SESSION_ATTENDED, SESSION_MISSED, SESSION_CANCELLED = (
    "planned",
    "attended",
    "missed",
    "cancelled",
)
SESSION_STATUSES = (SESSION_PLANNED, SESSION_ATTENDED, SESSION_MISSED, SESSION_CANCELLED)


class Chair(Base):
    """A treatment chair (a resource): one patient at a time."""

    __tablename__ = "chair"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Chair {self.name}>"


class AppointmentType(Base):
    """What a visit is and how long it takes, and whether it needs a chair."""

    __tablename__ = "appointment_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A stable name for code and seeds: "consultation", "first_session", "session", ...
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    minutes: Mapped[int]
    needs_chair: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseTemplate(Base):
    """A course's shape: its first session, the sessions after it, and their weekly cadence.

    `cadence` is JSON: a list of phases, each {"weeks": n, "per_week": k}; a phase with five
    a week uses weekdays, with fewer it spreads them (Mon/Wed/Fri, Mon/Thu, Mon).
    """

    __tablename__ = "course_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    first_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_type.id"))
    session_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_type.id"))
    cadence: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    first_type: Mapped[AppointmentType] = relationship(foreign_keys=[first_type_id])
    session_type: Mapped[AppointmentType] = relationship(foreign_keys=[session_type_id])

    @property
    def phases(self) -> list[dict[str, int]]:
        return list(json.loads(self.cadence))

    @property
    def session_count(self) -> int:
        return sum(p["weeks"] * p["per_week"] for p in self.phases)


class Course(Base):
    """One patient's course of treatment: its sessions, authorisation and private page."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    template_id: Mapped[int] = mapped_column(ForeignKey("course_template.id"))
    # The consultation it came from, when there was one.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), default=None)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str] = mapped_column(String(32), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default=COURSE_PLANNED)
    # The time of day asked for (local clinic time) and the chair asked for, if any.
    preferred_time: Mapped[time]
    preferred_chair_id: Mapped[int | None] = mapped_column(ForeignKey("chair.id"), default=None)
    # Insurance: sessions authorised and until when; both None with self_pay.
    self_pay: Mapped[bool] = mapped_column(default=False)
    authorised_sessions: Mapped[int | None] = mapped_column(default=None)
    authorised_until: Mapped[date | None] = mapped_column(Date, default=None)
    # Only a SHA-256 of the course page token is kept (as for manage links).
    page_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    end_reason: Mapped[str | None] = mapped_column(Text, default=None)
    planned_by: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    template: Mapped[CourseTemplate] = relationship()
    sessions: Mapped[list[CourseSession]] = relationship(back_populates="course", order_by="CourseSession.number")


class CourseSession(Base):
    """One visit of a course on one chair. Each is its own calendar event (its own UID)."""

    __tablename__ = "course_session"
    __table_args__ = (UniqueConstraint("course_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    number: Mapped[int]
    type_id: Mapped[int] = mapped_column(ForeignKey("appointment_type.id"))
    chair_id: Mapped[int] = mapped_column(ForeignKey("chair.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=SESSION_PLANNED)
    ical_uid: Mapped[str] = mapped_column(String(128), unique=True)
    ical_sequence: Mapped[int] = mapped_column(default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship(back_populates="sessions")
    type: Mapped[AppointmentType] = relationship()
    chair: Mapped[Chair] = relationship()


class ChairHold(Base):
    """One five-minute cell of one chair, held by one session: the no-overlap guarantee."""

    __tablename__ = "chair_hold"
    __table_args__ = (UniqueConstraint("chair_id", "cell_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chair_id: Mapped[int] = mapped_column(ForeignKey("chair.id"))
    cell_start: Mapped[datetime] = mapped_column(UTCDateTime)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_session.id", ondelete="CASCADE"), index=True)


Index("ix_course_session_chair_start", CourseSession.chair_id, CourseSession.starts_at)
