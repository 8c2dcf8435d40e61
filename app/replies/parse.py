"""Reading one inbound email (RFC 5322): who sent it, whether the receiving server saw its
DKIM or DMARC fail, and the iTIP REPLY or COUNTER (RFC 5546, carried as in RFC 6047) it holds.

Pure functions of the message's bytes: nothing here looks anything up or changes anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage, MIMEPart
from email.policy import default as default_policy

from icalendar import Calendar

REPLY, COUNTER = "REPLY", "COUNTER"
ACCEPTED, TENTATIVE, DECLINED = "ACCEPTED", "TENTATIVE", "DECLINED"

CALENDAR_TYPES = ("text/calendar", "application/ics")
TEXT_LIMIT = 10_000  # characters of a message's text kept for staff
_AUTH_FAILED = re.compile(r"\b(?:dkim|dmarc)\s*=\s*fail\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class CalendarReply:
    """An attendee's answer to an invite: REPLY (with each ATTENDEE's PARTSTAT) or COUNTER
    (a proposed new time)."""

    method: str
    uid: str
    sequence: int
    attendees: tuple[tuple[str, str], ...]  # (address, PARTSTAT), addresses in lower case
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    comment: str = ""

    def partstat_of(self, address: str | None) -> str | None:
        """The PARTSTAT this reply gives for `address`, or None when it names no such attendee
        (or there is no address: a booking by phone only)."""
        if address is None:
            return None
        address = address.strip().lower()
        for attendee, partstat in self.attendees:
            if attendee == address:
                return partstat
        return None


@dataclass(frozen=True)
class Inbound:
    from_address: str  # the one From address in lower case; "" when there is not exactly one
    subject: str
    date: str
    message_id: str
    authentication_failed: bool  # a receiving server's Authentication-Results says dkim or dmarc=fail
    reply: CalendarReply | None
    text: str  # the readable body, for a notice to staff


def _mailto(value: object) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.strip().lower()


def _attendee_address(attendee) -> str:
    # Apple Calendar may name an attendee by a urn:uuid: with the address in EMAIL=.
    address = _mailto(attendee)
    if "@" not in address:
        address = str(attendee.params.get("EMAIL", "")).strip().lower()
    return address


def _instant(event, name: str) -> datetime | None:
    try:
        value = event.decoded(name)
    except (KeyError, ValueError):
        return None
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def calendar_reply(text: str) -> CalendarReply | None:
    """The REPLY or COUNTER in an iCalendar text, or None when it holds neither (or cannot
    be read)."""
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError):
        return None
    method = str(calendar.get("METHOD", "")).strip().upper()
    if method not in (REPLY, COUNTER):
        return None
    events = calendar.walk("VEVENT")
    if not events:
        return None
    event = events[0]
    uid = str(event.get("UID", "")).strip()
    if not uid:
        return None
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        sequence = 0
    found = event.get("ATTENDEE", [])
    attendees = tuple(
        (_attendee_address(attendee), str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper())
        for attendee in (found if isinstance(found, list) else [found])
    )
    return CalendarReply(
        method=method,
        uid=uid,
        sequence=sequence,
        attendees=attendees,
        starts_at=_instant(event, "DTSTART"),
        ends_at=_instant(event, "DTEND"),
        comment=str(event.get("COMMENT", "")).strip(),
    )


def _part_text(part: MIMEPart) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def _find_reply(message: EmailMessage) -> CalendarReply | None:
    for part in message.walk():
        if part.get_content_type() in CALENDAR_TYPES:
            reply = calendar_reply(_part_text(part))
            if reply is not None:
                return reply
    return None


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _part_text(body)
    if body.get_content_type() == "text/html":
        text = " ".join(_TAG.sub(" ", text).split())
    return text.strip()[:TEXT_LIMIT]


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "")
    except (ValueError, IndexError, TypeError):  # a header too broken to read
        return ""


def _from_address(message: EmailMessage) -> str:
    try:
        header = message.get("From")
        if header is None:
            return ""
        addresses = header.addresses
    except (ValueError, IndexError, TypeError, AttributeError):
        return ""
    if len(addresses) != 1:
        return ""
    return addresses[0].addr_spec.strip().lower()


def read_message(raw: bytes) -> Inbound:
    """What one email says, as far as this service cares."""
    message = message_from_bytes(raw, policy=default_policy)
    results = message.get_all("Authentication-Results", [])
    return Inbound(
        from_address=_from_address(message),
        subject=_header(message, "Subject"),
        date=_header(message, "Date"),
        message_id=_header(message, "Message-ID"),
        authentication_failed=any(_AUTH_FAILED.search(str(result)) for result in results),
        reply=_find_reply(message),
        text=_body_text(message),
    )
