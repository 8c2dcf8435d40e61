"""Offering freed slots (the worker's job): each open freed slot goes to the fitting entries
in the order they joined, a few at a time, by email with a claim link.

Each slot's round is one transaction: the offers, and their emails in the outbox, are
written together, so a worker stopped after choosing loses and repeats nothing (the outbox
delivers what was committed). The next round starts when no offer for the slot is out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, func, select, update

from app.booking import service as booking_service
from app.booking import slot_records
from app.booking.rules import booking_window
from app.booking.validation import mailbox_key
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.i18n import PREFIXES
from app.core.timefmt import clinic_zone
from app.core.tokens import hash_token, new_manage_token
from app.core.urls import public_url
from app.mail import outbox
from app.mail.outbox import Message
from app.models import FreedSlot, Slot, WaitlistEntry, WaitlistOffer, utcnow
from app.models.booking import STATUS_CONFIRMED
from app.models.waitlist import (
    ENTRY_WAITING,
    FREED_CLOSED,
    FREED_OPEN,
    OFFER_EXPIRED,
    OFFER_SENT,
    OFFER_WITHDRAWN,
)
from app.waitlist.matching import Preferences, fits, offer_expiry, under_daily_limit


@dataclass
class OfferReport:
    offered: int = 0
    expired: int = 0
    closed: int = 0

    def __str__(self) -> str:
        return f"offered {self.offered}, expired {self.expired}, closed {self.closed}"


def offer_url(token: str, locale: str = "en") -> str:
    """The claim link, at the address of the language the person joined in."""
    return public_url(f"{PREFIXES.get(locale, '')}/offers/{token}")


def entry_url(token: str, locale: str = "en") -> str:
    """The entry's private page (the only way to change or leave the place), in its language."""
    return public_url(f"{PREFIXES.get(locale, '')}/waitlist/{token}")


def joined_message(entry: WaitlistEntry, token: str) -> Message:
    """The email sent on joining, with the entry's private link: to whoever its offers go to."""
    to = recipient(entry)
    return Message(
        outbox.WAITLIST_JOINED,
        to_address=to.email,
        to_name=to.name,
        details={
            "name": to.name,
            "entry_url": entry_url(token, to.locale),
            "expires_at": entry.expires_at.isoformat(),
            "locale": to.locale,
        },
    )


def preferences(entry: WaitlistEntry) -> Preferences:
    return Preferences(
        entry.earliest, entry.latest, tuple(entry.weekday_list), tuple(entry.part_list), tuple(entry.mode_list)
    )


def expire_offers(now: datetime) -> int:
    """Offers past their time can no longer be claimed."""
    with write_transaction() as session:
        result = cast(
            CursorResult,
            session.execute(
                update(WaitlistOffer)
                .where(WaitlistOffer.status == OFFER_SENT, WaitlistOffer.expires_at <= now)
                .values(status=OFFER_EXPIRED, ended_at=now)
                .execution_options(synchronize_session=False)
            ),
        )
    return result.rowcount or 0


def offer_freed_slots(now: datetime | None = None) -> OfferReport:
    """One pass over the open freed slots, oldest first."""
    now = now or utcnow()
    report = OfferReport(expired=expire_offers(now))
    ids = (
        db.session.execute(
            select(FreedSlot.id).where(FreedSlot.status == FREED_OPEN).order_by(FreedSlot.freed_at, FreedSlot.id)
        )
        .scalars()
        .all()
    )
    for freed_id in ids:
        offered, closed = offer_round(freed_id, now)
        report.offered += offered
        report.closed += int(closed)
    return report


def _close(freed: FreedSlot, outcome: str, now: datetime) -> None:
    freed.status, freed.closed_at, freed.outcome = FREED_CLOSED, now, outcome
    db.session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.slot_id == freed.slot_id, WaitlistOffer.status == OFFER_SENT)
        .values(status=OFFER_WITHDRAWN, ended_at=now)
        .execution_options(synchronize_session=False)
    )


def _sent_today(mailbox: str, now: datetime) -> list[datetime]:
    return list(
        db.session.execute(
            select(WaitlistOffer.created_at).where(
                WaitlistOffer.email == mailbox, WaitlistOffer.created_at > now - timedelta(hours=24)
            )
        ).scalars()
    )


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    locale: str


def recipient(entry: WaitlistEntry) -> Recipient:
    """Who an entry's offers go to: for an entry linked to a booking, the booking's own
    address (the one its owner gave), never the address typed when joining, so a claim
    that would move a booking reaches only the person who holds it."""
    booking = entry.booking
    if booking is not None and booking.email is not None:  # a phone-only booking: the entry's own address
        return Recipient(booking.email, booking.name, booking.locale or entry.locale)
    return Recipient(entry.email, entry.name, entry.locale)


def _wants_earlier(entry: WaitlistEntry, slot: Slot) -> bool:
    """A linked entry only takes a slot before the booking it holds (still confirmed)."""
    booking = entry.booking
    if booking is None:
        return entry.booking_id is None
    return booking.status == STATUS_CONFIRMED and slot.starts_at < booking.slot.starts_at


def candidates(slot: Slot, now: datetime, count: int) -> list[WaitlistEntry]:
    """Up to `count` waiting entries the slot suits, in the order they joined, each not yet
    offered this slot and under the daily limit of offers, one per mailbox (an address in
    any case or with any +tag is one person: app.booking.validation.mailbox_key)."""
    config = current_app.config
    zone = clinic_zone()
    local_day = slot.starts_at.astimezone(zone).date()
    already = select(WaitlistOffer.entry_id).where(WaitlistOffer.slot_id == slot.id)
    query = (
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == ENTRY_WAITING,
            WaitlistEntry.expires_at > now,
            WaitlistEntry.earliest <= local_day,
            WaitlistEntry.latest >= local_day,
            WaitlistEntry.id.not_in(already),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    limit = config["WAITLIST_MAX_OFFERS_PER_DAY"]
    chosen: list[WaitlistEntry] = []
    emails: set[str] = set()
    for entry in db.session.execute(query).scalars():
        if len(chosen) >= count:
            break
        email = mailbox_key(recipient(entry).email)
        if email in emails or not fits(preferences(entry), slot.starts_at, slot.mode_list, zone):
            continue
        if not _wants_earlier(entry, slot) or not under_daily_limit(_sent_today(email, now), now, limit):
            continue
        chosen.append(entry)
        emails.add(email)
    return chosen


def offer_round(freed_id: int, now: datetime, passing_on: bool = False) -> tuple[int, bool]:
    """Offer one freed slot to the next few entries, if no offer for it is out; when
    `passing_on` (someone said "No thanks"), to the next one entry even while other offers
    are out. Returns (offers sent, whether the freed slot is now closed)."""
    config = current_app.config
    with write_transaction() as session:
        freed = session.execute(
            select(FreedSlot).where(FreedSlot.id == freed_id).with_for_update()
        ).scalar_one_or_none()
        if freed is None or freed.status != FREED_OPEN:
            return 0, False
        slot = freed.slot
        if slot.is_booked:
            slot_records.slot_taken(slot.id, now)
            return 0, True
        if not booking_service.is_open(slot, now):
            if slot.starts_at > booking_window(now).latest and not slot.is_blocked:
                return 0, False  # not bookable yet: offered once it comes into the window
            _close(freed, "unavailable", now)
            return 0, True
        out = session.execute(
            select(func.count(WaitlistOffer.id)).where(
                WaitlistOffer.slot_id == slot.id, WaitlistOffer.status == OFFER_SENT
            )
        ).scalar_one()
        if out and not passing_on:
            return 0, False
        expires_at = offer_expiry(
            now, slot.starts_at, config["WAITLIST_OFFER_HOURS"], config["BOOKING_MIN_NOTICE_HOURS"]
        )
        count = 1 if passing_on else config["WAITLIST_OFFERS_PER_SLOT"]
        chosen = candidates(slot, now, count) if expires_at else []
        if not chosen or expires_at is None:
            if out:
                return 0, False  # the offers still out may yet be taken
            _close(freed, "no_match", now)
            return 0, True
        messages = []
        for entry in chosen:
            token = new_manage_token()
            to = recipient(entry)
            session.add(
                WaitlistOffer(
                    token_hash=hash_token(token),
                    entry=entry,
                    freed_slot=freed,
                    slot=slot,
                    email=mailbox_key(to.email),
                    status=OFFER_SENT,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            messages.append(
                Message(
                    outbox.OFFER,
                    to_address=to.email,
                    to_name=to.name,
                    details={
                        "name": to.name,
                        "starts_at": slot.starts_at.isoformat(),
                        "ends_at": slot.ends_at.isoformat(),
                        "modes": [m for m in slot.mode_list if not entry.mode_list or m in entry.mode_list],
                        "claim_url": offer_url(token, to.locale),
                        "expires_at": expires_at.isoformat(),
                        "locale": to.locale,
                    },
                )
            )
        outbox.enqueue_unbooked(*messages)
    return len(chosen), False
