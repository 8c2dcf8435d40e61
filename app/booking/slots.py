"""Slots in the database: which are free, the nearest alternatives, and generation from rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, func, select

from app.booking.availability import Closure, Hours, SlotTime, slot_times
from app.booking.rules import booking_window
from app.busy.overlap import overlaps_busy
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.models import AvailabilityRule, Booking, DateOverride, Slot, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED


def _has_active_booking():
    return exists().where(and_(Booking.slot_id == Slot.id, BOOKING_IS_CONFIRMED))


def is_offered():
    """Not blocked by staff and not overlapping a busy time in a staff calendar."""
    return and_(Slot.is_blocked.is_(False), ~overlaps_busy(Slot.starts_at, Slot.ends_at))


def free_slots(start: datetime, end: datetime, now: datetime | None = None,
               mode: str | None = None, limit: int | None = None) -> Sequence[Slot]:
    """Bookable slots starting in [start, end): not blocked, not booked, inside the booking window."""
    window = booking_window(now or utcnow())
    lower, upper = max(start, window.earliest), min(end, window.latest)
    if lower >= upper:
        return []
    query = (
        select(Slot)
        .where(Slot.starts_at >= lower, Slot.starts_at < upper, is_offered())
        .where(~_has_active_booking())
        .order_by(Slot.starts_at)
    )
    if mode:
        query = query.where(Slot.modes.contains(mode))
    if limit:
        query = query.limit(limit)
    return db.session.execute(query).scalars().all()


def nearest_free_slots(around: datetime, count: int = 3, now: datetime | None = None,
                       mode: str | None = None, exclude_id: int | None = None, *,
                       enforce_notice: bool = True) -> list[Slot]:
    """The free slots closest in time to `around`, before or after it, soonest first.
    Without `enforce_notice` (staff booking for a caller) any time not yet started counts."""
    now = now or utcnow()
    window = booking_window(now)
    not_too_soon = Slot.starts_at >= window.earliest if enforce_notice else Slot.starts_at > now
    base = select(Slot).where(is_offered(), ~_has_active_booking(), not_too_soon,
                              Slot.starts_at <= window.latest)
    if mode:
        base = base.where(Slot.modes.contains(mode))
    if exclude_id is not None:
        base = base.where(Slot.id != exclude_id)
    after = db.session.execute(
        base.where(Slot.starts_at >= around).order_by(Slot.starts_at).limit(count)).scalars().all()
    before = db.session.execute(
        base.where(Slot.starts_at < around).order_by(Slot.starts_at.desc()).limit(count)).scalars().all()
    nearest = sorted([*after, *before], key=lambda s: abs((s.starts_at - around).total_seconds()))
    return sorted(nearest[:count], key=lambda s: s.starts_at)


@dataclass(frozen=True)
class RegenerationReport:
    added: int
    removed: int
    retired: int
    updated: int


def opening_rules() -> tuple[dict[int, list[Hours]], dict[date, list[Hours]], list[Closure]]:
    """The weekly hours, extra hours by date and closures, as app.booking.availability takes them."""
    weekly: dict[int, list[Hours]] = defaultdict(list)
    for rule in db.session.execute(select(AvailabilityRule)).scalars():
        weekly[rule.weekday].append(Hours(rule.start_time, rule.end_time, rule.slot_minutes,
                                          rule.buffer_minutes, tuple(rule.modes.split(","))))
    extra: dict[date, list[Hours]] = defaultdict(list)
    closures: list[Closure] = []
    for override in db.session.execute(select(DateOverride)).scalars():
        if override.kind == "closed":
            closures.append(Closure(override.on_date, override.start_time, override.end_time))
        elif override.start_time and override.end_time:
            extra[override.on_date].append(Hours(override.start_time, override.end_time,
                                                 override.slot_minutes, override.buffer_minutes,
                                                 tuple(override.modes.split(","))))
    return weekly, extra, closures


def wanted_slots(rules: tuple[dict[int, list[Hours]], dict[date, list[Hours]], list[Closure]],
                 now: datetime, days: int) -> dict[datetime, SlotTime]:
    """The generated slots `rules` give from `now` for `days` days, by start instant."""
    weekly, extra, closures = rules
    zone = clinic_zone()
    first_day = now.astimezone(zone).date()
    return {s.starts_at: s for s in slot_times(weekly, first_day, first_day + timedelta(days=days), zone,
                                               extra, closures)
            if s.starts_at > now}


def regenerate_slots(now: datetime | None = None, days: int | None = None) -> RegenerationReport:
    """Make the generated slots of the coming `days` match the opening rules, idempotently.

    Adds missing slots, updates the modes of free ones, and removes free generated slots
    the rules no longer cover (a slot with booking history is blocked instead, so the
    history stays). Booked slots, manual slots and past slots are never touched."""
    from flask import current_app

    now = now or utcnow()
    days = days if days is not None else int(current_app.config["BOOKING_HORIZON_DAYS"])
    zone = clinic_zone()
    first_day = now.astimezone(zone).date()
    last_day = first_day + timedelta(days=days)
    with write_transaction() as session:
        wanted = wanted_slots(opening_rules(), now, days)
        window_end = max([now, *wanted.keys()]) + timedelta(days=1)
        horizon_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), zone)
        window_end = max(window_end, horizon_end)
        existing = session.execute(
            select(Slot, _has_active_booking().label("booked"),
                   exists().where(Booking.slot_id == Slot.id).label("has_history"))
            .where(Slot.starts_at > now, Slot.starts_at < window_end)
        ).all()
        existing_starts = set()
        added = removed = retired = updated = 0
        doomed: list[int] = []
        for slot, booked, has_history in existing:
            existing_starts.add(slot.starts_at)
            if slot.source != "rule" or booked:
                continue
            target = wanted.get(slot.starts_at)
            if target is None:
                if has_history:
                    if not slot.is_blocked:
                        slot.is_blocked = True
                        retired += 1
                else:
                    doomed.append(slot.id)
            else:
                modes = ",".join(target.modes)
                ends_at = target.ends_at
                if slot.modes != modes or slot.ends_at != ends_at:
                    slot.modes, slot.ends_at = modes, ends_at
                    updated += 1
        if doomed:
            session.execute(delete(Slot).where(Slot.id.in_(doomed)))
            removed = len(doomed)
        for start, target in wanted.items():
            if start not in existing_starts:
                session.add(Slot(starts_at=start, ends_at=target.ends_at,
                                 modes=",".join(target.modes), source="rule"))
                added += 1
    return RegenerationReport(added=added, removed=removed, retired=retired, updated=updated)


def count_slots() -> int:
    return db.session.execute(select(func.count(Slot.id))).scalar_one()


# --- choosing a time: one day at a time ------------------------------------------------------

STRIP_DAYS = 7
NOON_HOUR = 12


@dataclass(frozen=True)
class DayChoice:
    day: date
    free: int


@dataclass(frozen=True)
class SlotPicker:
    """What /book (and the manage page's "choose a new time") shows: a strip of days with how
    many times each has free, the chosen day's times split into morning and afternoon, and
    where to jump next. `notice` explains a request that could not be followed as asked."""

    days: list[DayChoice]
    selected: date | None
    morning: list[Slot]
    afternoon: list[Slot]
    mode: str | None
    total_free: int
    first_free: date | None
    next_free: date | None
    previous_strip: date | None
    next_strip: date | None
    notice: str | None = None

    @property
    def selected_free(self) -> int:
        return len(self.morning) + len(self.afternoon)


def parse_day(text: str | None) -> tuple[date | None, bool]:
    """A `day=YYYY-MM-DD` query value: (the day or None, whether the value was unreadable)."""
    if not text:
        return None, False
    try:
        return date.fromisoformat(text.strip()[:10]), False
    except ValueError:
        return None, True


def parse_mode(text: str | None) -> tuple[str | None, bool]:
    """A `mode=` query value: (a known mode or None for any, whether the value was unknown)."""
    from app.models.booking import MODES

    if not text or text == "any":
        return None, False
    return (text, False) if text in MODES else (None, True)


def build_picker(free: Sequence[Slot], first_day: date, last_day: date, requested: date | None,
                 mode: str | None, zone, strip_days: int = STRIP_DAYS,
                 notice: str | None = None) -> SlotPicker:
    """Pure: from the free slots (soonest first) of the bookable days [first_day, last_day],
    the picker for `requested` (or the first day with a free time)."""
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in free:
        by_day[slot.starts_at.astimezone(zone).date()].append(slot)
    free_days = sorted(by_day)
    first_free = free_days[0] if free_days else None
    selected = requested
    if selected is not None and not first_day <= selected <= last_day:
        notice = notice or _("That day cannot be booked online, so the first day with a free time is shown.")
        selected = None
    if selected is None:
        selected = first_free or first_day
    strip_index = (selected - first_day).days // strip_days
    strip_start = first_day + timedelta(days=strip_index * strip_days)
    strip = [strip_start + timedelta(days=i) for i in range(strip_days)
             if strip_start + timedelta(days=i) <= last_day]

    def first_free_in(start: date) -> date:
        end = start + timedelta(days=strip_days)
        return next((d for d in free_days if start <= d < end), start)

    previous_start = strip_start - timedelta(days=strip_days)
    next_start = strip_start + timedelta(days=strip_days)
    chosen = by_day.get(selected, [])
    return SlotPicker(
        days=[DayChoice(d, len(by_day.get(d, []))) for d in strip],
        selected=selected,
        morning=[s for s in chosen if s.starts_at.astimezone(zone).hour < NOON_HOUR],
        afternoon=[s for s in chosen if s.starts_at.astimezone(zone).hour >= NOON_HOUR],
        mode=mode,
        total_free=len(free),
        first_free=first_free,
        next_free=next((d for d in free_days if d > selected), None),
        previous_strip=first_free_in(previous_start) if previous_start >= first_day else None,
        next_strip=first_free_in(next_start) if next_start <= last_day else None,
        notice=notice,
    )


def slot_picker(day_text: str | None, mode_text: str | None, now: datetime | None = None) -> SlotPicker:
    """The picker for the query values `day` and `mode` as a patient's browser sent them:
    unreadable or out-of-range values fall back to the first free day (with a notice)."""
    now = now or utcnow()
    zone = clinic_zone()
    window = booking_window(now)
    requested, bad_day = parse_day(day_text)
    mode, bad_mode = parse_mode(mode_text)
    notice = None
    if bad_mode:
        notice = _("We did not recognise that way of meeting, so times for every way are shown.")
    elif bad_day:
        notice = _("We could not read that date, so the first day with a free time is shown.")
    free = free_slots(window.earliest, window.latest + timedelta(seconds=1), now=now, mode=mode)
    return build_picker(free, window.earliest.astimezone(zone).date(),
                        window.latest.astimezone(zone).date(), requested, mode, zone, notice=notice)
