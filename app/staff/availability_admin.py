"""Opening hours and date changes (holidays, extra hours) as staff edit them. Every change
is saved with its audit entry, then the slots are regenerated at once so /book shows it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from app.booking.slots import opening_rules, regenerate_slots, wanted_slots
from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.labels import MODE_LABELS, mode_label
from app.models import AvailabilityRule, Booking, DateOverride, Slot, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED, MODES
from app.models.staff import StaffUser
from app.schedule.availability import Hours
from app.schedule.clinic_time import clinic_today, clock, day_range, local
from app.schedule.holidays import public_holidays

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SLOT_LENGTHS = (15, 20, 30, 45, 60, 90)
BUFFERS = (0, 5, 10, 15, 30)
MAX_CLOSED_DAYS = 120


class HoursError(Exception):
    """A change to the hours that cannot be made; the message is for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class HoursInput:
    start: time
    end: time
    slot_minutes: int = 30
    buffer_minutes: int = 0
    modes: tuple[str, ...] = MODES


def _check_hours(hours: HoursInput) -> None:
    if hours.end <= hours.start:
        raise HoursError("The closing time must be after the opening time.")
    if not 5 <= hours.slot_minutes <= 240:
        raise HoursError("A consultation must last between 5 and 240 minutes.")
    if not 0 <= hours.buffer_minutes <= 120:
        raise HoursError("The break between consultations must be between 0 and 120 minutes.")
    if not hours.modes or any(m not in MODES for m in hours.modes):
        raise HoursError("Please tick at least one way to meet (in person, phone or video).")
    length = datetime.combine(date.min, hours.end) - datetime.combine(date.min, hours.start)
    if length < timedelta(minutes=hours.slot_minutes):
        raise HoursError(
            f"From {clock(hours.start)} to {clock(hours.end)} is too short for one "
            f"{hours.slot_minutes}-minute consultation."
        )


def _overlaps(a_start: time, a_end: time, b_start: time, b_end: time) -> bool:
    return a_start < b_end and b_start < a_end


def modes_text(modes: str | tuple[str, ...]) -> str:
    items = modes.split(",") if isinstance(modes, str) else modes
    return ", ".join(mode_label(m).split(" at ")[0] for m in items if m in MODE_LABELS)


def describe_hours(item: AvailabilityRule | DateOverride) -> str:
    """Open hours in words (a closed day's override has no hours and is never described)."""
    assert item.start_time is not None and item.end_time is not None
    text = f"{clock(item.start_time)} to {clock(item.end_time)}, {item.slot_minutes}-minute consultations"
    if item.buffer_minutes:
        text += f" with {item.buffer_minutes} minutes between"
    return text


# --- weekly hours -----------------------------------------------------------------------


def weekly_rules() -> list[tuple[int, str, list[AvailabilityRule]]]:
    by_day: dict[int, list[AvailabilityRule]] = defaultdict(list)
    rules = db.session.execute(select(AvailabilityRule).order_by(AvailabilityRule.start_time)).scalars()
    for rule in rules:
        by_day[rule.weekday].append(rule)
    return [(weekday, WEEKDAYS[weekday], by_day.get(weekday, [])) for weekday in range(7)]


def _check_no_overlap(session, weekday: int, hours: HoursInput, except_id: int | None = None) -> None:
    same_day = select(AvailabilityRule).where(AvailabilityRule.weekday == weekday)
    for rule in session.execute(same_day).scalars():
        if rule.id != except_id and _overlaps(hours.start, hours.end, rule.start_time, rule.end_time):
            raise HoursError(
                f"{WEEKDAYS[weekday]} already has hours from {clock(rule.start_time)} to "
                f"{clock(rule.end_time)}, which overlap. Remove those first, or choose other times."
            )


def add_hours(weekdays: list[int], hours: HoursInput, actor: StaffUser | None) -> list[AvailabilityRule]:
    if not weekdays:
        raise HoursError("Please tick at least one day of the week.")
    if any(d not in range(7) for d in weekdays):
        raise HoursError("Please choose days of the week from the list.")
    _check_hours(hours)
    added: list[AvailabilityRule] = []
    with write_transaction() as session:
        for weekday in sorted(set(weekdays)):
            _check_no_overlap(session, weekday, hours)
            rule = AvailabilityRule(
                weekday=weekday,
                start_time=hours.start,
                end_time=hours.end,
                slot_minutes=hours.slot_minutes,
                buffer_minutes=hours.buffer_minutes,
                modes=",".join(hours.modes),
            )
            session.add(rule)
            added.append(rule)
        session.flush()
        days = ", ".join(WEEKDAYS[d] for d in sorted(set(weekdays)))
        audit.record(
            session, actor, "hours.add", details=f"{days}: {describe_hours(added[0])} ({modes_text(hours.modes)})"
        )
    regenerate_slots()
    return added


@dataclass(frozen=True)
class RemovalPreview:
    rule: AvailabilityRule
    free_slots: int
    booked_slots: int


def _rule_slots(rule: AvailabilityRule, now: datetime) -> list[tuple[Slot, bool]]:
    booked = Slot.is_booked
    rows = db.session.execute(
        select(Slot, booked.label("booked")).where(Slot.source == "rule", Slot.starts_at > now)
    ).all()
    matches = []
    for slot, is_booked in rows:
        start = local(slot.starts_at)
        if start.weekday() == rule.weekday and rule.start_time <= start.time() < rule.end_time:
            matches.append((slot, bool(is_booked)))
    return matches


def preview_remove_hours(rule_id: int, now: datetime | None = None) -> RemovalPreview:
    rule = db.session.get(AvailabilityRule, rule_id)
    if rule is None:
        raise HoursError("Those hours were already removed.")
    slots = _rule_slots(rule, now or utcnow())
    return RemovalPreview(
        rule=rule, free_slots=sum(1 for _, b in slots if not b), booked_slots=sum(1 for _, b in slots if b)
    )


def remove_hours(rule_id: int, actor: StaffUser | None) -> None:
    with write_transaction() as session:
        rule = session.get(AvailabilityRule, rule_id)
        if rule is None:
            raise HoursError("Those hours were already removed.")
        audit.record(session, actor, "hours.remove", details=f"{WEEKDAYS[rule.weekday]}: {describe_hours(rule)}")
        session.delete(rule)
    regenerate_slots()


# --- editing weekly hours in place -------------------------------------------------------

KEEP_AS_ONE_OFF = "keep"
MOVE_THEM = "move"


@dataclass(frozen=True)
class EditPreview:
    rule: AvailabilityRule
    hours: HoursInput
    appear: int  # future times the new hours add
    go: int  # free future times the new hours remove
    booked_outside: list[Booking]  # booked consultations the new hours no longer cover


def _as_hours(item: AvailabilityRule | HoursInput) -> Hours:
    if isinstance(item, AvailabilityRule):
        return Hours(
            item.start_time, item.end_time, item.slot_minutes, item.buffer_minutes, tuple(item.modes.split(","))
        )
    return Hours(item.start, item.end, item.slot_minutes, item.buffer_minutes, tuple(item.modes))


def get_rule(rule_id: int) -> AvailabilityRule | None:
    return db.session.get(AvailabilityRule, rule_id)


def preview_edit_hours(rule_id: int, hours: HoursInput, now: datetime | None = None) -> EditPreview:
    """What changing one weekly range to `hours` would do over the booking horizon: the free
    times that appear and go, and the booked consultations left outside the new hours (never
    cancelled: staff keep them as one-off times or move them)."""
    now = now or utcnow()
    rule = db.session.get(AvailabilityRule, rule_id)
    if rule is None:
        raise HoursError("Those hours were removed in the meantime.")
    _check_hours(hours)
    _check_no_overlap(db.session, rule.weekday, hours, except_id=rule.id)
    days = current_app.config["BOOKING_HORIZON_DAYS"]
    weekly, extra, closures = opening_rules()
    before = wanted_slots((weekly, extra, closures), now, days)
    changed = {day: list(ranges) for day, ranges in weekly.items()}
    changed[rule.weekday].remove(_as_hours(rule))
    changed[rule.weekday].append(_as_hours(hours))
    after = wanted_slots((changed, extra, closures), now, days)
    booked = Slot.is_booked
    existing = dict(
        db.session.execute(select(Slot.starts_at, booked.label("booked")).where(Slot.starts_at > now)).all()
    )
    leaving = set(before) - set(after)
    outside = (
        list(
            db.session.execute(
                select(Booking)
                .join(Slot)
                .where(BOOKING_IS_CONFIRMED, Slot.source == "rule", Slot.starts_at.in_(leaving))
                .order_by(Slot.starts_at)
            ).scalars()
        )
        if leaving
        else []
    )
    return EditPreview(
        rule=rule,
        hours=hours,
        appear=sum(1 for start in after if start not in existing),
        go=sum(1 for start in leaving if start in existing and not existing[start]),
        booked_outside=outside,
    )


def edit_hours(
    rule_id: int, hours: HoursInput, booked_choice: str | None, actor: StaffUser | None, now: datetime | None = None
) -> EditPreview:
    """Change one weekly range in place. Booked consultations the new hours leave out are
    kept: as one-off times (`keep`), or as they are for staff to move (`move`; their old
    times go once they are moved). Raises HoursError when there are some and no choice."""
    preview = preview_edit_hours(rule_id, hours, now)
    if preview.booked_outside and booked_choice not in (KEEP_AS_ONE_OFF, MOVE_THEM):
        raise HoursError("Please choose what happens to the booked consultations outside the new hours.")
    with write_transaction() as session:
        rule = session.get(AvailabilityRule, rule_id, with_for_update=True)
        if rule is None:
            raise HoursError("Those hours were removed in the meantime.")
        before = f"{WEEKDAYS[rule.weekday]}: {describe_hours(rule)}"
        rule.start_time, rule.end_time = hours.start, hours.end
        rule.slot_minutes, rule.buffer_minutes = hours.slot_minutes, hours.buffer_minutes
        rule.modes = ",".join(hours.modes)
        if booked_choice == KEEP_AS_ONE_OFF:
            for booking in preview.booked_outside:
                session.get_one(Slot, booking.slot_id).source = "manual"
        details = f"{before} -> {describe_hours(rule)} ({modes_text(hours.modes)})"
        if preview.booked_outside:
            details += f"; {len(preview.booked_outside)} booked outside, " + (
                "kept as one-off times" if booked_choice == KEEP_AS_ONE_OFF else "to move"
            )
        audit.record(session, actor, "hours.edit", details=details)
    regenerate_slots()
    return preview


# --- date changes -----------------------------------------------------------------------


def upcoming_overrides(now: datetime | None = None) -> list[DateOverride]:
    return list(
        db.session.execute(
            select(DateOverride)
            .where(DateOverride.on_date >= clinic_today(now))
            .order_by(DateOverride.on_date, DateOverride.start_time)
        ).scalars()
    )


def describe_override(override: DateOverride) -> str:
    if override.kind == "closed":
        if override.start_time and override.end_time:
            text = f"Closed from {clock(override.start_time)} to {clock(override.end_time)}"
        else:
            text = "Closed all day"
    else:
        text = f"Extra hours: {describe_hours(override)} ({modes_text(override.modes)})"
    return text + (f" ({override.reason})" if override.reason else "")


@dataclass(frozen=True)
class ClosureResult:
    first: date
    last: date
    days_closed: int
    blocked_manual: int
    kept_bookings: list[Booking]


def _clean_reason(reason: str) -> str:
    return " ".join((reason or "").split())[:200]


def close_dates(
    first: date, last: date | None, reason: str, actor: StaffUser | None, now: datetime | None = None
) -> ClosureResult:
    """Close the clinic all day from `first` to `last` inclusive ("closed Dec 24-26"). Free
    times on those days disappear from /book; booked consultations stay until staff cancel
    or move them (they are returned so the page can list them)."""
    now = now or utcnow()
    last = last or first
    if last < first:
        raise HoursError("The last closed day must be on or after the first.")
    if first < clinic_today(now):
        raise HoursError("Please choose today or a later date.")
    if (last - first).days + 1 > MAX_CLOSED_DAYS:
        raise HoursError(f"Please close at most {MAX_CLOSED_DAYS} days at a time.")
    reason = _clean_reason(reason)
    start_utc, end_utc = day_range(first, last)
    booked = Slot.is_booked
    with write_transaction() as session:
        already = set(
            session.execute(
                select(DateOverride.on_date).where(
                    DateOverride.kind == "closed",
                    DateOverride.start_time.is_(None),
                    DateOverride.on_date.between(first, last),
                )
            ).scalars()
        )
        days = 0
        current = first
        while current <= last:
            if current not in already:
                session.add(DateOverride(on_date=current, kind="closed", reason=reason))
                days += 1
            current += timedelta(days=1)
        # Generated times follow the closure through regeneration; one-off times are blocked here.
        manual = (
            session.execute(
                select(Slot).where(
                    Slot.source != "rule",
                    Slot.is_blocked.is_(False),
                    ~booked,
                    Slot.starts_at >= max(start_utc, now),
                    Slot.starts_at < end_utc,
                )
            )
            .scalars()
            .all()
        )
        for slot in manual:
            slot.is_blocked = True
        span = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
        audit.record(session, actor, "override.closed", details=f"{span}" + (f" ({reason})" if reason else ""))
    regenerate_slots()
    kept = list(
        db.session.execute(
            select(Booking)
            .join(Slot)
            .where(BOOKING_IS_CONFIRMED, Slot.starts_at >= start_utc, Slot.starts_at < end_utc)
            .order_by(Slot.starts_at)
        ).scalars()
    )
    return ClosureResult(first=first, last=last, days_closed=days, blocked_manual=len(manual), kept_bookings=kept)


def close_slot_time(session, slot: Slot, reason: str) -> DateOverride:
    """Keep a generated time from coming back: a closure of exactly its local span."""
    start, end = local(slot.starts_at), local(slot.ends_at)
    override = DateOverride(
        on_date=start.date(),
        kind="closed",
        start_time=start.time(),
        end_time=end.time() if end.date() == start.date() else time(23, 59),
        reason=reason,
    )
    session.add(override)
    return override


def add_extra_hours(
    on: date, hours: HoursInput, reason: str, actor: StaffUser | None, now: datetime | None = None
) -> DateOverride:
    if on < clinic_today(now):
        raise HoursError("Please choose today or a later date.")
    _check_hours(hours)
    with write_transaction() as session:
        for other in session.execute(
            select(DateOverride).where(DateOverride.on_date == on, DateOverride.kind == "extra")
        ).scalars():
            if (
                other.start_time
                and other.end_time
                and _overlaps(hours.start, hours.end, other.start_time, other.end_time)
            ):
                raise HoursError(
                    f"{on:%B} {on.day} already has extra hours from "
                    f"{clock(other.start_time)} to {clock(other.end_time)}."
                )
        override = DateOverride(
            on_date=on,
            kind="extra",
            start_time=hours.start,
            end_time=hours.end,
            slot_minutes=hours.slot_minutes,
            buffer_minutes=hours.buffer_minutes,
            modes=",".join(hours.modes),
            reason=_clean_reason(reason),
        )
        session.add(override)
        session.flush()
        audit.record(session, actor, "override.extra", details=f"{on.isoformat()}: {describe_hours(override)}")
    regenerate_slots()
    return override


def remove_override(override_id: int, actor: StaffUser | None) -> DateOverride:
    with write_transaction() as session:
        override = session.get(DateOverride, override_id)
        if override is None:
            raise HoursError("That date change was already removed.")
        audit.record(
            session, actor, "override.remove", details=f"{override.on_date.isoformat()}: {describe_override(override)}"
        )
        session.delete(override)
    regenerate_slots()
    return override


def close_public_holidays(
    actor: StaffUser | None, now: datetime | None = None, days: int = 365
) -> list[tuple[date, str]]:
    """Close the clinic on the public holidays (app.schedule.holidays) of the next `days` days
    that are not closed already, each as an ordinary closure named after its holiday."""
    now = now or utcnow()
    today = clinic_today(now)
    closed = set(
        db.session.execute(
            select(DateOverride.on_date).where(DateOverride.kind == "closed", DateOverride.start_time.is_(None))
        ).scalars()
    )
    added = [(day, name) for day, name in public_holidays(today, today + timedelta(days=days)) if day not in closed]
    for day, name in added:
        close_dates(day, day, name, actor, now=now)
    return added
