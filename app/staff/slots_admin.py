"""The week view of slots and what staff do to them: add a one-off time, block, unblock,
delete free times. A booked time is never blocked or deleted here: the booking is
cancelled or moved first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, exists, select

from app.booking import slot_records
from app.booking.rules import booking_window
from app.busy.overlap import BusyIn, busy_sources
from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import short_day, when
from app.models import Booking, Slot, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED, MODES
from app.models.staff import StaffUser
from app.schedule.clinic_time import clock, day_range, instant, local
from app.staff.availability_admin import close_slot_time


class SlotError(Exception):
    def __init__(self, message: str, bookings: list[Booking] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.bookings = bookings or []


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    booking: Booking | None
    is_past: bool
    inside_notice: bool = False  # not started, but too soon for patients: bookable by staff only
    # Calendars with a busy time overlapping this slot: a free slot is hidden from patients
    # (and from staff pickers); a booked one stays booked and is shown as a clash.
    busy_in: tuple[BusyIn, ...] = ()

    @property
    def state(self) -> str:
        if self.booking is not None:
            return "booked"
        return "blocked" if self.slot.is_blocked else "free"

    @property
    def is_hidden_by_busy(self) -> bool:
        return self.state == "free" and bool(self.busy_in)

    @property
    def is_clash(self) -> bool:
        return self.state == "booked" and bool(self.busy_in)


@dataclass(frozen=True)
class DayView:
    on: date
    slots: list[SlotView]

    def count(self, state: str) -> int:
        return sum(1 for s in self.slots if s.state == state)

    @property
    def hidden_by_busy(self) -> int:
        return sum(1 for s in self.slots if s.is_hidden_by_busy)


def week(monday: date, now: datetime | None = None) -> list[DayView]:
    now = now or utcnow()
    start, end = day_range(monday, monday + timedelta(days=6))
    rows = db.session.execute(
        select(Slot, Booking)
        .outerjoin(Booking, and_(Booking.slot_id == Slot.id, BOOKING_IS_CONFIRMED))
        .where(Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at)
    ).all()
    days: dict[date, list] = {monday + timedelta(days=i): [] for i in range(7)}
    earliest = booking_window(now).earliest
    busy = busy_sources([slot.id for slot, _booking in rows])
    for slot, booking in rows:
        days[local(slot.starts_at).date()].append(
            SlotView(
                slot, booking, slot.starts_at <= now, now < slot.starts_at < earliest, tuple(busy.get(slot.id, ()))
            )
        )
    return [DayView(on, slots) for on, slots in days.items()]


def who_can_book(slot: Slot, now: datetime | None = None) -> str:
    """The truth about a new time: patients can book it online only outside the notice period."""
    now = now or utcnow()
    window = booking_window(now)
    if slot.starts_at <= now:
        return "It has already started, so nobody can book it."
    if slot.starts_at < window.earliest:
        return "It is inside the notice period, so it is bookable by staff only: use New booking for a caller."
    if slot.starts_at > window.latest:
        return "It is beyond the booking horizon, so patients can book it once it comes into range."
    return "Patients can book it now."


def find(public_ids: list[str]) -> list[Slot]:
    if not public_ids:
        return []
    return list(
        db.session.execute(select(Slot).where(Slot.public_id.in_(public_ids)).order_by(Slot.starts_at)).scalars()
    )


def add_slot(
    on: date, at: time, minutes: int, modes: tuple[str, ...], actor: StaffUser | None, now: datetime | None = None
) -> Slot:
    now = now or utcnow()
    if not 5 <= minutes <= 240:
        raise SlotError("A consultation must last between 5 and 240 minutes.")
    if not modes or any(m not in MODES for m in modes):
        raise SlotError("Please tick at least one way to meet (in person, phone or video).")
    starts_at = instant(on, at)
    if starts_at is None:
        raise SlotError(
            f"{clock(at)} does not exist on {on:%B} {on.day}: the clocks go forward "
            "that night. Please choose another time."
        )
    if starts_at <= now:
        raise SlotError("That time has already passed. Please choose a later one.")
    ends_at = starts_at + timedelta(minutes=minutes)
    with write_transaction() as session:
        overlapping = session.execute(
            select(Slot, Slot.is_booked.label("booked"))
            .where(Slot.starts_at < ends_at, Slot.ends_at > starts_at)
            .order_by(Slot.starts_at)
        ).all()
        # A blocked, unbooked time at exactly this start is simply offered again.
        reusable = [s for s, booked in overlapping if s.starts_at == starts_at and s.is_blocked and not booked]
        clashes = [s for s, _ in overlapping if s not in reusable]
        if clashes:
            raise SlotError(
                f"There is already a consultation time at {when(clashes[0].starts_at)} "
                "that overlaps. The clinic runs one consultation at a time."
            )
        if reusable:
            slot = reusable[0]
            slot.is_blocked = False
            slot.ends_at, slot.modes = ends_at, ",".join(modes)
        else:
            slot = Slot(starts_at=starts_at, ends_at=ends_at, modes=",".join(modes), source="manual")
            session.add(slot)
            session.flush()
        slot_records.slot_freed(slot.id, slot_records.UNBLOCKED if reusable else slot_records.ADDED, now)
        audit.record(session, actor, "slot.add", details=f"{when(starts_at)}, {minutes} minutes")
    return slot


def _lock(session, public_ids: list[str]) -> list[tuple[Slot, bool]]:
    return list(
        session.execute(
            select(Slot, Slot.is_booked.label("booked"))
            .where(Slot.public_id.in_(public_ids))
            .order_by(Slot.starts_at)
            .with_for_update(of=Slot)
        ).all()
    )


def _summary(slots: list[Slot]) -> str:
    days = sorted({short_day(s.starts_at) for s in slots})
    return f"{len(slots)} time{'s' if len(slots) != 1 else ''} on {', '.join(days)}"


def set_blocked(public_ids: list[str], blocked: bool, actor: StaffUser | None, now: datetime | None = None) -> int:
    """Block (hide from patients) or unblock free future times. Returns how many changed."""
    now = now or utcnow()
    if not public_ids:
        raise SlotError("Please tick at least one time first.")
    with write_transaction() as session:
        rows = _lock(session, public_ids)
        booked = [slot for slot, is_booked in rows if is_booked]
        if blocked and booked:
            raise SlotError(
                f"{when(booked[0].starts_at)} is booked, so it cannot be blocked. Cancel or move that booking first.",
                bookings=_active_bookings(session, booked),
            )
        changed = [
            slot for slot, is_booked in rows if not is_booked and slot.starts_at > now and slot.is_blocked != blocked
        ]
        for slot in changed:
            slot.is_blocked = blocked
            if not blocked:
                slot_records.slot_freed(slot.id, slot_records.UNBLOCKED, now)
        if changed:
            audit.record(session, actor, "slot.block" if blocked else "slot.unblock", details=_summary(changed))
    return len(changed)


def _active_bookings(session, slots: list[Slot]) -> list[Booking]:
    return list(
        session.execute(
            select(Booking).where(Booking.slot_id.in_([s.id for s in slots]), BOOKING_IS_CONFIRMED)
        ).scalars()
    )


@dataclass(frozen=True)
class DeleteResult:
    deleted: int
    kept_as_blocked: int


def delete_slots(public_ids: list[str], actor: StaffUser | None, now: datetime | None = None) -> DeleteResult:
    """Delete free times. Refuses (changing nothing) when any is booked. A time with an
    earlier, cancelled booking is kept blocked so its history stays; a generated time gets a
    closure so regeneration does not bring it back."""
    now = now or utcnow()
    if not public_ids:
        raise SlotError("Please tick at least one time first.")
    has_history = exists().where(Booking.slot_id == Slot.id)
    with write_transaction() as session:
        rows = _lock(session, public_ids)
        booked = [slot for slot, is_booked in rows if is_booked]
        if booked:
            raise SlotError(
                f"{when(booked[0].starts_at)} is booked, so it cannot be deleted. "
                "Cancel or move that booking first, then delete the time.",
                bookings=_active_bookings(session, booked),
            )
        targets = [slot for slot, _ in rows if slot.starts_at > now]
        if not targets:
            raise SlotError("Times that have already passed are kept as they are.")
        with_history = set(
            session.execute(select(Slot.id).where(Slot.id.in_([s.id for s in targets]), has_history)).scalars()
        )
        deleted = kept = 0
        for slot in targets:
            if slot.source == "rule":
                close_slot_time(session, slot, "time removed in the calendar")
            if slot.id in with_history:
                slot.is_blocked = True
                kept += 1
            else:
                session.delete(slot)
                deleted += 1
        audit.record(session, actor, "slot.delete", details=_summary(targets))
    return DeleteResult(deleted=deleted, kept_as_blocked=kept)
