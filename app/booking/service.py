"""Book, cancel and reschedule consultations. Each call is one transaction that either
completes (with its emails queued) or changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask import current_app
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from app.booking import calendar_version, notifications
from app.booking.errors import (
    BookingClosed,
    BookingNotFound,
    ModeNotOffered,
    SlotNotFound,
    SlotTaken,
    SlotUnavailable,
    TooManyBookings,
)
from app.booking.rules import booking_window
from app.booking.slots import nearest_free_slots
from app.booking.tokens import hash_token, looks_like_token, new_manage_token
from app.database import write_transaction
from app.driver_writes import DriverStatement, DriverTransaction, driver_transaction
from app.extensions import db
from app.mail import outbox
from app.models import Booking, Slot, new_public_id, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED, MODE_LABELS, STATUS_CANCELLED, STATUS_CONFIRMED
from app.timefmt import when

ModelT = TypeVar("ModelT", Booking, Slot)


@dataclass(frozen=True)
class PatientDetails:
    """Validated, normalised input (see app.forms)."""

    name: str
    email: str
    phone: str
    interest: str
    note: str = ""
    self_check: dict | None = None


@dataclass(frozen=True)
class NewBooking:
    booking: Booking
    manage_token: str


def _is_double_booking(error: IntegrityError) -> bool:
    text = str(error.orig)
    return "uq_booking_active_slot" in text or "booking.slot_id" in text


_HELD = select(func.count(Booking.id)).where(Booking.slot_id == bindparam("slot_id"),
                                             BOOKING_IS_CONFIRMED)
# A new booking runs on the driver connection (see app.driver_writes): its statements are
# compiled once per database. First, one statement: the slot (locked on PostgreSQL), whether
# it is held, and how many upcoming consultations the email address already has.
_BOOKED_SLOT = Slot.__table__.alias("booked_slot")
_SLOT_FOR_BOOKING = DriverStatement(
    select(Slot.__table__,
           select(func.count(Booking.id))
           .where(Booking.slot_id == Slot.id, BOOKING_IS_CONFIRMED)
           .scalar_subquery().label("held"),
           select(func.count(Booking.id))
           .join(_BOOKED_SLOT, Booking.slot_id == _BOOKED_SLOT.c.id)
           .where(func.lower(Booking.email) == bindparam("email"), BOOKING_IS_CONFIRMED,
                  _BOOKED_SLOT.c.starts_at > bindparam("now"))
           .scalar_subquery().label("active_for_email"))
    .where(Slot.public_id == bindparam("public_id"))
    .with_for_update(of=Slot.__table__)
)
_BOOKING_COLUMNS = ("public_id", "slot_id", "mode", "status", "name", "email", "phone", "interest",
                    "note", "self_check", "consent_at", "manage_token_hash", "ical_uid",
                    "ical_sequence", "created_at", "updated_at", "staff_notes")
_INSERT_BOOKING = DriverStatement(
    insert(Booking.__table__)
    .values({name: bindparam(name, type_=Booking.__table__.c[name].type) for name in _BOOKING_COLUMNS})
    .returning(Booking.__table__.c.id)
)


def _lock_slot(public_id: str) -> Slot:
    slot = db.session.execute(select(Slot).where(Slot.public_id == public_id).with_for_update()
                              ).scalar_one_or_none()
    if slot is None:
        raise SlotNotFound("That consultation time does not exist. Please choose another.")
    return slot


def _slot_for_booking(transaction: DriverTransaction, public_id: str, email: str,
                      now: datetime) -> tuple[Slot, bool, int]:
    """The slot, locked, as a plain object outside the session; whether a confirmed booking
    holds it; and the email address's count of upcoming consultations."""
    columns = transaction.first(_SLOT_FOR_BOOKING, {"public_id": public_id, "email": email.lower(),
                                                    "now": now})
    if columns is None:
        raise SlotNotFound("That consultation time does not exist. Please choose another.")
    held, active = columns.pop("held"), columns.pop("active_for_email")
    return _detached(Slot, columns), held > 0, active


def _check_bookable(slot: Slot, mode: str, now: datetime, *, enforce_notice: bool = True) -> None:
    window = booking_window(now)
    if slot.starts_at <= now:
        raise SlotUnavailable("That time has already passed. Please choose another.")
    if enforce_notice and slot.starts_at < window.earliest:
        hours = current_app.config["BOOKING_MIN_NOTICE_HOURS"]
        raise SlotUnavailable(f"Consultations need to be booked at least {hours} hours ahead. "
                              "Please choose a later time.")
    if slot.starts_at > window.latest:
        raise SlotUnavailable("That time is too far ahead to book yet. Please choose an earlier time.")
    if slot.is_blocked:
        raise SlotUnavailable("That time is no longer offered. Please choose another.")
    if not slot.offers(mode):
        offered = ", ".join(MODE_LABELS[m].lower() for m in slot.mode_list)
        raise ModeNotOffered(f"That time is offered as: {offered}. Please choose one of those.")


def _slot_is_held(slot: Slot, except_booking_id: int) -> bool:
    query = _HELD.where(Booking.id != except_booking_id)
    return db.session.execute(query, {"slot_id": slot.id}).scalar_one() > 0


def _taken(slot_starts_at: datetime, mode: str, now: datetime, exclude_id: int | None) -> SlotTaken:
    alternatives = nearest_free_slots(slot_starts_at, 3, now=now, mode=mode, exclude_id=exclude_id)
    return SlotTaken(f"Sorry, {when(slot_starts_at)} was just booked by someone else.",
                     alternatives=alternatives)


def book(slot_public_id: str, mode: str, patient: PatientDetails,
         now: datetime | None = None) -> NewBooking:
    """Book a free slot for a patient. Raises SlotTaken (with alternatives) when it is held.

    One short write transaction: lock the slot, check it, insert the booking and queue its
    emails as events (rendered later by the worker). It runs on the driver connection with
    plain statements, no ORM unit of work (see app.driver_writes): it is the write that comes
    under load, and on SQLite every writer waits for its lock."""
    now = now or utcnow()
    token = new_manage_token()
    # Everything that does not depend on the slot is made before the writers' turn.
    values = _booking_values(mode, patient, token, now)
    taken_at: tuple[datetime, int] | None = None
    try:
        with driver_transaction() as transaction:
            slot, held, active = _slot_for_booking(transaction, slot_public_id, patient.email, now)
            _check_bookable(slot, mode, now)
            if held:
                taken_at = (slot.starts_at, slot.id)
                raise SlotTaken("taken")
            _check_email_limit(active)
            values["slot_id"] = slot.id
            try:
                booking_id = transaction.scalar(_INSERT_BOOKING, values)
            except IntegrityError as error:
                if not _is_double_booking(error):
                    raise
                taken_at = (slot.starts_at, slot.id)
                raise SlotTaken("taken") from error
            calendar_version.mark_changed_in(transaction)
            booking = _detached_booking(booking_id, slot, values)
            notifications.booking_confirmed(transaction, booking, token)
    except SlotTaken:
        assert taken_at is not None
        raise _taken(taken_at[0], mode, now, taken_at[1]) from None
    return NewBooking(booking=booking, manage_token=token)


def _booking_values(mode: str, patient: PatientDetails, token: str, now: datetime) -> dict:
    """The new booking's columns, all but its slot."""
    public_id = new_public_id()
    return {
        "public_id": public_id, "mode": mode, "status": STATUS_CONFIRMED,
        "name": patient.name, "email": patient.email, "phone": patient.phone,
        "interest": patient.interest, "note": patient.note,
        "self_check": json.dumps(patient.self_check) if patient.self_check else None,
        "consent_at": now, "manage_token_hash": hash_token(token),
        # Unique because the public id is (see Booking.ical_uid).
        "ical_uid": f"{public_id}@{outbox.sender_domain()}", "ical_sequence": 0,
        "created_at": now, "updated_at": now, "staff_notes": "",
    }


def _detached_booking(booking_id: int, slot: Slot, values: dict) -> Booking:
    """The booking just inserted, as an object outside the session (nothing more to write),
    with its slot attached without touching `slot.bookings`."""
    return _detached(Booking, {**values, "id": booking_id, "slot": slot})


def _detached(model: type[ModelT], values: dict) -> ModelT:
    """An instance holding `values` as its loaded state, outside any session: what the ORM's
    own loading does, without the change tracking a constructor pays for (nothing is written
    through these objects)."""
    instance = model.__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance


def _check_email_limit(active: int) -> None:
    if active >= int(current_app.config["BOOKING_MAX_ACTIVE_PER_EMAIL"]):
        raise TooManyBookings(
            f"This email address already has {active} upcoming consultations. "
            "Please manage or cancel one from its email before booking another.")


def find_by_token(token: str) -> Booking | None:
    if not looks_like_token(token):
        return None
    return db.session.execute(
        select(Booking).where(Booking.manage_token_hash == hash_token(token))
    ).scalar_one_or_none()


def find_by_public_id(public_id: str) -> Booking | None:
    return db.session.execute(
        select(Booking).where(Booking.public_id == public_id)
    ).scalar_one_or_none()


def _lock_booking(public_id: str) -> Booking:
    booking = db.session.execute(
        select(Booking).where(Booking.public_id == public_id).with_for_update()
    ).scalar_one_or_none()
    if booking is None:
        raise BookingNotFound("We could not find that booking.")
    return booking


def _check_changeable(booking: Booking, now: datetime, by: str) -> None:
    if booking.status == STATUS_CANCELLED:
        raise BookingClosed("This consultation was already cancelled.")
    if by == "patient" and booking.slot.starts_at <= now:
        raise BookingClosed("This consultation has already started, so it can no longer be "
                            "changed online. Please call the clinic.")


def cancel(booking_public_id: str, *, by: str = "patient", message: str | None = None,
           now: datetime | None = None) -> Booking:
    """Cancel an active booking; its slot is free again at once."""
    now = now or utcnow()
    with write_transaction():
        booking = _lock_booking(booking_public_id)
        _check_changeable(booking, now, by)
        booking.status = STATUS_CANCELLED
        booking.cancelled_at = now
        booking.cancelled_by = by
        booking.ical_sequence += 1
        booking.updated_at = now
        notifications.booking_cancelled(booking, message)
    return booking


def reschedule(booking_public_id: str, new_slot_public_id: str, mode: str | None = None, *,
               by: str = "patient", now: datetime | None = None) -> Booking:
    """Move a booking to another free slot in one step: the old slot is released only when
    the new one is secured; if it is not, the booking stays exactly as it was."""
    now = now or utcnow()
    taken_at: tuple[datetime, int, str] | None = None
    try:
        with write_transaction() as session:
            booking = _lock_booking(booking_public_id)
            _check_changeable(booking, now, by)
            new_slot = _lock_slot(new_slot_public_id)
            chosen_mode = mode or booking.mode
            if new_slot.id == booking.slot_id:
                raise SlotUnavailable("That is the time you already have. Please choose a different one.")
            _check_bookable(new_slot, chosen_mode, now, enforce_notice=(by == "patient"))
            if _slot_is_held(new_slot, except_booking_id=booking.id):
                taken_at = (new_slot.starts_at, new_slot.id, chosen_mode)
                raise SlotTaken("taken")
            previous_start = booking.slot.starts_at
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
            notifications.booking_rescheduled(booking, previous_start)
    except SlotTaken:
        assert taken_at is not None
        raise _taken(taken_at[0], taken_at[2], now, taken_at[1]) from None
    return booking
