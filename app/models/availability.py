"""Weekly opening rules and date overrides from which slots are generated."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow
from app.models.booking import MODES


class AvailabilityRule(Base):
    """On a weekday (0 = Monday), consultations between two local times."""

    __tablename__ = "availability_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]
    slot_minutes: Mapped[int] = mapped_column(default=30)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    modes: Mapped[str] = mapped_column(String(64), default=",".join(MODES))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DateOverride(Base):
    """A date that differs from the weekly rules: closed (all day) or with extra hours."""

    __tablename__ = "date_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    on_date: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "closed" or "extra"
    start_time: Mapped[time | None] = mapped_column(default=None)
    end_time: Mapped[time | None] = mapped_column(default=None)
    slot_minutes: Mapped[int] = mapped_column(default=30)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    modes: Mapped[str] = mapped_column(String(64), default=",".join(MODES))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
