"""What a change to a slot leaves for the waiting list, inside the change's own transaction:
a slot was freed (to be offered) or taken (its outstanding offers end at once), or a
booking's manage link was replaced or ended (what was made with it ends). Only models
here, beside the slots, so booking and the staff console record these without importing
the waiting list, which reads them (app.waitlist.offering)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, exists, or_, select, update

from app.core.extensions import db
from app.models import FreedSlot, WaitlistEntry, WaitlistOffer
from app.models.waitlist import (
    ENTRY_REVOKED,
    ENTRY_WAITING,
    FREED_CLOSED,
    FREED_OPEN,
    OFFER_SENT,
    OFFER_TAKEN,
    OFFER_WITHDRAWN,
)

CANCELLED, MOVED, ADDED, UNBLOCKED = "cancelled", "moved", "added", "unblocked"


def slot_freed(slot_id: int, reason: str, now: datetime) -> None:
    """Record that a slot became free, for the worker to offer on."""
    db.session.add(FreedSlot(slot_id=slot_id, reason=reason, freed_at=now))


def _offers_out(slot_id: SQLColumnExpression[int] | int) -> ColumnElement[bool]:
    return (WaitlistOffer.slot_id == slot_id) & (WaitlistOffer.status == OFFER_SENT)


def _waiting_to_be_offered(slot_id: SQLColumnExpression[int] | int) -> ColumnElement[bool]:
    return (FreedSlot.slot_id == slot_id) & (FreedSlot.status == FREED_OPEN)


def involves(slot_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """True when slot_taken() would change anything for this slot: a column for the query
    that locks the slot, so a booking of a slot the waiting list never saw (nearly all of
    them) costs no further statement."""
    return or_(exists().where(_offers_out(slot_id)), exists().where(_waiting_to_be_offered(slot_id)))


def slot_taken(slot_id: int, now: datetime, outcome: str = "rebooked") -> None:
    """The slot was booked: its offers still out say "someone just took it", and it is no
    longer waiting to be offered."""
    db.session.execute(
        update(WaitlistOffer)
        .where(_offers_out(slot_id))
        .values(status=OFFER_TAKEN, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(FreedSlot)
        .where(_waiting_to_be_offered(slot_id))
        .values(status=FREED_CLOSED, closed_at=now, outcome=outcome)
        .execution_options(synchronize_session=False)
    )


def manage_link_ended(booking_id: int, now: datetime) -> None:
    """The booking's manage token was replaced (a new link sent) or ended (the booking
    cancelled or erased): every waiting-list entry joined with it ends, and its offers still
    out are withdrawn, in the same transaction. An entry is linked to a booking only by
    its manage token, so the entries linked now are all made with a token that no longer
    works. The caller holds the booking's row lock, which joining takes too."""
    linked = select(WaitlistEntry.id).where(
        WaitlistEntry.booking_id == booking_id, WaitlistEntry.status == ENTRY_WAITING
    )
    db.session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.entry_id.in_(linked), WaitlistOffer.status == OFFER_SENT)
        .values(status=OFFER_WITHDRAWN, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.booking_id == booking_id, WaitlistEntry.status == ENTRY_WAITING)
        .values(status=ENTRY_REVOKED, ended_at=now)
        .execution_options(synchronize_session=False)
    )
