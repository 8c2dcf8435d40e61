"""Turning a queued event into an email: the subject, the text and HTML bodies and the invite.

A booking change queues small outbox rows that record what happened (the `event` column: a
snapshot of the booking as it stood, and the links the message carries), in the change's own
transaction. The worker renders each one just before sending it and stores the result in the
row, so every retry sends the same words. Rendering is a pure function of the row: a message
queued before a later change still describes the booking as it was when it was queued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask_babel import force_locale

from app.invites import course_ics, ics
from app.mail import compose, texts
from app.models import Booking, OutboxMessage
from app.models.booking import LOCALES, first_name_initial, format_reference
from app.models.mail import CHANNEL_SMS

CONFIRMATION = "confirmation"
UPDATE = "update"
CANCELLATION = "cancellation"
REMINDER = "reminder"
STAFF_NOTICE = "staff_notice"
OFFER = "offer"  # a waiting-list offer: about a free slot, not a booking
WAITLIST_JOINED = "waitlist_joined"  # the waiting list's private link, sent on joining
INBOUND = "inbound"  # mail to the clinic passed on to staff (app.replies): about no booking row
# To a booking's previous address when staff change it: that it changed, and nothing more.
CONTACT_CHANGED = "contact_changed"
# A treatment course's mail (app.courses): about a course's sessions, not a booking row.
COURSE_PLANNED = "course_planned"
COURSE_CHANGED = "course_changed"
COURSE_REMINDER = "course_reminder"
COURSE_KINDS = (COURSE_PLANNED, COURSE_CHANGED, COURSE_REMINDER)
KINDS = (
    CONFIRMATION,
    UPDATE,
    CANCELLATION,
    REMINDER,
    STAFF_NOTICE,
    OFFER,
    WAITLIST_JOINED,
    INBOUND,
    CONTACT_CHANGED,
    *COURSE_KINDS,
)


@dataclass(frozen=True)
class SlotTimes:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class BookingSnapshot:
    """What an email may say about a booking, as it stood when the email was queued."""

    public_id: str
    ical_uid: str
    ical_sequence: int
    status: str
    name: str
    email: str
    mode: str
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    cancelled_by: str | None = None
    reference: str | None = None
    locale: str = "en"  # events queued before bookings had a language are English
    calendar_reply: str | None = None  # the patient's answer from their calendar, if any
    video_room: str | None = None
    custom_video_url: str | None = None

    @property
    def reference_display(self) -> str:
        return format_reference(self.reference)

    @property
    def slot(self) -> SlotTimes:
        return SlotTimes(self.starts_at, self.ends_at)

    @property
    def first_name_initial(self) -> str:
        return first_name_initial(self.name)

    @classmethod
    def from_json(cls, data: dict) -> BookingSnapshot:
        times = ("starts_at", "ends_at", "updated_at")
        values: dict[str, Any] = {
            key: datetime.fromisoformat(value) if key in times else value for key, value in data.items()
        }
        return cls(**values)


def snapshot(booking: Booking) -> dict:
    """A BookingSnapshot of `booking` as JSON-ready values (read back by from_json)."""
    slot = booking.slot
    return {
        "public_id": booking.public_id,
        "ical_uid": booking.ical_uid,
        "ical_sequence": booking.ical_sequence,
        "status": booking.status,
        "name": booking.name,
        "email": booking.email,
        "mode": booking.mode,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "updated_at": booking.updated_at.isoformat(),
        "cancelled_by": booking.cancelled_by,
        "reference": booking.reference,
        "locale": booking.locale or "en",
        "calendar_reply": booking.calendar_reply,
        "video_room": booking.video_room,
        "custom_video_url": booking.custom_video_url,
    }


def event_json(booking: Booking, /, **details: str | None) -> str:
    """The `event` column for a message about `booking`: {"booking": its snapshot, **details}.
    `details` are the message's links and words (manage_url, previous_start, message,
    staff_event, staff_url)."""
    if "booking" in details:
        raise ValueError("a message detail cannot be called 'booking'")
    return json.dumps({"booking": snapshot(booking), **details})


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    ics: str | None = None
    ics_method: str | None = None


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def message_locale(kind: str, event: dict) -> str:
    """The language a message is written in: the patient's (the booking's, or the waiting-list
    entry's for its mail), whoever made the change; staff notices are in the staff's English."""
    if kind in (STAFF_NOTICE, INBOUND):
        return "en"
    unbooked = kind in (OFFER, WAITLIST_JOINED, *COURSE_KINDS)
    language = event.get("locale") if unbooked else event.get("booking", {}).get("locale")
    return language if language in LOCALES else "en"


def render_event(kind: str, event: dict, now: datetime) -> Rendered:
    """The words of one message, as sent at `now` (a reminder's "today" or "tomorrow" is
    decided then, not when it was queued), in the language of the person it is for."""
    with force_locale(message_locale(kind, event)):
        return _render_event(kind, event, now)


def _render_event(kind: str, event: dict, now: datetime) -> Rendered:
    if kind == OFFER:
        content = compose.offer(event)
        return Rendered(content.subject, content.text, content.html)
    if kind == WAITLIST_JOINED:
        content = compose.waitlist_joined(event)
        return Rendered(content.subject, content.text, content.html)
    if kind == INBOUND:
        content = compose.inbound_notice(event)
        return Rendered(content.subject, content.text, content.html)
    if kind in COURSE_KINDS:
        return _render_course(kind, event, now)
    # The composers read a booking's fields, and a snapshot has each of them as it stood when
    # the email was queued.
    booking = cast(Booking, BookingSnapshot.from_json(event["booking"]))
    link = event.get("manage_url")
    previous = _instant(event.get("previous_start"))
    if kind == CONFIRMATION:
        content = compose.confirmation(booking, event["manage_url"])
        calendar = ics.booking_invite(booking, ics.REQUEST, booking.updated_at, manage_url=link)
        return Rendered(content.subject, content.text, content.html, calendar, ics.REQUEST)
    if kind == UPDATE:
        content = compose.update(booking, datetime.fromisoformat(event["previous_start"]), link)
        calendar = ics.booking_invite(booking, ics.REQUEST, booking.updated_at, manage_url=link)
        return Rendered(content.subject, content.text, content.html, calendar, ics.REQUEST)
    if kind == CANCELLATION:
        content = compose.cancellation(booking, event.get("message"))
        calendar = ics.booking_invite(booking, ics.CANCEL, booking.updated_at)
        return Rendered(content.subject, content.text, content.html, calendar, ics.CANCEL)
    if kind == REMINDER:
        content = compose.reminder(booking, now, link)
        return Rendered(content.subject, content.text, content.html)
    if kind == CONTACT_CHANGED:
        content = compose.contact_changed()
        return Rendered(content.subject, content.text, content.html)
    if kind == STAFF_NOTICE:
        content = compose.staff_notice(booking, event["staff_event"], event["staff_url"], previous)
        return Rendered(content.subject, content.text, content.html)
    raise ValueError(f"unknown message kind {kind!r}")


def _render_course(kind: str, event: dict, now: datetime) -> Rendered:
    """A course's email: the planned course or a change carries its calendar data (see
    app.invites.course_ics for which method), a reminder none."""
    if kind == COURSE_REMINDER:
        content = compose.course_reminder(event, now)
        return Rendered(content.subject, content.text, content.html)
    entries = [course_ics.SessionEntry.from_json(data) for data in event["sessions"]]
    content = (compose.course_planned if kind == COURSE_PLANNED else compose.course_changed)(event, now)
    attendee = ics.Party(name=event["name"], email=event["email"]) if event.get("email") else None
    method, calendar = course_ics.course_calendar(entries, now, attendee, event.get("page_url"))
    return Rendered(content.subject, content.text, content.html, calendar, method)


def render(message: OutboxMessage, now: datetime) -> Rendered:
    """The message's words: rendered from its event (as sent at `now`) if it has not been
    rendered yet."""
    if message.event is None:
        return Rendered(message.subject, message.body_text, message.body_html, message.ics, message.ics_method)
    return render_event(message.kind, json.loads(message.event), now)


def fill(message: OutboxMessage, now: datetime) -> None:
    """Store the words rendered at `now` in the row (and drop the event, now written out); a
    text's words are its body_text."""
    if message.event is None:
        return
    if message.channel == CHANNEL_SMS:
        event = json.loads(message.event)
        message.body_text = texts.render(message.kind, event, now, message_locale(message.kind, event))
        message.event = None
        return
    rendered = render(message, now)
    message.subject = rendered.subject[:200]
    message.body_text = rendered.text
    message.body_html = rendered.html
    message.ics = rendered.ics
    message.ics_method = rendered.ics_method
    message.event = None
