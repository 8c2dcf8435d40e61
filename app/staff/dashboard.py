"""The figures on the staff dashboard: today's consultations (first, for the front desk at
8 a.m.), this week's count and free times left, new bookings since the last visit, the
no-show rate of the last 90 days, and bookings and no-shows per week over 12 weeks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, case, func, literal_column, select

from app.busy.overlap import BusyIn, busy_sources
from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.models import Booking, Slot, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED
from app.models.staff import StaffUser
from app.schedule.clinic_time import clinic_today, day_range, start_of_day, week_start
from app.staff.bookings_admin import BookingRow, booking_rows, select_rows

NO_SHOW_DAYS = 90
CHART_WEEKS = 12


@dataclass(frozen=True)
class WeekFigures:
    monday: date
    bookings: int  # confirmed consultations that week (cancelled ones are not counted)
    no_shows: int

    @property
    def label(self) -> str:
        """'Dec 7': the chart names each week three times (a call in the template costs more)."""
        return f"{self.monday:%b} {self.monday.day}"


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
    today: list[BookingRow]
    this_week: list[BookingRow]
    new_since: datetime | None
    new_bookings: list[BookingRow]
    no_show: NoShowRate
    free_this_week: int = 0  # free, unblocked times from now to the end of Sunday
    weeks: list[WeekFigures] = field(default_factory=list)
    # This week's consultations not yet over that overlap a busy time in a staff calendar,
    # by slot id: the booking stands, but someone should look.
    clashes: dict[int, list[BusyIn]] = field(default_factory=dict)
    # Tomorrow's phone-only consultations: no reminder email reaches them, so the desk calls.
    to_call: list[BookingRow] = field(default_factory=list)

    @property
    def clashing(self) -> list[BookingRow]:
        return [b for b in self.this_week if b.slot_id in self.clashes]

    @property
    def chart_max(self) -> int:
        return max([w.bookings for w in self.weeks] + [1])


# The dashboard's statements are built once, with bound parameters: building them was a
# fifth of the page's time.
@cache
def _confirmed_statement():
    return (
        select_rows()
        .where(BOOKING_IS_CONFIRMED, Slot.starts_at >= bindparam("start"), Slot.starts_at < bindparam("end"))
        .order_by(Slot.starts_at)
    )


def _confirmed_between(start: datetime, end: datetime) -> list[BookingRow]:
    return booking_rows(_confirmed_statement(), {"start": start, "end": end})


@cache
def _newest_statement():
    return select_rows().where(Booking.created_at > bindparam("since")).order_by(Booking.created_at.desc()).limit(20)


@cache
def _no_show_statement():
    return (
        select(Booking.attendance, func.count(Booking.id))
        .join(Slot, Booking.slot_id == Slot.id)
        .where(BOOKING_IS_CONFIRMED, Slot.starts_at >= bindparam("since"), Slot.starts_at < bindparam("now"))
        .group_by(Booking.attendance)
    )


def no_show_rate(now: datetime) -> NoShowRate:
    since = now - timedelta(days=NO_SHOW_DAYS)
    counts = dict(db.session.execute(_no_show_statement(), {"since": since, "now": now}).all())
    no_shows, attended = counts.get("no_show", 0), counts.get("attended", 0)
    return NoShowRate(no_shows=no_shows, recorded=no_shows + attended, unrecorded=counts.get(None, 0))


@cache
def _free_statement():
    return select(func.count(Slot.id)).where(
        Slot.starts_at >= bindparam("start"),
        Slot.starts_at < bindparam("end"),
        Slot.is_blocked.is_(False),
        ~Slot.is_booked,
    )


def free_between(start: datetime, end: datetime) -> int:
    return db.session.execute(_free_statement(), {"start": start, "end": end}).scalar_one()


@cache
def _weekly_statement(weeks: int):
    """Confirmed consultations and no-shows per week in one GROUP BY: week n ends where
    :start_n of week n + 1 begins. Built once; the weeks' starts are bound each time."""
    week = case(*((Slot.starts_at < bindparam(f"start_{n}"), n - 1) for n in range(1, weeks)), else_=weeks - 1).label(
        "week_number"
    )
    return (
        select(week, func.count(), func.count(case((Booking.attendance == "no_show", 1))))
        .join(Booking, Booking.slot_id == Slot.id)
        .where(BOOKING_IS_CONFIRMED, Slot.starts_at >= bindparam("start_0"), Slot.starts_at < bindparam("end"))
        .group_by(literal_column("week_number"))
    )


def weekly(this_monday: date, weeks: int = CHART_WEEKS) -> list[WeekFigures]:
    """Confirmed consultations and no-shows per clinic week, the last `weeks` weeks up to
    and including this one, oldest first (weeks with none are zero)."""
    mondays = [this_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    starts = {f"start_{n}": start_of_day(monday) for n, monday in enumerate(mondays)}
    rows = db.session.execute(
        _weekly_statement(weeks), {**starts, "end": start_of_day(this_monday + timedelta(days=7))}
    ).all()
    counts = {number: (booked, no_shows) for number, booked, no_shows in rows}
    return [WeekFigures(monday, *counts.get(n, (0, 0))) for n, monday in enumerate(mondays)]


def day_sheet(on: date, actor: StaffUser) -> list[BookingRow]:
    """The day's consultations in time order, for the printed day list; printing personal
    details is logged like opening a booking."""
    with write_transaction() as session:
        audit.record(session, actor, "day.print", details=on.isoformat())
    return _confirmed_between(*day_range(on, on))


def summary(user: StaffUser, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    on = clinic_today(now)
    monday = week_start(on)
    new_since = user.previous_sign_in_at
    week_start_at, week_end = day_range(monday, monday + timedelta(days=6))
    today_start, today_end = day_range(on, on)
    tomorrow_start, tomorrow_end = day_range(on + timedelta(days=1), on + timedelta(days=1))
    # One read for the week and tomorrow (the next week's Monday, on a Sunday): today's list
    # and tomorrow's calls are picked from its rows.
    read = _confirmed_between(week_start_at, max(week_end, tomorrow_end))
    this_week = [b for b in read if b.starts_at < week_end]
    return Dashboard(
        today=[b for b in this_week if today_start <= b.starts_at < today_end],
        this_week=this_week,
        new_since=new_since,
        new_bookings=booking_rows(_newest_statement(), {"since": new_since or now - timedelta(days=7)}),
        no_show=no_show_rate(now),
        free_this_week=free_between(now, week_end),
        weeks=weekly(monday),
        clashes=busy_sources([b.slot_id for b in this_week if b.ends_at > now]),
        # Phone-only: no reminder email reaches them.
        to_call=[b for b in read if tomorrow_start <= b.starts_at < tomorrow_end and b.email is None],
    )
