"""Clinic-local dates and times from staff forms, turned into UTC instants and back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.core.timefmt import clinic_zone
from app.models import utcnow
from app.schedule.availability import local_instant


def clinic_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(clinic_zone()).date()


def start_of_day(on: date) -> datetime:
    """The UTC instant the clinic's local day begins (midnight always exists in US zones;
    otherwise the first instant of the day)."""
    zone = clinic_zone()
    return datetime.combine(on, time(0), tzinfo=zone).astimezone(UTC)


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in UTC."""
    return start_of_day(first), start_of_day(last + timedelta(days=1))


def week_start(on: date) -> date:
    return on - timedelta(days=on.weekday())


def instant(on: date, at: time) -> datetime | None:
    return local_instant(on, at, clinic_zone())


def local(instant_utc: datetime) -> datetime:
    return instant_utc.astimezone(clinic_zone())


def parse_date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def parse_time(raw: str | None) -> time | None:
    raw = (raw or "").strip()
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(raw, pattern).time()
        except ValueError:
            continue
    return None


def clock(at: time) -> str:
    """'9:00 AM' for a wall-clock time."""
    return datetime.combine(date(2000, 1, 1), at).strftime("%I:%M %p").lstrip("0")
