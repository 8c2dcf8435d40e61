"""The outbox of emails waiting to be delivered, and the staff calendar feeds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow

OUTBOX_PENDING = "pending"
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"  # permanently: rejected, or out of attempts
OUTBOX_CANCELLED = "cancelled"  # no longer wanted (a reminder for a moved booking)

CHANNEL_EMAIL = "email"
CHANNEL_SMS = "sms"  # a text message: to_address is an E.164 number, body_text the whole text


class OutboxMessage(Base):
    """One email or text message, written in the same transaction as the change it reports,
    delivered later."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        # By booking and status: the worker's check that no earlier message about the same
        # booking is still pending is one probe of this index per due message. (With the
        # booking alone, PostgreSQL could combine it with the status index and read every
        # pending row per due message: 0.85 s a claim with 4,000 due, 8 ms with this.)
        Index("ix_outbox_message_booking_id_status", "booking_id", "status"),
        # Texts by number (a STOP withdraws them, a reminder looks for today's text), kept for
        # texts only so that queuing an email costs no more.
        Index(
            "ix_outbox_message_sms_to_address",
            "to_address",
            sqlite_where=text("channel = 'sms'"),
            postgresql_where=text("channel = 'sms'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable across retries, so a resend after a crash is recognisably the same message.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # confirmation, update, cancellation, reminder, staff_notice, offer; texts: confirmation,
    # reminder, staff_text
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8), default=CHANNEL_EMAIL, server_default=CHANNEL_EMAIL)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), default=None)
    to_address: Mapped[str] = mapped_column(String(320))
    # The recipient's display name, kept apart from the address so headers are built safely.
    to_name: Mapped[str] = mapped_column(String(200), default="")
    # What happened, as queued (a booking snapshot and the links to include, JSON); the
    # worker renders it into the fields below just before sending, then clears it.
    event: Mapped[str | None] = mapped_column(Text, default=None)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The iCalendar object (METHOD:REQUEST or CANCEL), when the message carries one.
    ics: Mapped[str | None] = mapped_column(Text, default=None)
    ics_method: Mapped[str | None] = mapped_column(String(16), default=None)
    # The booking's SEQUENCE when the message was queued: a reminder whose booking has
    # changed since is stale and is not sent.
    booking_sequence: Mapped[int | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default=OUTBOX_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker that claims a message holds it until this time; after that another may retry.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # A text's id at the provider (its status callbacks name it) and the last status it reported
    # (queued, sent, delivered, undelivered, failed).
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    provider_status: Mapped[str | None] = mapped_column(String(16), default=None)


# "The row is a text", with the value written into the SQL (as in the partial index), so the
# planner can always match that index.
IS_TEXT = OutboxMessage.channel == literal_column(f"'{CHANNEL_SMS}'")


class CalendarFeed(Base):
    """A secret, revocable subscription URL (/calendar/<token>.ics) for staff calendar apps."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
