"""What a booking change tells people. Called inside the change's own transaction, so the
messages are queued atomically with it (see app.mail.outbox); nothing is sent here.

The manage token exists only while the booking is made (the database keeps its hash), so
the confirmation and the first reminder (queued together, at booking) carry the manage
link; later messages point to the confirmation email and the clinic's phone instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from app.invites import ics
from app.invites.feeds import public_url, staff_booking_url
from app.mail import compose, outbox
from app.models import Booking


def manage_url(token: str) -> str:
    return public_url(f"/manage/{token}")


def _now(booking: Booking) -> datetime:
    # The service stamps the change's `now` on the booking; using it keeps hooks testable.
    return booking.updated_at


def _queue_patient(kind: str, booking: Booking, content: compose.Content,
                   calendar: str | None = None, method: str | None = None,
                   due_at: datetime | None = None) -> None:
    outbox.enqueue(kind, to_address=booking.email, to_name=booking.name, subject=content.subject,
                   body_text=content.text, body_html=content.html, ics=calendar,
                   ics_method=method, booking=booking, due_at=due_at)


def _queue_staff(booking: Booking, event: str, previous_start: datetime | None = None) -> None:
    address = current_app.config.get("STAFF_NOTIFY_EMAIL")
    if not address:
        return
    content = compose.staff_notice(booking, event, staff_booking_url(booking), previous_start)
    outbox.enqueue(outbox.STAFF_NOTICE, to_address=address, to_name=current_app.config["CLINIC_NAME"],
                   subject=content.subject, body_text=content.text, body_html=content.html,
                   booking=booking)


def _queue_reminder(booking: Booking, link: str | None) -> None:
    """A reminder REMINDER_HOURS_BEFORE the start, unless that moment has already passed."""
    hours = int(current_app.config.get("REMINDER_HOURS_BEFORE", 24))
    due_at = booking.slot.starts_at - timedelta(hours=hours)
    if hours <= 0 or due_at <= _now(booking):
        return
    _queue_patient(outbox.REMINDER, booking, compose.reminder(booking, due_at, link), due_at=due_at)


def booking_confirmed(booking: Booking, manage_token: str) -> None:
    """Queue the patient's confirmation (with invite), the staff notice and the reminder."""
    link = manage_url(manage_token)
    calendar = ics.booking_invite(booking, ics.REQUEST, _now(booking), manage_url=link)
    _queue_patient(outbox.CONFIRMATION, booking, compose.confirmation(booking, link),
                   calendar, ics.REQUEST)
    _queue_staff(booking, "booked")
    _queue_reminder(booking, link)


def prepare_confirmation(booking: Booking, manage_token: str) -> list:
    """The messages `booking_confirmed` would queue, rendered now, queued later with
    `queue_prepared` inside the booking's transaction (so rendering holds no lock)."""
    with outbox.collecting() as messages:
        booking_confirmed(booking, manage_token)
    return messages


def queue_prepared(booking: Booking, messages: list) -> None:
    outbox.add_collected(messages, booking)


def booking_rescheduled(booking: Booking, previous_start: datetime) -> None:
    """Queue the patient's update (same UID, higher SEQUENCE) and move the reminder."""
    calendar = ics.booking_invite(booking, ics.REQUEST, _now(booking))
    _queue_patient(outbox.UPDATE, booking, compose.update(booking, previous_start),
                   calendar, ics.REQUEST)
    _queue_staff(booking, "moved", previous_start)
    outbox.withdraw_pending(booking, outbox.REMINDER)
    _queue_reminder(booking, None)


def booking_cancelled(booking: Booking, message: str | None = None) -> None:
    """Queue the patient's cancellation (METHOD:CANCEL) and withdraw the reminder."""
    calendar = ics.booking_invite(booking, ics.CANCEL, _now(booking))
    _queue_patient(outbox.CANCELLATION, booking, compose.cancellation(booking, message),
                   calendar, ics.CANCEL)
    if booking.cancelled_by == "patient":
        _queue_staff(booking, "cancelled")
    outbox.withdraw_pending(booking, outbox.REMINDER)
