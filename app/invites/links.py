"""'Add to calendar' links for Google Calendar, Outlook.com and Office 365 (times in UTC).
Outlook uses its current compose deeplink (/calendar/0/action/compose, rru=addevent).

Pure functions: no Flask, no database. The links are plain URLs; nothing is loaded from
those services until the patient follows one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK_COM = "https://outlook.live.com/calendar/0/action/compose"
OFFICE_365 = "https://outlook.office.com/calendar/0/action/compose"


@dataclass(frozen=True)
class CalendarLinks:
    google: str
    outlook_com: str
    office_365: str


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: calendar links need UTC instants")
    return instant.astimezone(UTC).replace(microsecond=0)


def _encode(query: dict[str, str]) -> str:
    # Spaces as %20, not urlencode's default +: Outlook's compose deeplink shows a + literally.
    return urlencode(query, quote_via=quote)


def google_link(title: str, starts_at: datetime, ends_at: datetime, details: str, location: str) -> str:
    dates = f"{_utc(starts_at):%Y%m%dT%H%M%SZ}/{_utc(ends_at):%Y%m%dT%H%M%SZ}"
    query = {"action": "TEMPLATE", "text": title, "dates": dates, "details": details, "location": location}
    return f"{GOOGLE}?{_encode(query)}"


def _outlook(base: str, title: str, starts_at: datetime, ends_at: datetime, details: str, location: str) -> str:
    query = {
        "subject": title,
        "startdt": _utc(starts_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": _utc(ends_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": details,
        "location": location,
        "path": "/calendar/action/compose",
        "rru": "addevent",
    }
    return f"{base}?{_encode(query)}"


def calendar_links(title: str, starts_at: datetime, ends_at: datetime, details: str, location: str) -> CalendarLinks:
    return CalendarLinks(
        google=google_link(title, starts_at, ends_at, details, location),
        outlook_com=_outlook(OUTLOOK_COM, title, starts_at, ends_at, details, location),
        office_365=_outlook(OFFICE_365, title, starts_at, ends_at, details, location),
    )
