"""Opening hours and closures: the rules as the slot and course planners take them, and what
the public pages and emails say about them (worked out from the AvailabilityRule rows, so it
changes when staff change them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time
from functools import cache, lru_cache

from babel.dates import format_time, get_day_names
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.models import AvailabilityRule, DateOverride
from app.schedule.availability import Closure, Hours, open_windows

OpeningRules = tuple[dict[int, list[Hours]], dict[date, list[Hours]], list[Closure]]


def opening_rules() -> OpeningRules:
    """The weekly hours, extra hours by date and closures, as app.schedule.availability takes them."""
    rules, overrides = _rules_statements()
    weekly: dict[int, list[Hours]] = defaultdict(list)
    for weekday, start, end, slot_minutes, buffer_minutes, modes in db.session.execute(rules):
        weekly[weekday].append(Hours(start, end, slot_minutes, buffer_minutes, tuple(modes.split(","))))
    extra: dict[date, list[Hours]] = defaultdict(list)
    closures: list[Closure] = []
    for on_date, kind, start, end, slot_minutes, buffer_minutes, modes in db.session.execute(overrides):
        if kind == "closed":
            closures.append(Closure(on_date, start, end))
        elif start and end:
            extra[on_date].append(Hours(start, end, slot_minutes, buffer_minutes, tuple(modes.split(","))))
    return weekly, extra, closures


@cache
def _rules_statements():
    """Built once, read as rows (no ORM objects): the staff dashboard reads them on every request."""
    return (
        select(
            AvailabilityRule.weekday,
            AvailabilityRule.start_time,
            AvailabilityRule.end_time,
            AvailabilityRule.slot_minutes,
            AvailabilityRule.buffer_minutes,
            AvailabilityRule.modes,
        ),
        select(
            DateOverride.on_date,
            DateOverride.kind,
            DateOverride.start_time,
            DateOverride.end_time,
            DateOverride.slot_minutes,
            DateOverride.buffer_minutes,
            DateOverride.modes,
        ),
    )


NO_HOURS = _l("By appointment (please call us)")
UNKNOWN_HOURS = _l("Please call for our opening hours")


def _language() -> str:
    return str(get_locale() or "en")


def day_name(weekday: int) -> str:
    """Monday... in the page's language (0 is Monday; lower case where the language writes it so)."""
    return get_day_names("wide", locale=_language())[weekday]


def clock(at: time) -> str:
    """9:00 a.m., 12:00 p.m., 5:30 p.m. (AP style, as patients read it); in Spanish, Babel's
    own "9:00 a. m."."""
    if _language() != "en":
        return format_time(at, "h:mm a", locale=_language())
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
            parts.append(_("%(first)s to %(last)s", first=day_name(run[0]), last=day_name(run[-1])))
        else:
            parts.extend(day_name(d) for d in run)
    if len(parts) == 1 or any(len(run) >= 3 for run in runs):
        # "and" beside "to" would blur where a run ends: commas only.
        return ", ".join(parts)
    return _("%(rest)s and %(last)s", rest=", ".join(parts[:-1]), last=parts[-1])


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
        return str(NO_HOURS)
    groups: dict[tuple[tuple[time, time], ...], list[int]] = {}
    for weekday in sorted(by_day):
        groups.setdefault(tuple(_merged(by_day[weekday])), []).append(weekday)
    lines = []
    for hours, weekdays in sorted(groups.items(), key=lambda item: min(item[1])):
        times = _(" and ").join(f"{clock(s)}\u2013{clock(e)}" for s, e in hours)
        lines.append(f"{_days(weekdays)} {times}")
    # No capital added: Spanish writes days in lower case, even after a colon or a bracket.
    return ", ".join(lines)


@lru_cache(maxsize=64)
def _summary_in(language: str, ranges: tuple[tuple[int, time, time], ...]) -> str:
    with force_locale(language):
        return summarise(ranges)


@cache
def _hours_statement():
    """Built once, so SQLAlchemy works out its cache key once, not on every page."""
    columns = (AvailabilityRule.weekday, AvailabilityRule.start_time, AvailabilityRule.end_time)
    return select(*columns).order_by(*columns)


def current_summary() -> str:
    """The line for the current opening hours, read from the database each time (the line
    for given hours is worded once per language). Shown in every page's footer, including the
    "we are having trouble" page, so an unreachable database gives a plain line, not an error."""
    try:
        rows = db.session.execute(_hours_statement()).all()
    except DBAPIError:
        db.session.rollback()
        return str(UNKNOWN_HOURS)
    return _summary_in(_language(), tuple((weekday, start, end) for weekday, start, end in rows))


def opening_windows(on: date, rules: OpeningRules | None = None) -> list[tuple[datetime, datetime]]:
    """When the clinic is open on `on` (UTC intervals), from the opening hours and closures;
    pass `rules` (from `opening_rules()`) to read them once for many days."""
    weekly, extra, closures = rules or opening_rules()
    return open_windows(weekly, on, clinic_zone(), extra, closures)
