"""What a booking change tells people. Called inside the change's own transaction, so the
messages are queued atomically with it (see app.mail.outbox); nothing is rendered or sent
here: the worker renders each queued event when it sends it (app.mail.rendering).

The database keeps only a hash of the manage token, so a message can carry the manage link
only when its change knows the token: the booking, a resent confirmation, a move with the
patient's own link, or a change that issues a new link (a move by staff or the waiting
list, a corrected address); the cancellation needs none.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from app.core.i18n import PREFIXES
from app.core.urls import public_url, staff_booking_url
from app.mail import outbox
from app.mail.outbox import Message
from app.models import Booking
from app.models.mail import CHANNEL_EMAIL, CHANNEL_SMS


def manage_url(token: str, locale: str = "en") -> str:
    """The patient's private link, at the address of the language they booked in."""
    return public_url(f"{PREFIXES.get(locale, '')}/manage/{token}")


def short_manage_url(token: str) -> str:
    """The same private link, short enough for a text (/m/ leads to the manage page)."""
    return public_url(f"/m/{token}")


def _now(booking: Booking) -> datetime:
    # The service stamps the change's `now` on the booking; using it keeps hooks testable.
    return booking.updated_at


def _to_patient(kind: str, booking: Booking, **details: str | None) -> list[Message]:
    """The patient's message, or none for a caller booked without an email (phone only)."""
    if booking.email is None:  # phone only
        return []
    return [Message(kind, to_address=booking.email, to_name=booking.name, details=details)]


def _to_staff(booking: Booking, event: str, previous_start: datetime | None = None) -> list[Message]:
    address = current_app.config["STAFF_NOTIFY_EMAIL"]
    if not address:
        return []
    return [
        Message(
            outbox.STAFF_NOTICE,
            to_address=address,
            to_name=current_app.config["CLINIC_NAME"],
            details={
                "staff_event": event,
                "staff_url": staff_booking_url(booking),
                "previous_start": previous_start.isoformat() if previous_start else None,
            },
        )
    ]


def _reminder(booking: Booking, link: str | None, channel: str = CHANNEL_EMAIL) -> list[Message]:
    """A reminder REMINDER_HOURS_BEFORE the start, unless that moment has already passed."""
    hours = current_app.config["REMINDER_HOURS_BEFORE"]
    due_at = booking.slot.starts_at - timedelta(hours=hours)
    if hours <= 0 or due_at <= _now(booking):
        return []
    if channel == CHANNEL_SMS:
        return [
            Message(
                outbox.REMINDER,
                to_address=booking.phone,
                due_at=due_at,
                channel=CHANNEL_SMS,
                details={"sms_link": link},
            )
        ]
    if booking.email is None:  # phone only
        return []
    return [
        Message(
            outbox.REMINDER, to_address=booking.email, to_name=booking.name, due_at=due_at, details={"manage_url": link}
        )
    ]


def _texts(booking: Booking, token: str | None, *, confirmation: bool) -> list[Message]:
    """The patient's texts, only when they agreed to them: the confirmation (when asked for)
    and the reminder. Opt-outs and the one-a-day rule are checked when each is sent."""
    if booking.sms_consent_at is None:
        return []
    link = short_manage_url(token) if token else None
    confirmed = (
        [Message(outbox.CONFIRMATION, to_address=booking.phone, channel=CHANNEL_SMS, details={"sms_link": link})]
        if confirmation
        else []
    )
    return [*confirmed, *_reminder(booking, link, CHANNEL_SMS)]


# --- who hears about what: the one rule ------------------------------------------------

BOOKED, MOVED, CANCELLED, RESENT, NOTE, ATTENDANCE = ("booked", "moved", "cancelled", "resent", "note", "attendance")


def recipients(change: str) -> tuple[bool, bool]:
    """(patient, staff): who is told about a change, the same whoever made it (the patient
    online, or staff in the console).

    The patient hears of every change to their consultation (booked, moved, cancelled) and
    gets a resent confirmation; internal notes and attendance are never sent to them. The
    staff address gets a notice of every change to a consultation (booked, moved,
    cancelled), so the shared inbox is a complete record whoever did it; a resent
    confirmation, a note or attendance changes no time, so it sends no notice."""
    return {
        BOOKED: (True, True),
        MOVED: (True, True),
        CANCELLED: (True, True),
        RESENT: (True, False),
        NOTE: (False, False),
        ATTENDANCE: (False, False),
    }[change]


def _staff_if(change: str, booking: Booking, previous_start: datetime | None = None) -> list[Message]:
    return _to_staff(booking, change, previous_start) if recipients(change)[1] else []


def booking_confirmed(booking: Booking, manage_token: str) -> None:
    """Queue the patient's confirmation (with invite), the staff notice and the reminder, in
    the booking's own transaction."""
    link = manage_url(manage_token, booking.locale)
    outbox.enqueue(
        booking,
        *_to_patient(outbox.CONFIRMATION, booking, manage_url=link),
        *_staff_if(BOOKED, booking),
        *_reminder(booking, link),
        *_texts(booking, manage_token, confirmation=True),
    )


def confirmation_resent(booking: Booking, manage_token: str) -> None:
    """Queue the confirmation again with the new manage link; the pending reminder, which
    carries the old link, is replaced by one with the new link."""
    link = manage_url(manage_token, booking.locale)
    outbox.withdraw_pending(booking, outbox.REMINDER)
    outbox.enqueue(
        booking,
        *_to_patient(outbox.CONFIRMATION, booking, manage_url=link),
        *_staff_if(RESENT, booking),
        *_reminder(booking, link),
        *_texts(booking, manage_token, confirmation=False),
    )


def contact_changed(booking: Booking, *, to_new_address: bool) -> None:
    """Before a booking's email address changes (called with the booking as it still stands):
    withdraw what is still queued for the old address and, when there is a new address, tell
    the old one only that it changed. The confirmation to the new address follows
    (confirmation_resent)."""
    for kind in (outbox.CONFIRMATION, outbox.UPDATE):
        outbox.withdraw_pending(booking, kind)
    if to_new_address and booking.email is not None:  # not phone only
        outbox.enqueue(booking, Message(outbox.CONTACT_CHANGED, to_address=booking.email))


def booking_rescheduled(booking: Booking, previous_start: datetime, manage_token: str) -> None:
    """Queue the patient's update (same UID, higher SEQUENCE) and move the reminder, both
    with the manage link."""
    link = manage_url(manage_token, booking.locale)
    outbox.withdraw_pending(booking, outbox.REMINDER)
    outbox.enqueue(
        booking,
        *_to_patient(outbox.UPDATE, booking, previous_start=previous_start.isoformat(), manage_url=link),
        *_staff_if(MOVED, booking, previous_start),
        *_reminder(booking, link),
        *_texts(booking, manage_token, confirmation=False),
    )


def booking_cancelled(booking: Booking, message: str | None = None) -> None:
    """Queue the patient's cancellation (METHOD:CANCEL) and withdraw the reminder."""
    outbox.withdraw_pending(booking, outbox.REMINDER)
    outbox.enqueue(booking, *_to_patient(outbox.CANCELLATION, booking, message=message), *_staff_if(CANCELLED, booking))
