"""What counts as busy in an iCalendar text, read as the server that wrote it means it: pure,
no Flask, no database, takes the window.

Busy: opaque events, tentative or confirmed. Not busy: TRANSP:TRANSPARENT, STATUS:CANCELLED
(a whole series or one occurrence), and an event the calendar owner declined: an ATTENDEE
whose address equals the source's owner address with PARTSTAT=DECLINED. Without an owner
address, an event whose every attendee declined is not busy either; a Google secret address
(`/calendar/ical/<owner>/private-...`) names its owner (`owner_from_url`). Outlook's own
status wins over TRANSP: `X-MICROSOFT-CDO-BUSYSTATUS` FREE or WORKINGELSEWHERE is free,
BUSY, TENTATIVE and OOF are busy. A free/busy feed (VFREEBUSY: Outlook .vfb, Fastmail,
Nextcloud) blocks its FREEBUSY periods of type BUSY, BUSY-TENTATIVE and BUSY-UNAVAILABLE,
never FREE. UIDs are returned so the caller can leave out the clinic's own bookings that
come back through a calendar (`published_booking_uid`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from time import monotonic as time_now
from urllib.parse import unquote, urlsplit

import icalendar
import recurring_ical_events
import x_wr_timezone

MAX_OCCURRENCES = 20_000
MAX_SECONDS = 20.0


class FeedError(ValueError):
    """The text is not a calendar this service can read; the message is safe to show and
    never quotes the feed (it may hold titles or names)."""


@dataclass(frozen=True)
class Busy:
    starts_at: datetime
    ends_at: datetime
    uid: str


def _as_utc(value: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating time: the clinic's wall clock
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    # An all-day date begins at the clinic's local midnight.
    return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)


def _address(value) -> str:
    text = str(value).strip().lower()
    return text[len("mailto:") :] if text.startswith("mailto:") else text


def _declined(event, owner: str) -> bool:
    attendees = event.get("ATTENDEE")
    if attendees is None:
        return False
    if not isinstance(attendees, list):
        attendees = [attendees]
    states = [(_address(a), str(getattr(a, "params", {}).get("PARTSTAT", "NEEDS-ACTION")).upper()) for a in attendees]
    if owner:
        return any(address == owner and state == "DECLINED" for address, state in states)
    return bool(states) and all(state == "DECLINED" for _, state in states)


# Outlook's free/busy status of an event, which Outlook itself obeys whatever TRANSP says.
_OUTLOOK_FREE = ("FREE", "WORKINGELSEWHERE")
_OUTLOOK_BUSY = ("BUSY", "TENTATIVE", "OOF")
# Free/busy period types (RFC 5545 FBTYPE) that take the time; FREE does not, and a period
# without FBTYPE is BUSY.
BLOCKING_FBTYPES = ("BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE")


def is_busy(event, owner: str = "") -> bool:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    if _declined(event, owner.strip().lower()):
        return False
    outlook = str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).strip().upper()
    if outlook in _OUTLOOK_FREE:
        return False
    if outlook in _OUTLOOK_BUSY:
        return True
    return str(event.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT"


# The staff feed (app/invites/feeds.py) publishes each booking as `staff-<booking UID>`; the
# patient's invite carries the booking UID itself.
STAFF_FEED_UID_PREFIX = "staff-"


def published_booking_uid(uid: str) -> str:
    """The booking UID behind an event UID this service publishes (the UID unchanged when
    it is not one of the staff feed's): the caller looks it up among the bookings."""
    return uid[len(STAFF_FEED_UID_PREFIX) :] if uid.startswith(STAFF_FEED_UID_PREFIX) else uid


_GOOGLE_SECRET_PATH = re.compile(r"/calendar/ical/([^/]+)/private-[^/]*/")
_GOOGLE_CALENDAR_IDS = ("group.calendar.google.com", "group.v.calendar.google.com", "import.calendar.google.com")


def owner_from_url(url: str) -> str:
    """The owner's address in a Google Calendar secret address
    (`/calendar/ical/<owner>/private-<key>/basic.ics`), or "" (another kind of address, or
    a shared calendar's id, which is no one's address)."""
    match = _GOOGLE_SECRET_PATH.search(urlsplit(url).path + "/")
    if not match:
        return ""
    owner = unquote(match.group(1)).strip().lower()
    if "@" not in owner or owner.rsplit("@", 1)[1] in _GOOGLE_CALENDAR_IDS:
        return ""
    return owner


def parse_calendars(texts: Iterable[bytes | str]) -> list[icalendar.Calendar]:
    calendars = []
    for text in texts:
        try:
            parsed = icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as error:  # noqa: BLE001 - any parser failure means an unreadable feed
            raise FeedError("the feed is not valid iCalendar") from error
        for calendar in parsed:
            if calendar.name != "VCALENDAR":
                raise FeedError("the feed is not an iCalendar VCALENDAR")
            try:
                calendars.append(x_wr_timezone.to_standard(calendar))
            except Exception as error:  # noqa: BLE001
                raise FeedError("the feed names a time zone that cannot be read") from error
    if not calendars:
        raise FeedError("the feed holds no calendar")
    return calendars


def busy_times(
    calendars: Iterable[icalendar.Calendar],
    start: datetime,
    end: datetime,
    zone: tzinfo,
    owner: str = "",
    limit: int = MAX_OCCURRENCES,
    seconds: float = MAX_SECONDS,
) -> list[Busy]:
    """Busy spans overlapping [start, end), recurrences expanded inside the window only.
    Raises FeedError when the calendar cannot be read, holds more than `limit` occurrences
    in the window, or takes longer than `seconds` to expand."""
    deadline = time_now() + seconds
    found: list[Busy] = []
    seen = 0
    for calendar in calendars:
        for span in _free_busy(calendar, zone):
            seen += 1
            if seen > limit:
                raise FeedError(f"the feed has more than {limit} events in the booking horizon")
            if span[0] < end and span[1] > start:
                found.append(Busy(span[0], span[1], ""))
        _check_series(calendar, end, zone, limit)
        try:
            for event in recurring_ical_events.of(calendar, skip_bad_series=True).after(start):
                occurrence = _span(event, zone)
                if occurrence is not None and occurrence[0] >= end:
                    break  # occurrences come in order of start
                seen += 1
                if seen > limit:
                    raise FeedError(f"the feed has more than {limit} events in the booking horizon")
                if time_now() > deadline:
                    raise FeedError("the feed took too long to read")
                if occurrence is None or occurrence[1] <= start or not is_busy(event, owner):
                    continue
                found.append(Busy(occurrence[0], occurrence[1], str(event.get("UID", ""))))
        except FeedError:
            raise
        except Exception as error:  # noqa: BLE001 - bad dates, rules or zones in the feed
            raise FeedError("the feed has events that cannot be read") from error
    return found


def _free_busy(calendar: icalendar.Calendar, zone: tzinfo) -> Iterator[tuple[datetime, datetime]]:
    """The blocking FREEBUSY periods of a calendar's VFREEBUSY components."""
    for component in calendar.walk("VFREEBUSY"):
        periods = component.get("FREEBUSY", [])
        for period in periods if isinstance(periods, list) else [periods]:
            if str(period.params.get("FBTYPE", "BUSY")).upper() not in BLOCKING_FBTYPES:
                continue
            try:
                first, second = period.dt
                starts_at = _as_utc(first, zone)
                ends_at = starts_at + second if isinstance(second, timedelta) else _as_utc(second, zone)
            except (TypeError, ValueError, AttributeError) as error:
                raise FeedError("the feed has free/busy periods that cannot be read") from error
            if ends_at > starts_at:
                yield starts_at, ends_at


_PERIOD_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
_EXPANDING_PARTS = (
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
)


def _check_series(calendar: icalendar.Calendar, end: datetime, zone: tzinfo, limit: int) -> None:
    """Refuse a repeating event whose expansion up to `end` would take more than about
    `limit` x 25 steps (the recurrence library walks a series from its first date, so a
    minutely rule begun years ago would never finish)."""
    budget = limit * 25
    for event in calendar.walk("VEVENT"):
        rules = event.get("RRULE")
        if rules is None or event.get("DTSTART") is None:
            continue
        for rule in rules if isinstance(rules, list) else [rules]:
            try:
                first = _as_utc(event.decoded("DTSTART"), zone)
                period = _PERIOD_SECONDS[str(rule.get("FREQ", ["DAILY"])[0]).upper()]
                interval = max(1, int(rule.get("INTERVAL", [1])[0]))
                steps = max(0.0, (end - first).total_seconds()) / (period * interval) + 1
                for part in _EXPANDING_PARTS:
                    steps *= max(1, len(rule.get(part, [])))
                if rule.get("COUNT"):
                    steps = min(steps, int(rule["COUNT"][0]) * 366.0)
            except Exception as error:  # noqa: BLE001
                raise FeedError("the feed has a repeating event that cannot be read") from error
            if steps > budget:
                raise FeedError(f"the feed has a repeating event with more than {budget} occurrences to expand")


def _span(event, zone: tzinfo) -> tuple[datetime, datetime] | None:
    if event.get("DTSTART") is None:
        return None
    raw_start = event["DTSTART"].dt
    starts_at = _as_utc(raw_start, zone)
    if event.get("DTEND") is not None:
        ends_at = _as_utc(event["DTEND"].dt, zone)
    elif event.get("DURATION") is not None:
        ends_at = starts_at + event["DURATION"].dt
    elif isinstance(raw_start, datetime):
        ends_at = starts_at  # RFC 5545: a timed event without an end takes no time
    else:
        ends_at = _as_utc(raw_start + timedelta(days=1), zone)
    if ends_at <= starts_at:
        return None
    return starts_at, ends_at


def merge(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching spans joined, in order."""
    merged: list[tuple[datetime, datetime]] = []
    for starts_at, ends_at in sorted(spans):
        if merged and starts_at <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], ends_at))
        else:
            merged.append((starts_at, ends_at))
    return merged
