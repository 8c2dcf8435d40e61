"""The waiting list: people who asked for an earlier consultation, the slots freed for them,
and the offers sent for those slots."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, new_public_id, utcnow
from app.models.booking import Booking, Slot

ENTRY_WAITING = "waiting"
ENTRY_LEFT = "left"
ENTRY_FULFILLED = "fulfilled"
# The booking link the entry was joined with was replaced or ended (a new link sent,
# the booking cancelled or erased): whatever was made with the link ends with it.
ENTRY_REVOKED = "revoked"
ENTRY_STATUSES = (ENTRY_WAITING, ENTRY_LEFT, ENTRY_FULFILLED, ENTRY_REVOKED)  # expiry is read from expires_at

FREED_OPEN = "open"
FREED_CLOSED = "closed"

OFFER_SENT = "sent"
OFFER_CLAIMED = "claimed"
OFFER_TAKEN = "taken"  # someone else booked the slot first
OFFER_EXPIRED = "expired"
OFFER_WITHDRAWN = "withdrawn"  # the slot is no longer offered, or the person left the list
OFFER_DECLINED = "declined"  # "No thanks": passed on to the next person at once
OFFER_STATUSES = (OFFER_SENT, OFFER_CLAIMED, OFFER_TAKEN, OFFER_EXPIRED, OFFER_WITHDRAWN, OFFER_DECLINED)


class WaitlistEntry(Base):
    """A person waiting for an earlier time, and what suits them. Empty preference lists
    mean "any"; weekdays are ISO (Monday = 1)."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (Index("ix_waitlist_entry_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    # Only a SHA-256 of the private link's token is kept.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    earliest: Mapped[date]
    latest: Mapped[date]
    weekdays: Mapped[str] = mapped_column(String(16), default="")
    parts_of_day: Mapped[str] = mapped_column(String(32), default="")
    modes: Mapped[str] = mapped_column(String(64), default="")
    # The booking to move when an offer is claimed (None: a new booking is made).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default=ENTRY_WAITING)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Agreement to text messages about the booking an offer leads to (None: no texts).
    sms_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sms_consent_source: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # WAITLIST_ENTRY_DAYS after joining, or the end of `latest`, whichever comes first.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    booking: Mapped[Booking | None] = relationship()
    offers: Mapped[list[WaitlistOffer]] = relationship(back_populates="entry", order_by="WaitlistOffer.id")

    @staticmethod
    def _list(value: str) -> list[str]:
        return [v for v in value.split(",") if v]

    @property
    def weekday_list(self) -> list[int]:
        return [int(v) for v in self._list(self.weekdays)]

    @property
    def part_list(self) -> list[str]:
        return self._list(self.parts_of_day)

    @property
    def mode_list(self) -> list[str]:
        return self._list(self.modes)

    def is_waiting(self, now: datetime) -> bool:
        return self.status == ENTRY_WAITING and self.expires_at > now


class FreedSlot(Base):
    """A slot that became free (a cancellation, a move, staff opening it): the worker offers
    it to the waiting list until it is booked or can no longer be booked."""

    __tablename__ = "waitlist_freed_slot"
    __table_args__ = (Index("ix_waitlist_freed_slot_status", "status", "freed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))  # cancelled, moved, added, unblocked
    status: Mapped[str] = mapped_column(String(16), default=FREED_OPEN)
    freed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # rebooked (by anyone), claimed (from an offer), no_match, unavailable
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)

    slot: Mapped[Slot] = relationship()


class WaitlistOffer(Base):
    """One freed slot offered to one entry, claimable from a private link until expires_at.
    An offer is not a hold: the slot stays bookable by anyone."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (Index("ix_waitlist_offer_slot_status", "slot_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True)
    freed_slot_id: Mapped[int] = mapped_column(ForeignKey("waitlist_freed_slot.id", ondelete="CASCADE"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"))
    # The recipient's mailbox (app.booking.validation.mailbox_key: lower case, no +tag), so
    # the daily limit per person is one index probe.
    email: Mapped[str] = mapped_column(String(254), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OFFER_SENT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The booking made (or moved) by claiming this offer.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True, default=None)

    entry: Mapped[WaitlistEntry] = relationship(back_populates="offers")
    freed_slot: Mapped[FreedSlot] = relationship()
    slot: Mapped[Slot] = relationship()
    booking: Mapped[Booking | None] = relationship()
