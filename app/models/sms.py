"""Text-message opt-outs and the replies patients send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class SmsOptOut(Base):
    """A number that replied STOP (or its like): no text goes to it until it replies START."""

    __tablename__ = "sms_opt_out"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)  # E.164
    keyword: Mapped[str] = mapped_column(String(16))
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmsReply(Base):
    """A text a patient sent to the clinic's number, kept for staff beside their booking.
    Keywords (STOP, START, HELP and their like) are kept too, as the record of each."""

    __tablename__ = "sms_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    # stop, start, help, or None for a message staff should read
    keyword: Mapped[str | None] = mapped_column(String(16), default=None)
    # The latest booking with this number that agreed to texts, when the reply came.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True, default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
