"""The outbox: emails written in the same transaction as the change they report, so a
booking never exists without its queued mail (or the reverse). The worker delivers them."""

from __future__ import annotations

import secrets
from datetime import datetime
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import update

from app.extensions import db
from app.models import Booking, OutboxMessage, utcnow
from app.models.mail import OUTBOX_CANCELLED, OUTBOX_PENDING

CONFIRMATION = "confirmation"
UPDATE = "update"
CANCELLATION = "cancellation"
REMINDER = "reminder"
STAFF_NOTICE = "staff_notice"
KINDS = (CONFIRMATION, UPDATE, CANCELLATION, REMINDER, STAFF_NOTICE)


def new_message_id() -> str:
    """A Message-ID fixed when the message is queued, so every retry carries the same one."""
    _, sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "mindset-tms.local"
    return f"<{secrets.token_hex(16)}@{domain}>"


def enqueue(kind: str, *, to_address: str, subject: str, body_text: str, body_html: str = "",
            to_name: str = "", ics: str | None = None, ics_method: str | None = None,
            booking: Booking | None = None, due_at: datetime | None = None) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (it must be inside one)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    session = db.session()
    if not session.in_transaction():
        raise RuntimeError("enqueue() must run inside the change's write_transaction()")
    message = OutboxMessage(
        message_id=new_message_id(), kind=kind, to_address=to_address, to_name=to_name,
        subject=subject[:200], body_text=body_text, body_html=body_html, ics=ics,
        ics_method=ics_method, status=OUTBOX_PENDING, attempts=0,
        booking_id=booking.id if booking is not None else None,
        booking_sequence=booking.ical_sequence if booking is not None else None,
        next_attempt_at=due_at or utcnow(), created_at=utcnow(),
    )
    session.add(message)
    return message


def withdraw_pending(booking: Booking, kind: str = REMINDER) -> int:
    """Mark this booking's unsent messages of `kind` as no longer wanted."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.booking_id == booking.id, OutboxMessage.kind == kind,
               OutboxMessage.status == OUTBOX_PENDING)
        .values(status=OUTBOX_CANCELLED, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
