"""Busy sources (other calendars of the person who holds consultations) and the busy
intervals read from them. Only start and end are kept: never titles, attendees or notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow

KIND_ICS = "ics"
KIND_CALDAV = "caldav"
KINDS = (KIND_ICS, KIND_CALDAV)


class BusySource(Base):
    """A calendar read for busy times: an ICS subscription URL or a CalDAV collection.

    The URL (secret ICS links are credentials too), user name and password are kept
    together, encrypted, in `secret`; only the host is kept readable, for the staff list."""

    __tablename__ = "busy_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=KIND_ICS)
    host: Mapped[str] = mapped_column(String(255), default="")
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    # Conditional-request validators from the last successful ICS fetch.
    etag: Mapped[str] = mapped_column(String(255), default="")
    last_modified: Mapped[str] = mapped_column(String(64), default="")
    # The CalDAV collection's sync token (RFC 6578) from the last successful read, if offered.
    sync_token: Mapped[str | None] = mapped_column(String(512), default=None)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When the calendar was last read in full, its busy times expanded up to the horizon then.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    failures: Mapped[int] = mapped_column(default=0)
    next_sync_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BusyInterval(Base):
    """A span in which the person who holds consultations is busy (UTC, end exclusive)."""

    __tablename__ = "busy_interval"
    __table_args__ = (Index("ix_busy_interval_span", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("busy_source.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
