"""Book, cancel and reschedule consultations. Each call is one transaction that either
completes (with its emails queued) or changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from app.booking import changes, slot_records
from app.booking.changes import BOOKED, CANCELLED, MOVED, RESENT, Change
from app.booking.errors import (
    BookingClosed,
    BookingError,
    BookingNotFound,
    ModeNotOffered,
    SlotNotFound,
    SlotTaken,
    SlotUnavailable,
    TooManyBookings,
)
from app.booking.reference import new_reference
from app.booking.reference import normalise as normalise_reference
from app.booking.rules import booking_window
from app.booking.search import search_text
from app.booking.slots import nearest_free_slots
from app.busy.overlap import overlaps_busy
from app.core.actors import PATIENT, THE_PATIENT, Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.labels import mode_label
from app.core.timefmt import when
from app.core.tokens import hash_token, looks_like_token, new_manage_token
from app.mail import outbox
from app.models import Booking, Slot, new_public_id, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED, STATUS_CANCELLED, STATUS_CONFIRMED


@dataclass(frozen=True)
class PatientDetails:
    """Validated, normalised input (see app.forms)."""

    name: str
    email: str | None  # None only when staff book a caller who has no email
    phone: str
    interest: str
    note: str = ""
    self_check: dict | None = None
    locale: str = "en"  # the language the patient booked in: their emails use it
    sms_consent: str | None = None  # where they agreed to texts (SMS_CONSENT_SOURCES); None: no texts


@dataclass(frozen=True)
class NewBooking:
    booking: Booking
    manage_token: str


def _is_double_booking(error: IntegrityError) -> bool:
    text = str(error.orig)
    return "uq_booking_active_slot" in text or "booking.slot_id" in text


@dataclass(frozen=True)
class _LockedSlot:
    """A slot locked for the change, and what the change must know about it, read in the
    same statement: whether a busy time overlaps it and whether the waiting list has
    anything open on it; for a booking also how many upcoming consultations the patient's
    address holds and whether the new booking's reference is already in use."""

    slot: Slot
    busy: bool
    waitlisted: bool
    active_for_email: int = 0
    reference_in_use: bool = False


_BOOKED_SLOT = aliased(Slot, name="booked_slot")  # the slots of those bookings, beside the one locked
_REFERENCE_TAKEN = exists().where(Booking.reference == bindparam("reference"))
# Built once: every change locks its slot with the same statement; only the values differ.
_LOCK_SLOT = (
    select(Slot, overlaps_busy(Slot.starts_at, Slot.ends_at), slot_records.involves(Slot.id))
    .where(Slot.public_id == bindparam("public_id"))
    .with_for_update(of=Slot)
)
_LOCK_SLOT_TO_BOOK = _LOCK_SLOT.add_columns(
    select(func.count(Booking.id))
    .join(_BOOKED_SLOT, Booking.slot_id == _BOOKED_SLOT.id)
    .where(
        func.lower(Booking.email) == bindparam("email"), BOOKING_IS_CONFIRMED, _BOOKED_SLOT.starts_at > bindparam("now")
    )
    .scalar_subquery(),
    _REFERENCE_TAKEN,
)
_REFERENCE_IN_USE = select(_REFERENCE_TAKEN)


def _locked(row) -> _LockedSlot:
    if row is None:
        raise SlotNotFound(_("That consultation time does not exist. Please choose another."))
    return _LockedSlot(*row)


def _lock_slot(public_id: str) -> _LockedSlot:
    """The slot, locked for this transaction (raises SlotNotFound)."""
    return _locked(db.session.execute(_LOCK_SLOT, {"public_id": public_id}).one_or_none())


def _lock_slot_to_book(public_id: str, email: str | None, reference: str, now: datetime) -> _LockedSlot:
    """As _lock_slot, and counts the upcoming consultations `email` holds at `now` (none
    without an email) and looks up `reference`, in the same statement."""
    return _locked(
        db.session.execute(
            _LOCK_SLOT_TO_BOOK,
            {"public_id": public_id, "email": email.lower() if email else None, "now": now, "reference": reference},
        ).one_or_none()
    )


def find_slot(public_id: str) -> Slot | None:
    return db.session.execute(select(Slot).where(Slot.public_id == public_id)).scalar_one_or_none()


def is_open(slot: Slot, now: datetime | None = None) -> bool:
    """Whether a patient could book this slot now (in some mode): the rules book() applies."""
    now = now or utcnow()
    busy = db.session.execute(select(overlaps_busy(slot.starts_at, slot.ends_at))).scalar_one()
    try:
        _check_bookable(slot, None, now, busy=busy)
    except BookingError:
        return False
    return not slot.is_booked


def can_change(booking: Booking, now: datetime | None = None, actor: Actor = THE_PATIENT) -> bool:
    """Whether `actor` may still cancel or move this booking: the rule cancel() and
    reschedule() apply."""
    try:
        _check_changeable(booking, now or utcnow(), actor)
    except BookingError:
        return False
    return True


def _check_bookable(slot: Slot, mode: str | None, now: datetime, *, busy: bool, enforce_notice: bool = True) -> None:
    """Raises SlotUnavailable or ModeNotOffered unless `slot` may be booked now (in `mode`,
    when one is given); `busy` says whether a busy time overlaps it. Staff may book inside
    the notice period (`enforce_notice=False`)."""
    window = booking_window(now)
    if slot.starts_at <= now:
        raise SlotUnavailable(_("That time has already passed. Please choose another."))
    if enforce_notice and slot.starts_at < window.earliest:
        hours = current_app.config["BOOKING_MIN_NOTICE_HOURS"]
        raise SlotUnavailable(
            _(
                "Consultations need to be booked at least %(hours)s hours ahead. Please choose a later time.",
                hours=hours,
            )
        )
    if slot.starts_at > window.latest:
        raise SlotUnavailable(_("That time is too far ahead to book yet. Please choose an earlier time."))
    if slot.is_blocked or busy:
        raise SlotUnavailable(_("That time is no longer offered. Please choose another."))
    if mode is not None and not slot.offers(mode):
        offered = ", ".join(mode_label(m).lower() for m in slot.mode_list)
        raise ModeNotOffered(_("That time is offered as: %(modes)s. Please choose one of those.", modes=offered))


def _taken(
    slot_starts_at: datetime, mode: str, now: datetime, exclude_id: int | None, *, staff: bool = False
) -> SlotTaken:
    # Staff may book inside the notice period, so their alternatives may be sooner too.
    alternatives = nearest_free_slots(
        slot_starts_at, 3, now=now, mode=mode, exclude_id=exclude_id, enforce_notice=not staff
    )
    return SlotTaken(
        _("Sorry, %(when)s was just booked by someone else.", when=when(slot_starts_at)), alternatives=alternatives
    )


def book(
    slot_public_id: str, mode: str, patient: PatientDetails, now: datetime | None = None, *, actor: Actor
) -> NewBooking:
    """Book a free slot for a patient. Raises SlotTaken (with alternatives) when it is held.

    One short write transaction: lock the slot, check it, add the booking and run the
    change's hooks (app.booking.changes: its audit line, waiting-list records and queued
    emails). A staff `actor` books for a caller: the minimum notice is for the patient
    only, and the booking records who made it. If a hook raises, nothing is booked."""
    now = now or utcnow()
    token = new_manage_token()
    taken_at: tuple[datetime, int] | None = None
    try:
        with write_transaction() as session:
            reference = new_reference()
            locked = _lock_slot_to_book(slot_public_id, patient.email, reference, now)
            slot = locked.slot
            _check_bookable(slot, mode, now, busy=locked.busy, enforce_notice=not actor.is_staff)
            # Whether another booking holds the slot is decided by the partial unique index
            # when the booking is flushed below.
            _check_email_limit(locked.active_for_email)
            if locked.reference_in_use:  # 40 random bits: about once in a trillion bookings
                reference = _unused_reference()
            public_id = new_public_id()
            booking = Booking(
                public_id=public_id,
                reference=reference,
                slot=slot,
                mode=mode,
                status=STATUS_CONFIRMED,
                name=patient.name,
                email=patient.email,
                phone=patient.phone,
                interest=patient.interest,
                note=patient.note,
                locale=patient.locale,
                self_check=json.dumps(patient.self_check) if patient.self_check else None,
                consent_at=now,
                manage_token_hash=hash_token(token),
                sms_consent_at=now if patient.sms_consent else None,
                sms_consent_source=patient.sms_consent,
                ical_uid=f"{public_id}@{outbox.sender_domain()}",
                ical_sequence=0,
                created_at=now,
                updated_at=now,
                booked_by=actor.member.name if actor.member is not None else None,
                search_text=search_text(patient.name, patient.email),
            )
            session.add(booking)
            slot_at = (slot.starts_at, slot.id)  # a failed flush expires the slot object
            try:
                session.flush()
            except IntegrityError as error:
                if not _is_double_booking(error):
                    raise
                taken_at = slot_at
                raise SlotTaken("taken") from error
            changes.run_hooks(
                Change(BOOKED, booking, actor, now, manage_token=token, slot_waitlisted=locked.waitlisted)
            )
    except SlotTaken:
        assert taken_at is not None
        raise _taken(taken_at[0], mode, now, taken_at[1], staff=actor.is_staff) from None
    return NewBooking(booking=booking, manage_token=token)


def _unused_reference(attempts: int = 8) -> str:
    """A booking reference no other booking has: 40 random bits, so a retry is rare."""
    for _attempt in range(attempts):
        candidate = new_reference()
        if not db.session.execute(_REFERENCE_IN_USE, {"reference": candidate}).scalar_one():
            return candidate
    raise RuntimeError("could not find an unused booking reference")


def find_by_reference(text: str) -> Booking | None:
    reference = normalise_reference(text)
    if reference is None:
        return None
    return db.session.execute(select(Booking).where(Booking.reference == reference)).scalar_one_or_none()


def _check_email_limit(active: int) -> None:
    if active >= current_app.config["BOOKING_MAX_ACTIVE_PER_EMAIL"]:
        raise TooManyBookings(
            ngettext(
                "This email address already has %(num)d upcoming consultation. "
                "Please manage or cancel it from its email before booking another.",
                "This email address already has %(num)d upcoming consultations. "
                "Please manage or cancel one from its email before booking another.",
                active,
            )
        )


def find_by_token(token: str, *, lock: bool = False) -> Booking | None:
    """The booking this manage token names; with `lock`, locked for the caller's write
    transaction (so a token replaced meanwhile no longer finds it)."""
    if not looks_like_token(token):
        return None
    query = select(Booking).where(Booking.manage_token_hash == hash_token(token))
    return db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def find_by_public_id(public_id: str) -> Booking | None:
    return db.session.execute(select(Booking).where(Booking.public_id == public_id)).scalar_one_or_none()


def _lock_booking(public_id: str) -> Booking:
    booking = db.session.execute(
        select(Booking).where(Booking.public_id == public_id).with_for_update()
    ).scalar_one_or_none()
    if booking is None:
        raise BookingNotFound(_("We could not find that booking."))
    return booking


def _check_changeable(booking: Booking, now: datetime, actor: Actor) -> None:
    if booking.status == STATUS_CANCELLED:
        raise BookingClosed(_("This consultation was already cancelled."))
    if not actor.is_staff and booking.slot.starts_at <= now:
        raise BookingClosed(
            _("This consultation has already started, so it can no longer be changed online. Please call the clinic.")
        )


def cancel(
    booking_public_id: str,
    *,
    actor: Actor,
    message: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Booking:
    """Cancel an active booking; its slot is free again at once. `actor` says who (kept as
    `cancelled_by`). `message` is the clinic's note to the patient (emailed); `reason` is
    the patient's own, kept for staff only. The change's hooks run before the transaction
    commits (a calendar reply's first, so the emails say what led to the cancellation)."""
    now = now or utcnow()
    with write_transaction():
        booking = _lock_booking(booking_public_id)
        _check_changeable(booking, now, actor)
        booking.status = STATUS_CANCELLED
        booking.cancelled_at = now
        booking.cancelled_by = actor.kind
        booking.cancel_reason = (reason or "").strip() or None
        booking.ical_sequence += 1
        booking.updated_at = now
        changes.run_hooks(Change(CANCELLED, booking, actor, now, message=message))
    return booking


def reschedule(
    booking_public_id: str,
    new_slot_public_id: str,
    mode: str | None = None,
    *,
    actor: Actor,
    now: datetime | None = None,
    manage_token: str | None = None,
) -> Booking:
    """Move a booking to another free slot in one step: the old slot is released only when
    the new one is secured; if it is not, the booking stays exactly as it was. The change's
    hooks run once the new slot is held (as in book). Only the patient keeps the minimum
    notice.

    The update email carries the manage link: `manage_token` is the patient's own, when they
    move it with their link; without it (staff, a waiting-list claim) a new link is issued
    and the old one stops working."""
    now = now or utcnow()
    taken_at: tuple[datetime, int, str] | None = None
    try:
        with write_transaction() as session:
            booking = _lock_booking(booking_public_id)
            _check_changeable(booking, now, actor)
            locked = _lock_slot(new_slot_public_id)
            new_slot = locked.slot
            chosen_mode = mode or booking.mode
            if new_slot.id == booking.slot_id:
                raise SlotUnavailable(_("That is the time you already have. Please choose a different one."))
            _check_bookable(new_slot, chosen_mode, now, busy=locked.busy, enforce_notice=actor.kind == PATIENT)
            if new_slot.is_booked:  # by another booking: this one holds a different slot
                taken_at = (new_slot.starts_at, new_slot.id, chosen_mode)
                raise SlotTaken("taken")
            previous_start, previous_slot_id, previous_mode = booking.slot.starts_at, booking.slot_id, booking.mode
            booking.slot = new_slot
            booking.mode = chosen_mode
            booking.ical_sequence += 1
            booking.updated_at = now
            try:
                session.flush()
            except IntegrityError as error:
                if not _is_double_booking(error):
                    raise
                taken_at = (new_slot.starts_at, new_slot.id, chosen_mode)
                raise SlotTaken("taken") from error
            if manage_token is None or hash_token(manage_token) != booking.manage_token_hash:
                manage_token = new_manage_token()
                booking.manage_token_hash = hash_token(manage_token)
            changes.run_hooks(
                Change(
                    MOVED,
                    booking,
                    actor,
                    now,
                    manage_token=manage_token,
                    slot_waitlisted=locked.waitlisted,
                    previous_start=previous_start,
                    previous_slot_id=previous_slot_id,
                    previous_mode=previous_mode,
                )
            )
    except SlotTaken:
        assert taken_at is not None
        raise _taken(taken_at[0], taken_at[2], now, taken_at[1]) from None
    return booking


def resend_confirmation(booking_public_id: str, *, actor: Actor, now: datetime | None = None) -> NewBooking:
    """Send the confirmation again with a new manage link: the old link stops working (only
    the new token's hash is kept), and so does whatever was made with it (waiting-list
    entries and their offers); the pending reminder is queued again with the new link."""
    now = now or utcnow()
    token = new_manage_token()
    with write_transaction():
        booking = _lock_booking(booking_public_id)
        if booking.status == STATUS_CANCELLED:
            raise BookingClosed(_("This consultation was cancelled, so there is nothing to confirm."))
        if booking.erased_at is not None:
            raise BookingClosed(_("This patient's data was erased, so there is no address to write to."))
        if booking.is_phone_only:
            raise BookingClosed(_("This booking has no email address, so there is nothing to send."))
        if booking.slot.ends_at <= now:
            raise BookingClosed(_("This consultation is over, so there is nothing to confirm."))
        booking.manage_token_hash = hash_token(token)
        booking.ical_sequence += 1  # the invite carries the new link: calendars keep the newest
        booking.updated_at = now
        changes.run_hooks(Change(RESENT, booking, actor, now, manage_token=token))
    return NewBooking(booking=booking, manage_token=token)
