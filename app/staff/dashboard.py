"""The figures on the staff dashboard: today's and this week's consultations, new bookings
since the last visit, and the no-show rate of the last 90 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Booking, Slot, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED
from app.models.staff import StaffUser
from app.staff.clinic_time import day_range, today, week_start

NO_SHOW_DAYS = 90


@dataclass(frozen=True)
class NoShowRate:
    no_shows: int
    recorded: int  # consultations marked attended or no-show
    unrecorded: int  # past consultations with nothing marked yet

    @property
    def percent(self) -> int | None:
        return round(100 * self.no_shows / self.recorded) if self.recorded else None


@dataclass(frozen=True)
class Dashboard:
    today: list[Booking]
    this_week: list[Booking]
    new_since: datetime | None
    new_bookings: list[Booking]
    no_show: NoShowRate


def _confirmed_between(start: datetime, end: datetime) -> list[Booking]:
    return list(db.session.execute(
        select(Booking).join(Slot).where(BOOKING_IS_CONFIRMED,
                                         Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at)
    ).scalars())


def no_show_rate(now: datetime) -> NoShowRate:
    since = now - timedelta(days=NO_SHOW_DAYS)
    counts = dict(db.session.execute(
        select(Booking.attendance, func.count(Booking.id)).join(Slot)
        .where(BOOKING_IS_CONFIRMED, Slot.starts_at >= since, Slot.starts_at < now)
        .group_by(Booking.attendance)
    ).all())
    no_shows, attended = counts.get("no_show", 0), counts.get("attended", 0)
    return NoShowRate(no_shows=no_shows, recorded=no_shows + attended, unrecorded=counts.get(None, 0))


def summary(user: StaffUser, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    on = today(now)
    monday = week_start(on)
    new_since = user.previous_sign_in_at
    new_query = select(Booking).join(Slot).order_by(Booking.created_at.desc()).limit(20)
    if new_since is not None:
        new_query = new_query.where(Booking.created_at > new_since)
    else:
        new_query = new_query.where(Booking.created_at > now - timedelta(days=7))
    return Dashboard(
        today=_confirmed_between(*day_range(on, on)),
        this_week=_confirmed_between(*day_range(monday, monday + timedelta(days=6))),
        new_since=new_since,
        new_bookings=list(db.session.execute(new_query).scalars()),
        no_show=no_show_rate(now),
    )
