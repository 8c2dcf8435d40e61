"""Pure slot arithmetic: which consultation times opening hours produce. No Flask, no database.

Opening hours are wall-clock times in the clinic's zone, so a weekly 9:00 stays 9:00
local on both sides of a daylight-saving change; each slot is then fixed as a UTC
instant with its real duration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Hours:
    """A stretch of local time split into consultations of `slot_minutes`, `buffer_minutes` apart."""

    start: time
    end: time
    slot_minutes: int = 30
    buffer_minutes: int = 0
    modes: tuple[str, ...] = ("in_person", "phone", "video")

    def __post_init__(self) -> None:
        if self.slot_minutes <= 0:
            raise ValueError("slot_minutes must be positive")
        if self.buffer_minutes < 0:
            raise ValueError("buffer_minutes cannot be negative")
        if self.end <= self.start:
            raise ValueError("hours must end after they start")


@dataclass(frozen=True)
class Closure:
    """A date the clinic is closed: all day, or between two local times."""

    on: date
    start: time | None = None
    end: time | None = None

    def covers(self, slot_start: datetime, slot_end: datetime, zone: ZoneInfo) -> bool:
        if self.start is None or self.end is None:
            return True
        closed_from = local_instant(self.on, self.start, zone)
        closed_to = local_instant(self.on, self.end, zone)
        if closed_from is None or closed_to is None:
            return True
        return slot_start < closed_to and slot_end > closed_from


@dataclass(frozen=True)
class SlotTime:
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC
    modes: tuple[str, ...]


def local_instant(on: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None when that time does not exist
    (skipped by a spring-forward change). An ambiguous time takes its first occurrence."""
    local = datetime.combine(on, at, tzinfo=zone)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return as_utc


def slots_for_hours(on: date, hours: Hours, zone: ZoneInfo) -> list[SlotTime]:
    """Consultations that fit within `hours` on one date, stepping in wall-clock minutes."""
    results: list[SlotTime] = []
    length = timedelta(minutes=hours.slot_minutes)
    step = timedelta(minutes=hours.slot_minutes + hours.buffer_minutes)
    cursor = datetime.combine(on, hours.start)
    finish = datetime.combine(on, hours.end)
    while cursor + length <= finish:
        starts = local_instant(on, cursor.time(), zone)
        if starts is not None:
            results.append(SlotTime(starts, starts + length, hours.modes))
        cursor += step
    return results


def slot_times(
    weekly: Mapping[int, Iterable[Hours]],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    extra: Mapping[date, Iterable[Hours]] | None = None,
    closures: Iterable[Closure] = (),
) -> list[SlotTime]:
    """Every slot from `first_day` to `last_day` inclusive, sorted, one per start instant.

    `weekly` maps weekday (0 = Monday) to its hours; `extra` adds hours on given dates;
    `closures` remove slots on given dates (extra hours on a closed date still count,
    so staff can close the usual hours and open different ones)."""
    extra = extra or {}
    closures_by_day: dict[date, list[Closure]] = {}
    for closure in closures:
        closures_by_day.setdefault(closure.on, []).append(closure)

    by_start: dict[datetime, SlotTime] = {}
    current = first_day
    while current <= last_day:
        day_closures = closures_by_day.get(current, [])
        for hours in weekly.get(current.weekday(), ()):
            for slot in slots_for_hours(current, hours, zone):
                if any(c.covers(slot.starts_at, slot.ends_at, zone) for c in day_closures):
                    continue
                by_start.setdefault(slot.starts_at, slot)
        for hours in extra.get(current, ()):
            for slot in slots_for_hours(current, hours, zone):
                by_start.setdefault(slot.starts_at, slot)
        current += timedelta(days=1)
    return [by_start[k] for k in sorted(by_start)]


def open_windows(
    weekly: Mapping[int, Iterable[Hours]],
    on: date,
    zone: ZoneInfo,
    extra: Mapping[date, Iterable[Hours]] | None = None,
    closures: Iterable[Closure] = (),
) -> list[tuple[datetime, datetime]]:
    """The stretches of `on` the clinic is open, as sorted, merged UTC intervals.

    The same rules as `slot_times`: the weekly hours of the weekday less any closure that
    day (all day, or between two times), plus the date's extra hours, which count even on a
    closed date. Times that do not exist (a spring-forward gap) are left out."""
    day_closures = [c for c in closures if c.on == on]
    intervals: list[tuple[datetime, datetime]] = []
    for hours in weekly.get(on.weekday(), ()):
        window = _window(on, hours, zone)
        if window is None:
            continue
        pieces = [window]
        for closure in day_closures:
            closed = _closed_interval(closure, zone)
            pieces = [p for piece in pieces for p in _subtract(piece, closed)]
        intervals.extend(pieces)
    for hours in (extra or {}).get(on, ()):
        window = _window(on, hours, zone)
        if window is not None:
            intervals.append(window)
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _window(on: date, hours: Hours, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    start, end = local_instant(on, hours.start, zone), local_instant(on, hours.end, zone)
    if start is None or end is None or end <= start:
        return None
    return start, end


def _closed_interval(closure: Closure, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC interval a closure covers (the whole local day when it has no times)."""
    if closure.start is not None and closure.end is not None:
        window = _window(closure.on, Hours(closure.start, closure.end), zone)
        if window is not None:
            return window
    day_start = datetime.combine(closure.on, time(0), tzinfo=zone).astimezone(UTC)
    day_end = datetime.combine(closure.on + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return day_start, day_end


def _subtract(piece: tuple[datetime, datetime], cut: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
    start, end = piece
    if cut[1] <= start or cut[0] >= end:
        return [piece]
    return [(a, b) for a, b in ((start, cut[0]), (cut[1], end)) if b > a]
