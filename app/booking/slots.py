"""Slots in the database: which are free, the nearest alternatives, and generation from rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache

from flask_babel import gettext as _
from sqlalchemy import Date, Row, and_, bindparam, delete, exists, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from app.booking.rules import booking_window
from app.busy.overlap import overlaps_busy
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.models import Booking, Slot, utcnow
from app.schedule.availability import Closure, Hours, SlotTime, slot_times
from app.schedule.opening_hours import opening_rules


def is_offered():
    """Not blocked by staff and not overlapping a busy time in a staff calendar."""
    return and_(Slot.is_blocked.is_(False), ~overlaps_busy(Slot.starts_at, Slot.ends_at))


@cache
def _free_clauses(by_mode: bool, except_slot: bool) -> tuple:
    """The WHERE clauses of a free slot starting in [:lower, :upper): offered, not booked,
    with :mode among its ways of meeting and not :except_slot_id (the one being moved)
    when asked. Built once per shape; the values are bound at each execution."""
    clauses = [Slot.starts_at >= bindparam("lower"), Slot.starts_at < bindparam("upper"), is_offered(), ~Slot.is_booked]
    if by_mode:
        clauses.append(Slot.modes.contains(bindparam("mode")))
    if except_slot:
        clauses.append(Slot.id != bindparam("except_slot_id"))
    return tuple(clauses)


@dataclass(frozen=True)
class FreeFilter:
    """Which free slots a picker shows: starting in [lower, upper), with `mode`, and not
    `except_slot_id`."""

    lower: datetime
    upper: datetime
    mode: str | None = None
    except_slot_id: int | None = None

    @property
    def clauses(self) -> tuple:
        return _free_clauses(bool(self.mode), self.except_slot_id is not None)

    @property
    def params(self) -> dict:
        return {"lower": self.lower, "upper": self.upper, "mode": self.mode, "except_slot_id": self.except_slot_id}


def free_slots(
    start: datetime, end: datetime, now: datetime | None = None, mode: str | None = None, limit: int | None = None
) -> Sequence[Row]:
    """Bookable slots starting in [start, end) (not blocked, not booked, inside the booking
    window), soonest first, as rows of (id, public_id, starts_at, ends_at, modes)."""
    window = booking_window(now or utcnow())
    lower, upper = max(start, window.earliest), min(end, window.latest)
    if lower >= upper:
        return []
    free = FreeFilter(lower, upper, mode)
    query = _free_slots_statement(bool(mode))
    if limit:
        query = query.limit(limit)
    return db.session.execute(query, free.params).all()


@cache
def _free_slots_statement(by_mode: bool):
    """Built once per shape, so its cache key is worked out once, not on every request."""
    return (
        select(Slot.id, Slot.public_id, Slot.starts_at, Slot.ends_at, Slot.modes)
        .where(*_free_clauses(by_mode, False))
        .order_by(Slot.starts_at)
    )


def nearest_free_slots(
    around: datetime,
    count: int = 3,
    now: datetime | None = None,
    mode: str | None = None,
    exclude_id: int | None = None,
    *,
    enforce_notice: bool = True,
) -> list[Slot]:
    """The free slots closest in time to `around`, before or after it, soonest first.
    Without `enforce_notice` (staff booking for a caller) any time not yet started counts."""
    now = now or utcnow()
    window = booking_window(now)
    not_too_soon = Slot.starts_at >= window.earliest if enforce_notice else Slot.starts_at > now
    base = select(Slot).where(is_offered(), ~Slot.is_booked, not_too_soon, Slot.starts_at <= window.latest)
    if mode:
        base = base.where(Slot.modes.contains(mode))
    if exclude_id is not None:
        base = base.where(Slot.id != exclude_id)
    after = (
        db.session.execute(base.where(Slot.starts_at >= around).order_by(Slot.starts_at).limit(count)).scalars().all()
    )
    before = (
        db.session.execute(base.where(Slot.starts_at < around).order_by(Slot.starts_at.desc()).limit(count))
        .scalars()
        .all()
    )
    nearest = sorted([*after, *before], key=lambda s: abs((s.starts_at - around).total_seconds()))
    return sorted(nearest[:count], key=lambda s: s.starts_at)


@dataclass(frozen=True)
class RegenerationReport:
    added: int
    removed: int
    retired: int
    updated: int


def wanted_slots(
    rules: tuple[dict[int, list[Hours]], dict[date, list[Hours]], list[Closure]], now: datetime, days: int
) -> dict[datetime, SlotTime]:
    """The generated slots `rules` give from `now` for `days` days, by start instant."""
    weekly, extra, closures = rules
    zone = clinic_zone()
    first_day = now.astimezone(zone).date()
    return {
        s.starts_at: s
        for s in slot_times(weekly, first_day, first_day + timedelta(days=days), zone, extra, closures)
        if s.starts_at > now
    }


def regenerate_slots(now: datetime | None = None, days: int | None = None) -> RegenerationReport:
    """Make the generated slots of the coming `days` match the opening rules, idempotently.

    Adds missing slots, updates the modes of free ones, and removes free generated slots
    the rules no longer cover (a slot with booking history is blocked instead, so the
    history stays). Booked slots, manual slots and past slots are never touched."""
    from flask import current_app

    now = now or utcnow()
    days = days if days is not None else current_app.config["BOOKING_HORIZON_DAYS"]
    zone = clinic_zone()
    first_day = now.astimezone(zone).date()
    last_day = first_day + timedelta(days=days)
    with write_transaction() as session:
        wanted = wanted_slots(opening_rules(), now, days)
        window_end = max([now, *wanted.keys()]) + timedelta(days=1)
        horizon_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), zone)
        window_end = max(window_end, horizon_end)
        existing = session.execute(
            select(
                Slot, Slot.is_booked.label("booked"), exists().where(Booking.slot_id == Slot.id).label("has_history")
            ).where(Slot.starts_at > now, Slot.starts_at < window_end)
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
                session.add(Slot(starts_at=start, ends_at=target.ends_at, modes=",".join(target.modes), source="rule"))
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
    morning: list[Row]  # (public_id, starts_at) of the chosen day's free times
    afternoon: list[Row]
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


def build_picker(
    counts: dict[date, int],
    first_day: date,
    last_day: date,
    requested: date | None,
    mode: str | None,
    zone,
    times_on: Callable[[date], Sequence[Row]],
    strip_days: int = STRIP_DAYS,
    notice: str | None = None,
) -> SlotPicker:
    """From the free count of each bookable day in [first_day, last_day] (days with none
    may be left out), the picker for `requested` (or the first day with a free time), with
    that day's free times from `times_on(day)` (soonest first)."""
    free_days = sorted(day for day, count in counts.items() if count)
    first_free = free_days[0] if free_days else None
    selected = requested
    if selected is not None and not first_day <= selected <= last_day:
        notice = notice or _("That day cannot be booked online, so the first day with a free time is shown.")
        selected = None
    if selected is None:
        selected = first_free or first_day
    strip_index = (selected - first_day).days // strip_days
    strip_start = first_day + timedelta(days=strip_index * strip_days)
    strip = [strip_start + timedelta(days=i) for i in range(strip_days) if strip_start + timedelta(days=i) <= last_day]

    def first_free_in(start: date) -> date:
        end = start + timedelta(days=strip_days)
        return next((d for d in free_days if start <= d < end), start)

    previous_start = strip_start - timedelta(days=strip_days)
    next_start = strip_start + timedelta(days=strip_days)
    chosen = times_on(selected) if counts.get(selected) else []
    return SlotPicker(
        days=[DayChoice(d, counts.get(d, 0)) for d in strip],
        selected=selected,
        morning=[s for s in chosen if s.starts_at.astimezone(zone).hour < NOON_HOUR],
        afternoon=[s for s in chosen if s.starts_at.astimezone(zone).hour >= NOON_HOUR],
        mode=mode,
        total_free=sum(counts.values()),
        first_free=first_free,
        next_free=next((d for d in free_days if d > selected), None),
        previous_strip=first_free_in(previous_start) if previous_start >= first_day else None,
        next_strip=first_free_in(next_start) if next_start <= last_day else None,
        notice=notice,
    )


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time.min, zone)


class _LocalDate(ColumnElement):
    """The clinic's local date of an instant column, one expression on both databases:
    PostgreSQL converts with the zone's own rules (`AT TIME ZONE`); SQLite, which has no
    zones, shifts by the zone's UTC offset, which is constant between the DST changes
    bound as `:change_n` (`offset_n` applies before change n, the last one after it).
    Its cache key holds the column and the number of changes, so SQLAlchemy compiles each
    shape once per process and never gives one shape another's SQL."""

    inherit_cache = True
    type = Date()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("changes", InternalTraversal.dp_plain_obj)]

    def __init__(self, column, changes: int) -> None:
        self.column, self.changes = column, changes


@compiles(_LocalDate, "postgresql")
def _local_date_postgresql(element: _LocalDate, compiler, **kw) -> str:
    zone = compiler.process(bindparam("zone"), **kw)
    return f"date({compiler.process(element.column, **kw)} AT TIME ZONE {zone})"


@compiles(_LocalDate)
def _local_date_sqlite(element: _LocalDate, compiler, **kw) -> str:
    column = compiler.process(element.column, **kw)
    shifted = [
        f"date({column}, {compiler.process(bindparam(f'offset_{n}'), **kw)})" for n in range(element.changes + 1)
    ]
    if not element.changes:
        return shifted[0]
    changes = [
        compiler.process(bindparam(f"change_{n}", type_=Slot.starts_at.type), **kw) for n in range(element.changes)
    ]
    branches = " ".join(f"WHEN {column} < {changes[n]} THEN {shifted[n]}" for n in range(element.changes))
    return f"CASE {branches} ELSE {shifted[-1]} END"


def _offset_changes(lower: datetime, upper: datetime, zone) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets in [lower, upper] as (instant the offset ends or None for the
    last, offset in minutes), found hour by hour on the days whose midnights differ."""

    def offset(instant: datetime) -> int:
        utc_offset = instant.astimezone(zone).utcoffset()
        assert utc_offset is not None, "a time converted to a zone has that zone's offset"
        return int(utc_offset.total_seconds() // 60)

    changes, current, cursor = [], offset(lower), lower
    while cursor < upper:
        step = min(cursor + timedelta(days=1), upper)
        if offset(step) != current:
            while offset(cursor) == current:
                cursor += timedelta(hours=1)
            changes.append((cursor, current))
            current, step = offset(cursor), cursor
        cursor = step
    return [*changes, (None, current)]


@lru_cache(maxsize=64)
def _day_offsets(zone, first_day: date, last_day: date) -> tuple[tuple[datetime | None, int], ...]:
    """_offset_changes over whole local days: the zone's rules alone decide it, so it is
    worked out once per process and range (a range moves once a day), not on every page
    (about 0.2 ms for the 60 days of /book)."""
    return tuple(_offset_changes(_midnight(first_day, zone), _midnight(last_day + timedelta(days=1), zone), zone))


@cache
def _per_day_statement(changes: int, by_mode: bool, except_slot: bool):
    """Free slots counted per local day, grouped by the clinic's date of each start."""
    day = _LocalDate(Slot.starts_at, changes).label("day")
    return select(day, func.count()).where(*_free_clauses(by_mode, except_slot)).group_by(literal_column("day"))


@cache
def _times_statement(by_mode: bool, except_slot: bool):
    return (
        select(Slot.public_id, Slot.starts_at)
        .where(
            *_free_clauses(by_mode, except_slot),
            Slot.starts_at >= bindparam("day_start"),
            Slot.starts_at < bindparam("day_end"),
        )
        .order_by(Slot.starts_at)
    )


def free_per_day(free: FreeFilter, first_day: date, last_day: date, zone) -> dict[date, int]:
    """How many free slots start on each local day of [first_day, last_day], in one GROUP BY
    on the clinic's date of each start (days with none are left out)."""
    segments = _day_offsets(zone, first_day, last_day)
    params = {"zone": zone.key}
    for n, (until, minutes) in enumerate(segments):
        params[f"offset_{n}"] = f"{minutes:+d} minutes"
        if until is not None:
            params[f"change_{n}"] = until
    statement = _per_day_statement(len(segments) - 1, bool(free.mode), free.except_slot_id is not None)
    rows = db.session.execute(statement, {**free.params, **params})
    # The expression is typed Date, so both databases' rows carry dates.
    return {day: count for day, count in rows if first_day <= day <= last_day}


def free_times_on(free: FreeFilter, day: date, zone) -> Sequence[Row]:
    """The (public_id, starts_at) of the free slots on local day `day`, soonest first."""
    statement = _times_statement(bool(free.mode), free.except_slot_id is not None)
    return db.session.execute(
        statement,
        {**free.params, "day_start": _midnight(day, zone), "day_end": _midnight(day + timedelta(days=1), zone)},
    ).all()


def picker_between(
    lower: datetime,
    upper: datetime,
    requested: date | None,
    mode: str | None,
    notice: str | None = None,
    except_slot_id: int | None = None,
) -> SlotPicker:
    """The picker of the free slots starting in [lower, upper] (instants), on the clinic's
    days from lower's to upper's: two queries, the counts per day and the chosen day's times."""
    zone = clinic_zone()
    free = FreeFilter(lower, upper + timedelta(microseconds=1), mode, except_slot_id)
    first_day, last_day = lower.astimezone(zone).date(), upper.astimezone(zone).date()
    return build_picker(
        free_per_day(free, first_day, last_day, zone),
        first_day,
        last_day,
        requested,
        mode,
        zone,
        lambda day: free_times_on(free, day, zone),
        notice=notice,
    )


def slot_picker(day_text: str | None, mode_text: str | None, now: datetime | None = None) -> SlotPicker:
    """The picker for the query values `day` and `mode` as a patient's browser sent them:
    unreadable or out-of-range values fall back to the first free day (with a notice)."""
    window = booking_window(now or utcnow())
    requested, bad_day = parse_day(day_text)
    mode, bad_mode = parse_mode(mode_text)
    notice = None
    if bad_mode:
        notice = _("We did not recognise that way of meeting, so times for every way are shown.")
    elif bad_day:
        notice = _("We could not read that date, so the first day with a free time is shown.")
    return picker_between(window.earliest, window.latest, requested, mode, notice)
