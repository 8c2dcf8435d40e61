"""Booking commands: `flask seed-demo` (demo opening hours and slots, and with
--with-bookings a handful of demo bookings) and `flask regenerate-slots`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import click
from flask import Flask
from sqlalchemy import func, select

from app.booking import service
from app.booking.slots import count_slots, regenerate_slots
from app.core.actors import THE_PATIENT
from app.core.database import write_transaction
from app.core.timefmt import clinic_zone
from app.models import AvailabilityRule, Booking, Slot, utcnow
from app.models.booking import MODES
from app.schedule.holidays import public_holidays

DEMO_HOURS = ((time(9, 0), time(12, 0)), (time(13, 0), time(17, 0)))


def seed_demo(days: int | None = None) -> tuple[bool, int]:
    """Demo opening hours (weekdays 9-12 and 1-5, 30-minute consultations, all modes) and the
    slots they give for `days` days (default: the booking horizon, as the worker keeps them).
    Idempotent: rules (and closures on the coming year's public holidays) are added only when
    there are none."""
    from app.staff.availability_admin import close_public_holidays

    created_rules = False
    with write_transaction() as session:
        if session.execute(select(func.count(AvailabilityRule.id))).scalar_one() == 0:
            for weekday in range(5):
                for start, end in DEMO_HOURS:
                    session.add(
                        AvailabilityRule(
                            weekday=weekday, start_time=start, end_time=end, slot_minutes=30, modes=",".join(MODES)
                        )
                    )
            created_rules = True
    report = regenerate_slots(days=days)
    if created_rules:
        close_public_holidays(None)  # takes the holidays' slots away again
    return created_rules, report.added


# (name, email, mode, hours from now, attendance): two today (one already started), three
# in past weeks with attendance recorded, two in the coming days. Each is moved to the
# nearest demo opening time on the same side of now (today's stay today when it is open).
DEMO_BOOKINGS = (
    ("Maria Gonzalez", "maria.demo@example.com", "in_person", -1, None),
    ("James Whitfield", "james.demo@example.com", "phone", 2, None),
    ("Linda Park", "linda.demo@example.com", "video", -24 * 9, "attended"),
    ("Robert Chen", "robert.demo@example.com", "in_person", -24 * 16, "no_show"),
    ("Susan Miller", "susan.demo@example.com", "phone", -24 * 30, "attended"),
    ("David Brown", "david.demo@example.com", "video", 24 * 2, None),
    ("Karen Wilson", "karen.demo@example.com", "in_person", 24 * 4, None),
)
DEMO_WEEKDAYS = range(5)
DEMO_SLOT = timedelta(minutes=30)


def demo_opening_times(first: date, last: date) -> list[datetime]:
    """Every start of a demo consultation (DEMO_HOURS on DEMO_WEEKDAYS but public holidays)
    from `first` to `last`, local days, as UTC instants."""
    zone = clinic_zone()
    holidays = {day for day, _name in public_holidays(first, last)}
    found = []
    day = first
    while day <= last:
        if day.weekday() in DEMO_WEEKDAYS and day not in holidays:
            for opens, closes in DEMO_HOURS:
                at = datetime.combine(day, opens, zone)
                while at + DEMO_SLOT <= datetime.combine(day, closes, zone):
                    found.append(at.astimezone(UTC))
                    at += DEMO_SLOT
        day += timedelta(days=1)
    return found


def demo_time(now: datetime, hours: float, taken: set[datetime]) -> datetime:
    """The demo opening time nearest `now + hours`, on the same side of now (started before
    it for a past one, after it for a coming one), today when `hours` is under a day and
    today has such a time, and not in `taken`."""
    target = now + timedelta(hours=hours)
    zone = clinic_zone()
    local_target = target.astimezone(zone).date()
    candidates = [
        at
        for at in demo_opening_times(local_target - timedelta(days=14), local_target + timedelta(days=14))
        if at not in taken and ((at < now) if hours < 0 else (at > now))
    ]
    if abs(hours) < 24:
        today = now.astimezone(zone).date()
        candidates = [at for at in candidates if at.astimezone(zone).date() == today] or candidates
    return min(candidates, key=lambda at: (abs(at - target), at))


def _demo_slot(starts_at: datetime) -> Slot:
    """The slot at `starts_at` (a past one is made: slots are generated ahead only)."""
    with write_transaction() as session:
        slot = session.execute(select(Slot).where(Slot.starts_at == starts_at)).scalar_one_or_none()
        if slot is None:
            slot = Slot(starts_at=starts_at, ends_at=starts_at + DEMO_SLOT, modes=",".join(MODES), source="rule")
            session.add(slot)
        elif slot.is_blocked or slot.bookings:
            raise click.ClickException("The demo time is not free.")
    return slot


def seed_demo_bookings(now: datetime | None = None) -> int:
    """Demo bookings made through the booking service (so they have their emails and manage
    tokens), each booked half a day before its time, inside the demo opening hours; past
    ones get their attendance, and their emails are withdrawn (never sent after the fact).
    Does nothing when there are bookings already."""
    from app.mail import outbox
    from app.staff.bookings_admin import set_attendance

    now = now or utcnow()
    with write_transaction() as session:
        if session.execute(select(func.count(Booking.id))).scalar_one():
            return 0
    taken: set[datetime] = set()
    made = 0
    for name, email, mode, hours, attendance in DEMO_BOOKINGS:
        starts_at = demo_time(now, hours, taken)
        taken.add(starts_at)
        slot = _demo_slot(starts_at)
        # Booked 12 hours ahead: the notice period is met and no reminder falls due.
        booked_at = min(now, slot.starts_at - timedelta(hours=12))
        details = service.PatientDetails(name=name, email=email, phone="+19705550142", interest="tms")
        booking = service.book(slot.public_id, mode, details, now=booked_at, actor=THE_PATIENT).booking
        if starts_at < now:
            with write_transaction():
                outbox.withdraw_pending(booking, kind=None)
        if attendance:
            set_attendance(booking.public_id, attendance, None, now=now)
        made += 1
    return made


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option(
        "--days", type=int, default=None, help="How many days of slots to create (default: BOOKING_HORIZON_DAYS)."
    )
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has slots.")
    @click.option(
        "--with-bookings",
        is_flag=True,
        help="Also add a handful of demo bookings (today, past with attendance, coming days).",
    )
    def seed_demo_command(days: int | None, if_empty: bool, with_bookings: bool) -> None:
        """Fill the coming weeks with demo consultation slots (safe to run again)."""
        if if_empty and count_slots() > 0:
            click.echo("Slots already exist; not seeding.")
            return
        created_rules, added = seed_demo(days)
        if created_rules:
            click.echo("Added demo opening hours: weekdays 9:00-12:00 and 13:00-17:00.")
        click.echo(f"Added {added} slots.")
        if with_bookings:
            from app.courses.demo import seed_demo_courses

            click.echo(f"Added {seed_demo_bookings()} demo bookings.")
            click.echo(f"Added {seed_demo_courses()} demo treatment courses.")

    @app.cli.command("regenerate-slots")
    def regenerate_command() -> None:
        """Bring generated slots in line with the opening hours for the booking horizon."""
        report = regenerate_slots()
        click.echo(
            f"added {report.added}, removed {report.removed}, retired {report.retired}, updated {report.updated}"
        )
