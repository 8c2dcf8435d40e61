"""iCalendar objects built from bookings: the emailed invite (METHOD:REQUEST / CANCEL), the
patient's download and the staff feed (METHOD:PUBLISH).

Times are always UTC (`...Z`), never floating, so no VTIMEZONE is needed. Nothing about a
patient's health goes in here: the summary is "Consultation – <clinic>" and the description
carries only practical details.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vDuration

from app.core.config import inbound_mail_configured
from app.core.templating import street_shown
from app.core.text import one_line
from app.invites.video import video_link
from app.models import Booking
from app.models.booking import STATUS_CANCELLED

PRODID = "-//Mindset TMS//Consultation booking//EN"
REQUEST, CANCEL, PUBLISH = "REQUEST", "CANCEL", "PUBLISH"
METHODS = (REQUEST, CANCEL, PUBLISH)

_DTSTAMP = re.compile(r"^DTSTAMP:\d{8}T\d{6}Z(?=\r?$)", re.MULTILINE)


@dataclass(frozen=True)
class Party:
    name: str
    email: str


@dataclass(frozen=True)
class InviteEvent:
    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    organizer: Party
    attendee: Party | None = None
    cancelled: bool = False
    url: str | None = None
    last_modified: datetime | None = None
    conference: str | None = None  # a video call's address (RFC 7986 CONFERENCE)


def _cn(name: str) -> str:
    # A DQUOTE cannot appear inside a quoted parameter; the RFC 6868 escape (^') is not
    # understood by every client, so use an apostrophe instead.
    return one_line(name).replace('"', "'") or "Guest"


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime in an invite: times must be UTC instants")
    return instant.astimezone(UTC).replace(microsecond=0)


def _address(party: Party) -> vCalAddress:
    address = vCalAddress(f"mailto:{one_line(party.email)}")
    address.params["CN"] = _cn(party.name)
    return address


def _vevent(event: InviteEvent, method: str | None, dtstamp: datetime) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", _utc(dtstamp))
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    vevent.add("summary", event.summary)
    vevent.add("location", event.location)
    vevent.add("description", event.description)
    if event.url:
        vevent.add("url", event.url)
    if event.conference:
        vevent.add(
            "conference", event.conference, parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": _("Video call")}
        )
    if event.last_modified:
        vevent.add("last-modified", _utc(event.last_modified))
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("organizer", _address(event.organizer))
    # RFC 5546: REQUEST and CANCEL name the attendees; PUBLISH must not.
    if method in (REQUEST, CANCEL) and event.attendee:
        attendee = _address(event.attendee)
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        # Ask for Yes / Maybe / No only when someone reads the answers (app.replies).
        attendee.params["RSVP"] = "TRUE" if inbound_mail_configured(current_app.config) else "FALSE"
        vevent.add("attendee", attendee)
    return vevent


def build_calendar(
    events: Iterable[InviteEvent],
    method: str | None,
    dtstamp: datetime,
    name: str | None = None,
    refresh: timedelta | None = None,
) -> str:
    """A VCALENDAR text with CRLF line endings, folded at 75 octets (RFC 5545). `refresh` is
    how often a subscriber should read it again (RFC 7986 REFRESH-INTERVAL, and Outlook's
    X-PUBLISHED-TTL)."""
    if method is not None and method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    if refresh:
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(refresh))
    for event in events:
        calendar.add_component(_vevent(event, method, dtstamp))
    return calendar.to_ical().decode("utf-8")


def invite(event: InviteEvent, method: str, dtstamp: datetime) -> str:
    """One event as REQUEST (new or moved), CANCEL (withdrawn) or PUBLISH (a download)."""
    if method == CANCEL and not event.cancelled:
        raise ValueError("a CANCEL carries STATUS:CANCELLED")
    return build_calendar([event], method, dtstamp)


def restamp(ics: str, dtstamp: datetime) -> str:
    """The same calendar with DTSTAMP set to `dtstamp` (the moment it is sent)."""
    value = _utc(dtstamp).strftime("%Y%m%dT%H%M%SZ")
    return _DTSTAMP.sub(f"DTSTAMP:{value}", ics)


# --- from bookings -------------------------------------------------------------------------


def clinic_address() -> str:
    config = current_app.config
    return (
        f"{street_shown(config['CLINIC_STREET'])}, {config['CLINIC_CITY']}, "
        f"{config['CLINIC_REGION']} {config['CLINIC_POSTCODE']}"
    )


def location(mode: str, video_url: str | None = None) -> str:
    if mode == "phone":
        return _("Phone call")
    if mode == "video":
        return video_url or _("Video call")
    return clinic_address()


def summary() -> str:
    return _("Consultation – %(clinic)s", clinic=current_app.config["CLINIC_NAME"])


def organizer() -> Party:
    """The clinic's sending address (a bare mailto:) with the clinic's name."""
    config = current_app.config
    name, address = parseaddr(config["MAIL_DEFAULT_SENDER"])
    return Party(name=config["CLINIC_NAME"] or name, email=address)


def patient_description(booking: Booking, manage_url: str | None) -> str:
    config = current_app.config
    lines = [_("Your consultation with %(clinic)s.", clinic=config["CLINIC_NAME"])]
    reference = getattr(booking, "reference_display", "")
    if reference:
        lines.append(_("Booking reference: %(reference)s.", reference=reference))
    if booking.mode == "in_person":
        lines.append(_("Where: %(address)s.", address=clinic_address()))
    elif booking.mode == "phone":
        lines.append(_("We will call you on the phone number you gave us."))
    elif video_link(booking):
        lines.append(_("Join the video call: %(url)s", url=video_link(booking)))
    else:
        lines.append(_("We will call you before the consultation to give you the link for the video call."))
    if manage_url:
        lines.append(_("To move or cancel: %(url)s", url=manage_url))
    else:
        lines.append(_("To move or cancel, use the link in your confirmation email."))
    lines.append(_("Questions: call %(phone)s.", phone=config["CLINIC_PHONE"]))
    lines.append(_("In a crisis, call or text 988, or call 911."))
    return "\n".join(lines)


def booking_event(booking: Booking, manage_url: str | None = None) -> InviteEvent:
    """The patient's view of a booking, as sent in their invites."""
    return InviteEvent(
        uid=booking.ical_uid,
        sequence=booking.ical_sequence,
        starts_at=booking.slot.starts_at,
        ends_at=booking.slot.ends_at,
        summary=summary(),
        location=location(booking.mode, video_link(booking)),
        description=patient_description(booking, manage_url),
        organizer=organizer(),
        attendee=Party(name=booking.name, email=booking.email or ""),  # invites go to email bookings only
        cancelled=booking.status == STATUS_CANCELLED,
        url=manage_url,
        conference=video_link(booking),
    )


def booking_invite(booking: Booking, method: str, dtstamp: datetime, manage_url: str | None = None) -> str:
    return invite(booking_event(booking, manage_url), method, dtstamp)
