"""What an inbound email does: the one function both ways in (`flask mail receive` and the
worker's IMAP mailbox) hand each message to.

A calendar reply acts on a booking only when its UID is the booking's, its ATTENDEE and the
message's From are the booking's address, no DKIM or DMARC check failed and its SEQUENCE is
not older than the booking's: anything else is logged and ignored. A "No" cancels the
booking through the booking service (or, with CALENDAR_REPLY_AUTO_CANCEL off, flags it for
staff); "Yes" and "Maybe" are recorded for staff; a proposed new time goes to staff as a
request. Mail that is not a calendar reply goes to staff, so nothing sent to the clinic is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.booking import changes
from app.booking import service as booking_service
from app.booking.errors import BookingError
from app.core.actors import CALENDAR, Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.text import one_line
from app.core.timefmt import when
from app.core.urls import staff_booking_url
from app.mail import outbox
from app.mail.outbox import Message
from app.models import Booking, utcnow
from app.models.booking import (
    CALENDAR_ACCEPTED,
    CALENDAR_DECLINED,
    CALENDAR_TENTATIVE,
    STATUS_CANCELLED,
)
from app.replies import parse

log = logging.getLogger("app.replies")

# What handling a message did.
CANCELLED, FLAGGED, RECORDED, COUNTER, FORWARDED, IGNORED = (
    "cancelled",
    "flagged",
    "recorded",
    "counter",
    "forwarded",
    "ignored",
)

_ANSWERS = {parse.ACCEPTED: CALENDAR_ACCEPTED, parse.TENTATIVE: CALENDAR_TENTATIVE, parse.DECLINED: CALENDAR_DECLINED}


@dataclass(frozen=True)
class Outcome:
    action: str
    reason: str
    booking_public_id: str | None = None

    def __str__(self) -> str:
        return f"{self.action}: {self.reason}"


def handle_message(raw: bytes, now: datetime | None = None) -> Outcome:
    """Read one email and act on it (see the module's docstring)."""
    now = now or utcnow()
    message = parse.read_message(raw)
    reply = message.reply
    if reply is None:
        return _forward(message, "Unhandled message to the clinic's address", now)
    booking = db.session.execute(select(Booking).where(Booking.ical_uid == reply.uid)).scalar_one_or_none()
    reason = _refusal(message, reply, booking)
    if reason:
        log.warning("calendar %s ignored: %s", reply.method.lower(), reason)
        return Outcome(IGNORED, reason, booking.public_id if booking else None)
    assert booking is not None
    if reply.method == parse.COUNTER:
        proposed = when(reply.starts_at) if reply.starts_at else "(no time given)"
        _forward(message, f"The patient proposes a new time: {proposed}", now, booking)
        return Outcome(COUNTER, f"new time proposed: {proposed}", booking.public_id)
    partstat = reply.partstat_of(booking.email)
    answer = _ANSWERS.get(partstat or "")
    if answer is None:
        _forward(message, f"A calendar reply the service does not act on ({partstat})", now, booking)
        return Outcome(FORWARDED, f"PARTSTAT {partstat}", booking.public_id)
    if answer != CALENDAR_DECLINED:
        _record(booking.public_id, answer, now)
        return Outcome(RECORDED, answer, booking.public_id)
    if booking.status == STATUS_CANCELLED:
        return Outcome(IGNORED, "the booking is already cancelled", booking.public_id)
    if current_app.config["CALENDAR_REPLY_AUTO_CANCEL"]:
        try:
            booking_service.cancel(
                booking.public_id, actor=Actor.calendar(reply.sequence), reason=reply.comment or None, now=now
            )
        except _Stale as stale:
            log.warning("calendar reply ignored: %s", stale)
            return Outcome(IGNORED, str(stale), booking.public_id)
        except BookingError as error:  # cancelled meanwhile, or it has started: staff decide
            if _is_cancelled(booking.public_id):
                return Outcome(IGNORED, "the booking is already cancelled", booking.public_id)
            log.info("calendar decline not acted on: %s", error)
            _record(booking.public_id, CALENDAR_DECLINED, now)
            _forward(message, "The patient declined in their calendar, too late to cancel online", now, booking)
            return Outcome(FLAGGED, str(error), booking.public_id)
        return Outcome(CANCELLED, "declined in the patient's calendar", booking.public_id)
    _record(booking.public_id, CALENDAR_DECLINED, now)
    _forward(
        message,
        "The patient declined in their calendar (not cancelled: CALENDAR_REPLY_AUTO_CANCEL is off)",
        now,
        booking,
    )
    return Outcome(FLAGGED, "declined; auto-cancel is off", booking.public_id)


class _Stale(Exception):
    """The reply answers an invite older than the booking's current one."""


@changes.hook
def record_decline(change: changes.Change) -> None:
    """Inside the transaction of a cancellation by the patient's calendar, first of its hooks
    (so the emails say what led to it): the answer is kept on the booking. Checked again on
    the locked row: a move since the reply was read makes it stale, and nothing changes."""
    sequence = change.actor.reply_sequence
    if change.actor.kind != CALENDAR or change.what != changes.CANCELLED or sequence is None:
        return
    if sequence < change.booking.ical_sequence - 1:
        raise _Stale(f"stale: SEQUENCE {sequence}, the booking was moved meanwhile")
    _mark(change.booking, CALENDAR_DECLINED, change.now)


def _is_cancelled(public_id: str) -> bool:
    db.session.rollback()
    return (
        db.session.execute(select(Booking.status).where(Booking.public_id == public_id)).scalar_one()
        == STATUS_CANCELLED
    )


def _refusal(message: parse.Inbound, reply: parse.CalendarReply, booking: Booking | None) -> str | None:
    """Why a calendar reply must not act on `booking` (None: it may)."""
    if booking is None:
        return "no booking has this UID"
    if booking.erased_at is not None:
        return "the booking's personal data was erased"
    if booking.email is None or reply.partstat_of(booking.email) is None:
        return "the ATTENDEE is not the booking's address"
    if message.from_address != booking.email.strip().lower():
        return "the From address is not the booking's address"
    if message.authentication_failed:
        return "the receiving server found DKIM or DMARC failing"
    if reply.sequence < booking.ical_sequence:
        return f"stale: SEQUENCE {reply.sequence}, the booking is at {booking.ical_sequence}"
    return None


def _mark(booking: Booking, answer: str, now: datetime) -> None:
    booking.calendar_reply = answer
    booking.calendar_reply_at = now


def _record(public_id: str, answer: str, now: datetime) -> None:
    """Keep the patient's answer on the booking, for staff."""
    with write_transaction():
        booking = db.session.execute(
            select(Booking).where(Booking.public_id == public_id).with_for_update()
        ).scalar_one()
        _mark(booking, answer, now)


def _forward(message: parse.Inbound, headline: str, now: datetime, booking: Booking | None = None) -> Outcome:
    """Queue a notice for the staff address with the message's sender, subject and text."""
    address = current_app.config.get("STAFF_NOTIFY_EMAIL")
    if not address:
        log.warning("inbound message not forwarded: STAFF_NOTIFY_EMAIL is empty")
        return Outcome(IGNORED, "no staff address to forward to")
    details = {
        "headline": headline,
        "from": one_line(message.from_address),
        "subject": one_line(message.subject),
        "date": one_line(message.date),
        "text": message.text,
        "received": now.isoformat(),
        "who": one_line(booking.first_name_initial) if booking else None,
        "starts_at": booking.slot.starts_at.isoformat() if booking else None,
        "staff_url": staff_booking_url(booking) if booking else None,
    }
    with write_transaction():
        outbox.enqueue_unbooked(
            Message(outbox.INBOUND, to_address=address, to_name=current_app.config["CLINIC_NAME"], details=details)
        )
    return Outcome(FORWARDED, headline)
