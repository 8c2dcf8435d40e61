"""The outbox: emails and texts written in the same transaction as the change they report, so a
booking never exists without its queued mail (or the reverse). The worker renders and
delivers them (see app.mail.rendering and app.mail.delivery)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from functools import lru_cache
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, Table, insert, update

from app.core.extensions import db
from app.mail import texts
from app.mail.rendering import (  # noqa: F401 - the kinds are named here too
    CANCELLATION,
    CONFIRMATION,
    CONTACT_CHANGED,
    COURSE_CHANGED,
    COURSE_PLANNED,
    COURSE_REMINDER,
    INBOUND,
    KINDS,
    OFFER,
    REMINDER,
    STAFF_NOTICE,
    UPDATE,
    WAITLIST_JOINED,
    event_json,
)
from app.models import Booking, OutboxMessage, utcnow
from app.models.mail import CHANNEL_EMAIL, CHANNEL_SMS, OUTBOX_CANCELLED, OUTBOX_PENDING


@lru_cache(maxsize=8)
def _domain_of(sender: str) -> str:
    _, address = parseaddr(sender)
    return address.rsplit("@", 1)[-1] if "@" in address else "mindset-tms.local"


def sender_domain() -> str:
    """The domain of the clinic's sending address: it ends every Message-ID and invite UID."""
    return _domain_of(current_app.config["MAIL_DEFAULT_SENDER"])


def new_message_ids(count: int) -> list[str]:
    """Message-IDs fixed when the messages are queued, so every retry carries the same one."""
    domain = sender_domain()
    return [f"<{secrets.token_hex(16)}@{domain}>" for _ in range(count)]


@dataclass(frozen=True)
class Message:
    """One email or text to queue: its kind, recipient (a text's is an E.164 number) and the
    links and words it carries (`details`, see app.mail.rendering); `due_at` delays it."""

    kind: str
    to_address: str
    to_name: str = ""
    due_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)  # JSON values
    channel: str = CHANNEL_EMAIL


def enqueue(booking: Booking, *messages: Message) -> None:
    """Queue messages about `booking` in the caller's transaction (it must be inside one).

    Only the events are stored (a snapshot of the booking, and each message's details); the
    worker renders each one when it sends it."""
    _insert(
        messages,
        lambda message: {
            "booking_id": booking.id,
            "booking_sequence": booking.ical_sequence,
            "event": event_json(booking, **message.details),
        },
    )


def enqueue_unbooked(*messages: Message) -> None:
    """Queue messages that concern no booking (a waiting-list offer) in the caller's
    transaction; each message's `details` are its whole event."""
    _insert(messages, lambda message: {"booking_id": None, "event": json.dumps(message.details)})


def _insert(messages: tuple[Message, ...], about: Callable[[Message], dict]) -> None:
    """One INSERT of all the messages' rows (`about` gives each one's booking and event)."""
    if not messages:
        return
    session = db.session()
    if not session.in_transaction():
        raise RuntimeError("mail must be queued inside the change's write_transaction()")
    now = utcnow()
    rows = []
    for message, message_id in zip(messages, new_message_ids(len(messages)), strict=True):
        if message.kind not in (texts.KINDS if message.channel == CHANNEL_SMS else KINDS):
            raise ValueError(f"unknown {message.channel} kind {message.kind!r}")
        rows.append(
            {
                "message_id": message_id,
                "kind": message.kind,
                "channel": message.channel,
                "to_address": message.to_address,
                "to_name": message.to_name,
                "status": OUTBOX_PENDING,
                "next_attempt_at": message.due_at or now,
                "created_at": now,
                **about(message),
            }
        )
    session.execute(insert(cast(Table, OutboxMessage.__table__)), rows)


def withdraw_pending(booking: Booking, kind: str | None = REMINDER) -> int:
    """Mark this booking's unsent messages of `kind` (None: of every kind) as no longer wanted."""
    result = cast(
        CursorResult,
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.booking_id == booking.id,
                OutboxMessage.kind == kind if kind is not None else OutboxMessage.kind.is_not(None),
                OutboxMessage.status == OUTBOX_PENDING,
            )
            .values(status=OUTBOX_CANCELLED, claimed_until=None)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount or 0
