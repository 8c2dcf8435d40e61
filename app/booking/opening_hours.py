"""What the public pages and emails say about opening hours, worked out from the weekly
opening hours themselves (AvailabilityRule rows), so it changes when staff change them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.core.extensions import db
from app.models import AvailabilityRule

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NO_HOURS = "By appointment: please call"
UNKNOWN_HOURS = "Please call for our opening hours"


def clock(at: time) -> str:
    """9:00 a.m., 12:00 p.m., 5:30 p.m. (AP style, as patients read it)."""
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d} {'a.m.' if at.hour < 12 else 'p.m.'}"


def _days(weekdays: list[int]) -> str:
    """Consecutive runs of three or more days read "Monday to Friday"; others are listed."""
    runs: list[list[int]] = []
    for day in sorted(weekdays):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[d] for d in run)
    if len(parts) == 1 or any(" to " in part for part in parts):
        # "and" beside "to" would blur where a run ends: commas only.
        return ", ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _merged(ranges: Iterable[tuple[time, time]]) -> list[tuple[time, time]]:
    """Ranges that touch or overlap read as one (9-12 and 12-5 is 9-5)."""
    merged: list[list[time]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def summarise(ranges: Iterable[tuple[int, time, time]]) -> str:
    """(weekday, start, end) ranges as one line: days with the same hours are grouped, in
    week order: "Monday to Friday 9:00 a.m.–5:00 p.m., Saturday 9:00 a.m.–12:00 p.m."."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in ranges:
        by_day.setdefault(weekday, []).append((start, end))
    if not by_day:
        return NO_HOURS
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for weekday in sorted(by_day):
        groups.setdefault(tuple(_merged(by_day[weekday])), []).append(weekday)
    lines = []
    for hours, weekdays in sorted(groups.items(), key=lambda item: min(item[1])):
        times = " and ".join(f"{clock(s)}\u2013{clock(e)}" for s, e in hours)
        lines.append(f"{_days(weekdays)} {times}")
    return ", ".join(lines)


def current_summary() -> str:
    """The line for the current opening hours. Shown in every page's footer, including the
    "we are having trouble" page, so an unreachable database gives a plain line, not an error."""
    try:
        rows = db.session.execute(
            select(AvailabilityRule.weekday, AvailabilityRule.start_time, AvailabilityRule.end_time)
        ).all()
    except DBAPIError:
        db.session.rollback()
        return UNKNOWN_HOURS
    return summarise((weekday, start, end) for weekday, start, end in rows)
