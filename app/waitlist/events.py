"""What the booking service tells the waiting list, inside its own transaction: a slot was
freed (to be offered) or taken (its outstanding offers end at once). Only models here, so
app.booking can call it without importing the rest of the waiting list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, update

from app.core.extensions import db
from app.models import FreedSlot, WaitlistOffer
from app.models.waitlist import FREED_CLOSED, FREED_OPEN, OFFER_SENT, OFFER_TAKEN

CANCELLED, MOVED, ADDED, UNBLOCKED = "cancelled", "moved", "added", "unblocked"


def slot_freed(slot_id: int, reason: str, now: datetime) -> None:
    """Record that a slot became free, for the worker to offer on."""
    db.session.add(FreedSlot(slot_id=slot_id, reason=reason, freed_at=now))


def _offers_out(slot_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    return (WaitlistOffer.slot_id == slot_id) & (WaitlistOffer.status == OFFER_SENT)


def _waiting_to_be_offered(slot_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    return (FreedSlot.slot_id == slot_id) & (FreedSlot.status == FREED_OPEN)


def involves(slot_id: ColumnElement[int]) -> ColumnElement[bool]:
    """True when slot_taken() would change anything for this slot: a column for the query
    that locks the slot, so a booking of a slot the waiting list never saw (nearly all of
    them) costs no further statement."""
    return or_(exists().where(_offers_out(slot_id)), exists().where(_waiting_to_be_offered(slot_id)))


def slot_taken(slot_id: int, now: datetime, outcome: str = "rebooked") -> None:
    """The slot was booked: its offers still out say "someone just took it", and it is no
    longer waiting to be offered."""
    db.session.execute(
        update(WaitlistOffer).where(_offers_out(slot_id))
        .values(status=OFFER_TAKEN, ended_at=now).execution_options(synchronize_session=False))
    db.session.execute(
        update(FreedSlot).where(_waiting_to_be_offered(slot_id))
        .values(status=FREED_CLOSED, closed_at=now, outcome=outcome)
        .execution_options(synchronize_session=False))
