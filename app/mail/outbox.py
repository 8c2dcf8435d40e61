"""The outbox: emails written in the same transaction as the change they report, so a
booking never exists without its queued mail (or the reverse). The worker delivers them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    """Add a message to the outbox in the caller's transaction (it must be inside one).
    Inside `collecting()`, the message is only built and handed to the collector."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    collector = _collector.get()
    session = db.session()
    if collector is None and not session.in_transaction():
        raise RuntimeError("enqueue() must run inside the change's write_transaction()")
    message = OutboxMessage(
        message_id=new_message_id(), kind=kind, to_address=to_address, to_name=to_name,
        subject=subject[:200], body_text=body_text, body_html=body_html, ics=ics,
        ics_method=ics_method, status=OUTBOX_PENDING, attempts=0,
        booking_id=booking.id if booking is not None else None,
        booking_sequence=booking.ical_sequence if booking is not None else None,
        next_attempt_at=due_at or utcnow(), created_at=utcnow(),
    )
    if collector is not None:
        collector.append(message)
    else:
        session.add(message)
    return message


_collector: ContextVar[list[OutboxMessage] | None] = ContextVar("outbox_collector", default=None)


@contextmanager
def collecting() -> Iterator[list[OutboxMessage]]:
    """Build messages ahead of their transaction (rendering is the slow part, and it need not
    hold the database's write lock); `add_collected` then queues them inside it."""
    messages: list[OutboxMessage] = []
    token = _collector.set(messages)
    try:
        yield messages
    finally:
        _collector.reset(token)


def add_collected(messages: list[OutboxMessage], booking: Booking) -> None:
    """Queue messages built by `collecting()` for `booking`, in the caller's transaction."""
    session = db.session()
    if not session.in_transaction():
        raise RuntimeError("add_collected() must run inside the change's write_transaction()")
    for message in messages:
        message.booking_id = booking.id
        message.booking_sequence = booking.ical_sequence
        session.add(message)


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
