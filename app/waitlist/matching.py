"""Which freed slot suits which entry, and how long an offer may stand: pure functions of
wall-clock values (no Flask, no database), so every rule is easy to test."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MORNING, AFTERNOON = "morning", "afternoon"
PARTS_OF_DAY = (MORNING, AFTERNOON)
NOON = time(12, 0)


@dataclass(frozen=True)
class Preferences:
    """What suits a person. Empty tuples mean "any"; weekdays are ISO (Monday = 1)."""

    earliest: date
    latest: date
    weekdays: tuple[int, ...] = ()
    parts_of_day: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()


def part_of_day(local_start: datetime) -> str:
    """Morning before noon, afternoon from noon, on the clinic's clock."""
    return MORNING if local_start.time() < NOON else AFTERNOON


def shared_modes(preferences: Preferences, slot_modes: Sequence[str]) -> list[str]:
    """The slot's meeting types this person would take, in the slot's order."""
    return [m for m in slot_modes if not preferences.modes or m in preferences.modes]


def fits(preferences: Preferences, starts_at: datetime, slot_modes: Sequence[str], zone: ZoneInfo) -> bool:
    """Whether a slot starting at `starts_at` (aware) with `slot_modes` suits `preferences`,
    read in the clinic's zone `zone`."""
    local = starts_at.astimezone(zone)
    if not preferences.earliest <= local.date() <= preferences.latest:
        return False
    if preferences.weekdays and local.isoweekday() not in preferences.weekdays:
        return False
    if preferences.parts_of_day and part_of_day(local) not in preferences.parts_of_day:
        return False
    return bool(shared_modes(preferences, slot_modes))


def entry_expiry(joined_at: datetime, latest: date, days: int, zone: ZoneInfo) -> datetime:
    """An entry lasts `days` after joining, and never past the end of its `latest` day."""
    end_of_latest = datetime.combine(latest + timedelta(days=1), time(0), zone)
    return min(joined_at + timedelta(days=days), end_of_latest)


def offer_expiry(now: datetime, starts_at: datetime, hours: int, notice_hours: int) -> datetime | None:
    """When an offer made at `now` stops being claimable: after `hours`, and never past the
    moment the slot leaves the booking window (`notice_hours` before it starts). None when
    that moment has already come."""
    bookable_until = starts_at - timedelta(hours=notice_hours)
    if bookable_until <= now:
        return None
    return min(now + timedelta(hours=hours), bookable_until)


def under_daily_limit(sent_at: Iterable[datetime], now: datetime, limit: int) -> bool:
    """Whether one more offer may go to a person who was sent offers at `sent_at`: at most
    `limit` in any 24 hours."""
    since = now - timedelta(hours=24)
    return sum(1 for moment in sent_at if moment > since) < limit
