"""Claiming an offer: first come, first served, decided by the database through the booking
service's own path (book, or reschedule for an entry linked to a booking), so exactly one
claim of a slot wins and the others are told kindly, staying on the list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update

from app.booking import changes
from app.booking import service as booking_service
from app.booking.errors import BookingError, SlotTaken
from app.core.actors import Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.tokens import hash_token, looks_like_token
from app.models import Booking, FreedSlot, WaitlistEntry, WaitlistOffer, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED, STATUS_CONFIRMED
from app.models.waitlist import (
    ENTRY_FULFILLED,
    ENTRY_WAITING,
    FREED_CLOSED,
    FREED_OPEN,
    OFFER_CLAIMED,
    OFFER_DECLINED,
    OFFER_EXPIRED,
    OFFER_SENT,
    OFFER_TAKEN,
    OFFER_WITHDRAWN,
)
from app.waitlist.errors import InvalidChoices, OfferGone, OfferNotFound, OfferTaken
from app.waitlist.offering import offer_round

__all__ = ["BookingError", "Claimed", "claim", "decline", "find_offer", "offered_modes", "open_offer", "state"]

TAKEN_MESSAGE = _l(
    "Sorry, someone just took that time. You are still on the waiting list, and "
    "we will write again when another time opens."
)
GONE_MESSAGE = _l("This offer has ended, so the time can no longer be taken from this link.")


@dataclass(frozen=True)
class Claimed:
    booking: Booking
    moved: bool
    manage_token: str | None  # only for a new booking (a moved one keeps its link)


def find_offer(token: str) -> WaitlistOffer | None:
    if not looks_like_token(token):
        return None
    return db.session.execute(
        select(WaitlistOffer).where(WaitlistOffer.token_hash == hash_token(token))
    ).scalar_one_or_none()


def state(offer: WaitlistOffer, now: datetime | None = None) -> str:
    """open, claimed, taken, expired or withdrawn."""
    if offer.status == OFFER_SENT:
        return OFFER_EXPIRED if offer.expires_at <= (now or utcnow()) else "open"
    return offer.status


def open_offer(token: str, now: datetime | None = None) -> WaitlistOffer:
    """The offer as its link shows it. If its slot was booked in the meantime, it says so
    (the status is set now, if the booking did not already)."""
    now = now or utcnow()
    offer = find_offer(token)
    if offer is None:
        raise OfferNotFound(_("We could not find that offer."))
    if offer.status == OFFER_SENT and not booking_service.is_open(offer.slot, now):
        with write_transaction() as session:
            locked = session.get(WaitlistOffer, offer.id, with_for_update=True)
            if locked is not None and locked.status == OFFER_SENT:
                held = _slot_is_booked(locked)
                locked.status = OFFER_TAKEN if held else OFFER_WITHDRAWN
                locked.ended_at = now
        db.session.refresh(offer)
    return offer


def _slot_is_booked(offer: WaitlistOffer) -> bool:
    """Whether the offer's slot went to a booking (else it closed: blocked, removed, past)."""
    return db.session.execute(
        select(exists().where(Booking.slot_id == offer.slot_id, BOOKING_IS_CONFIRMED))
    ).scalar_one()


def _check(offer: WaitlistOffer, now: datetime) -> None:
    current = state(offer, now)
    if current == OFFER_TAKEN:
        raise OfferTaken(str(TAKEN_MESSAGE))
    if current != "open":
        raise OfferGone(str(GONE_MESSAGE))


def offered_modes(offer: WaitlistOffer) -> list[str]:
    """The ways to meet an offer leaves open: the slot's, narrowed to the entry's choices."""
    slot_modes, wanted = offer.slot.mode_list, offer.entry.mode_list
    return [m for m in slot_modes if not wanted or m in wanted] or slot_modes


def _mode(offer: WaitlistOffer, chosen: str | None, current: str | None) -> str:
    """The way to meet a claim books: the one chosen on the claim page, else the linked
    booking's own if still open, else the first open. A choice not open is refused."""
    modes = offered_modes(offer)
    if chosen:
        if chosen not in modes:
            raise InvalidChoices({"mode": _("Please choose one of the ways to meet shown.")})
        return chosen
    return current if current in modes else modes[0]


def claim(token: str, now: datetime | None = None, mode: str | None = None) -> Claimed:
    """Book (or move the linked booking to) the offer's slot, the way to meet `mode` if
    given. Raises OfferNotFound, OfferGone (expired or withdrawn), OfferTaken (someone else
    won), InvalidChoices (a way to meet not offered), or a BookingError."""
    now = now or utcnow()
    offer = find_offer(token)
    if offer is None:
        raise OfferNotFound(_("We could not find that offer."))
    _check(offer, now)
    chosen = _mode(offer, mode, offer.entry.booking.mode if offer.entry.booking else None)
    entry, slot = offer.entry, offer.slot
    claimant = Actor.claiming(offer.id)
    linked = entry.booking
    try:
        if entry.booking_id is not None:
            if linked is None or linked.status != STATUS_CONFIRMED:
                raise OfferGone(
                    _(
                        "The consultation this offer would move was cancelled, so there is "
                        "nothing to move. You can book a new time on our booking page."
                    )
                )
            moved = booking_service.reschedule(linked.public_id, slot.public_id, chosen, actor=claimant, now=now)
            return Claimed(booking=moved, moved=True, manage_token=None)
        details = booking_service.PatientDetails(
            name=entry.name,
            email=entry.email,
            phone=entry.phone,
            interest="not_sure",
            locale=entry.locale,
            sms_consent="waitlist" if entry.sms_consent_at else None,
        )
        result = booking_service.book(slot.public_id, chosen, details, now, actor=claimant)
        return Claimed(booking=result.booking, moved=False, manage_token=result.manage_token)
    except SlotTaken:
        raise OfferTaken(str(TAKEN_MESSAGE)) from None


@changes.hook
def record_claim(change: changes.Change) -> None:
    """Inside the transaction of a booking made or moved by claiming an offer: the offer is
    still good, so it is claimed, the entry ends and the slot's other offers end (with the
    booking, or not at all)."""
    offer_id, now = change.actor.offer_id, change.now
    if offer_id is None or change.what not in (changes.BOOKED, changes.MOVED):
        return
    session = db.session
    locked = session.execute(
        select(WaitlistOffer)
        .where(WaitlistOffer.id == offer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    holder = session.execute(
        select(WaitlistEntry)
        .where(WaitlistEntry.id == locked.entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if state(locked, now) != "open" or holder.status != ENTRY_WAITING:
        raise OfferGone(str(GONE_MESSAGE))
    locked.status, locked.ended_at, locked.booking_id = OFFER_CLAIMED, now, change.booking.id
    holder.status, holder.ended_at = ENTRY_FULFILLED, now
    session.flush()
    session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.entry_id == holder.id, WaitlistOffer.status == OFFER_SENT)
        .values(status=OFFER_WITHDRAWN, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(FreedSlot)
        .where(FreedSlot.slot_id == locked.slot_id, FreedSlot.status == FREED_OPEN)
        .values(status=FREED_CLOSED, closed_at=now, outcome="claimed")
        .execution_options(synchronize_session=False)
    )


def decline(token: str, now: datetime | None = None) -> WaitlistOffer:
    """ "No thanks": the offer ends and the time goes to the next person on the list at once
    (the person who declined stays on the list for other times). Declining an offer that has
    already ended changes nothing. Raises OfferNotFound."""
    now = now or utcnow()
    offer = find_offer(token)
    if offer is None:
        raise OfferNotFound(_("We could not find that offer."))
    with write_transaction() as session:
        locked = session.get_one(WaitlistOffer, offer.id, with_for_update=True, populate_existing=True)
        if state(locked, now) != "open":
            return locked
        locked.status, locked.ended_at = OFFER_DECLINED, now
        freed_id = locked.freed_slot_id
    if freed_id is not None:
        offer_round(freed_id, now, passing_on=True)
    db.session.refresh(offer)
    return offer
