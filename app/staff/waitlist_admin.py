"""The waiting list as staff see it: who waits for what, the offers sent and their outcome,
and how many freed slots the list fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core.actors import Actor
from app.core.extensions import db
from app.models import Booking, FreedSlot, WaitlistEntry, WaitlistOffer, utcnow
from app.models.staff import StaffUser
from app.models.waitlist import ENTRY_WAITING, OFFER_CLAIMED
from app.waitlist import service
from app.waitlist.validation import JoinRequest

LIST_LIMIT = 200


@dataclass(frozen=True)
class Figures:
    freed: int
    refilled: int  # freed slots claimed from an offer
    median_to_claim: timedelta | None


def entries(waiting_only: bool = True, now: datetime | None = None) -> list[WaitlistEntry]:
    """Entries in the order offers go out (oldest first), with their offers loaded."""
    now = now or utcnow()
    query = (
        select(WaitlistEntry)
        .options(
            selectinload(WaitlistEntry.offers).selectinload(WaitlistOffer.slot),
            selectinload(WaitlistEntry.booking).selectinload(Booking.slot),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        .limit(LIST_LIMIT)
    )
    if waiting_only:
        query = query.where(WaitlistEntry.status == ENTRY_WAITING, WaitlistEntry.expires_at > now)
    return list(db.session.execute(query).scalars())


@cache
def _figures_statements():
    """Built once: the dashboard shows the figures on every request."""
    return (
        select(func.count(FreedSlot.id)),
        select(FreedSlot.freed_at, WaitlistOffer.ended_at)
        .join(WaitlistOffer, WaitlistOffer.freed_slot_id == FreedSlot.id)
        .where(WaitlistOffer.status == OFFER_CLAIMED),
    )


def figures() -> Figures:
    count_freed, claimed_times = _figures_statements()
    freed = db.session.execute(count_freed).scalar_one()
    claimed = db.session.execute(claimed_times).all()
    waits = [(ended - freed_at).total_seconds() for freed_at, ended in claimed if ended is not None]
    return Figures(
        freed=freed, refilled=len(claimed), median_to_claim=timedelta(seconds=median(waits)) if waits else None
    )


def offer_for_booking(booking_id: int) -> WaitlistOffer | None:
    """The claimed offer that made (or last moved) this booking, if any."""
    return db.session.execute(
        select(WaitlistOffer)
        .where(WaitlistOffer.booking_id == booking_id, WaitlistOffer.status == OFFER_CLAIMED)
        .order_by(WaitlistOffer.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def add_caller(request: JoinRequest, actor: StaffUser) -> WaitlistEntry:
    """Put a caller on the waiting list, by the same rules as joining online; offers reach
    them by email. The audit entry names the dates, never the person."""
    return service.join(request, actor=Actor.staff(actor)).entry
