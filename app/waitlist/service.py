"""Joining, changing and leaving the waiting list. Each call is one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from app.booking import service as booking_service
from app.core import audit
from app.core.actors import THE_PATIENT, Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.core.tokens import hash_token, looks_like_token, new_manage_token
from app.mail import outbox
from app.models import WaitlistEntry, WaitlistOffer, utcnow
from app.models.waitlist import ENTRY_LEFT, ENTRY_WAITING, OFFER_SENT, OFFER_WITHDRAWN
from app.waitlist import offering
from app.waitlist.errors import BookingNotLinkable, EntryEnded, EntryNotFound, InvalidChoices
from app.waitlist.matching import entry_expiry
from app.waitlist.validation import PREFERENCE_FIELDS, JoinRequest, choice_fields


@dataclass(frozen=True)
class NewEntry:
    entry: WaitlistEntry
    token: str


def join(request: JoinRequest, now: datetime | None = None, *, actor: Actor = THE_PATIENT) -> NewEntry:
    """Add a person to the list, and queue the email with the entry's private link. With a
    manage token the entry is linked to that booking, which a claimed offer then moves (it
    must be upcoming and not cancelled). The booking is locked while the entry is added, so
    a link replaced at the same moment either ends the new entry with it or is no longer
    found. A staff member adding a caller is written in the audit log (the dates, never the
    person)."""
    now = now or utcnow()
    token = new_manage_token()
    days = current_app.config["WAITLIST_ENTRY_DAYS"]
    with write_transaction() as session:
        booking_id = None
        if request.manage_token:
            booking = booking_service.find_by_token(request.manage_token, lock=True)
            if booking is None or not booking_service.can_change(booking, now):
                raise BookingNotLinkable(
                    _(
                        "That booking link cannot be used: the consultation is "
                        "cancelled, over, or the link is not right."
                    ),
                    field="manage_token",
                )
            booking_id = booking.id
        entry = WaitlistEntry(
            token_hash=hash_token(token),
            name=request.name,
            email=request.email,
            phone=request.phone,
            locale=request.locale,
            earliest=request.earliest,
            latest=request.latest,
            weekdays=",".join(str(d) for d in request.weekdays),
            parts_of_day=",".join(request.parts_of_day),
            modes=",".join(request.modes),
            booking_id=booking_id,
            status=ENTRY_WAITING,
            consent_at=now,
            created_at=now,
            sms_consent_at=now if request.sms_consent else None,
            sms_consent_source=request.sms_consent,
            expires_at=entry_expiry(now, request.latest, days, clinic_zone()),
        )
        session.add(entry)
        session.flush()
        outbox.enqueue_unbooked(offering.joined_message(entry, token))
        if actor.member is not None:
            audit.record(
                session,
                actor.member,
                "waitlist.add",
                details=f"for a caller, {request.earliest.isoformat()} to {request.latest.isoformat()}",
            )
    return NewEntry(entry=entry, token=token)


def find_by_token(token: str, *, lock: bool = False) -> WaitlistEntry | None:
    """The entry this link names; with `lock`, locked for the caller's write transaction."""
    if not looks_like_token(token):
        return None
    query = select(WaitlistEntry).where(WaitlistEntry.token_hash == hash_token(token))
    return db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def current_choices(entry: WaitlistEntry) -> dict[str, Any]:
    """The entry's choices in the shape of a join request's body."""
    return {
        "earliest": entry.earliest.isoformat(),
        "latest": entry.latest.isoformat(),
        "weekdays": entry.weekday_list,
        "parts_of_day": entry.part_list,
        "modes": entry.mode_list,
    }


def change(token: str, values: dict[str, Any], now: datetime | None = None) -> WaitlistEntry:
    """Change an entry's dates, days, parts of day and meeting types, checked by the join
    rules; a field missing from `values` stays as it is. The entry keeps its place in the
    queue (created_at is unchanged); its end is worked out again from the joining time and the
    new latest date. Offers already sent stay as they are."""
    now = now or utcnow()
    days = current_app.config["WAITLIST_ENTRY_DAYS"]
    zone = clinic_zone()
    with write_transaction():
        entry = _lock_entry(token)
        if not entry.is_waiting(now):
            raise EntryEnded(_("Your place on the list has ended, so it can no longer be changed."))
        body = current_choices(entry)
        body.update({field: values[field] for field in PREFERENCE_FIELDS if field in values})
        choices, errors = choice_fields(body, now.astimezone(zone).date())
        if errors or choices is None:
            raise InvalidChoices(errors)
        entry.earliest, entry.latest = choices.earliest, choices.latest
        entry.weekdays = ",".join(str(d) for d in choices.weekdays)
        entry.parts_of_day = ",".join(choices.parts_of_day)
        entry.modes = ",".join(choices.modes)
        entry.expires_at = entry_expiry(entry.created_at, choices.latest, days, zone)
    return entry


def _lock_entry(token: str) -> WaitlistEntry:
    """The entry this link names, locked for the caller's transaction (raises EntryNotFound)."""
    entry = find_by_token(token, lock=True)
    if entry is None:
        raise EntryNotFound(_("No waiting-list entry has that link."))
    return entry


def leave(token: str, now: datetime | None = None) -> WaitlistEntry:
    """Take the entry off the list (again: no change) and withdraw its offers still out."""
    now = now or utcnow()
    with write_transaction() as session:
        entry = _lock_entry(token)
        if entry.status == ENTRY_WAITING:
            entry.status = ENTRY_LEFT
            entry.ended_at = now
            session.execute(
                update(WaitlistOffer)
                .where(WaitlistOffer.entry_id == entry.id, WaitlistOffer.status == OFFER_SENT)
                .values(status=OFFER_WITHDRAWN, ended_at=now)
                .execution_options(synchronize_session=False)
            )
    return entry


def state(entry: WaitlistEntry, now: datetime | None = None) -> str:
    """waiting, left, fulfilled or expired, as shown to the person and staff."""
    if entry.status == ENTRY_WAITING and entry.expires_at <= (now or utcnow()):
        return "expired"
    return entry.status
