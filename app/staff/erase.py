"""Erasing a patient on request: their personal data goes from every booking made with their
email address and from the mail queued or sent about those bookings, including the copies a
development setup captured to files. The slot and booking rows stay (the calendar's
history), and the erasure is recorded in the audit log."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, func, select, update

from app.booking import slot_records
from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.mail import delivery
from app.models import Booking, OutboxMessage, Slot, SmsReply, utcnow
from app.models.booking import STATUS_CONFIRMED
from app.models.mail import OUTBOX_CANCELLED, OUTBOX_PENDING
from app.models.staff import StaffUser

ERASED_NAME = "Erased patient"
ERASED_SUBJECT = "(erased)"


class EraseError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ErasePlan:
    bookings: list[Booking]
    upcoming: list[Booking]  # still booked and not yet happened: cancel or move these first

    @property
    def can_erase(self) -> bool:
        return bool(self.bookings) and not self.upcoming


def erased_email(booking: Booking) -> str:
    return f"erased-{booking.public_id}@invalid"


def plan(public_id: str, now: datetime | None = None) -> ErasePlan:
    """Every not-yet-erased booking of the patient behind `public_id`: the same email address
    or, for a phone-only booking, the phone-only bookings with the same number."""
    now = now or utcnow()
    booking = db.session.execute(select(Booking).where(Booking.public_id == public_id)).scalar_one_or_none()
    if booking is None:
        raise EraseError("We could not find that booking.")
    if booking.erased_at is not None:
        return ErasePlan(bookings=[], upcoming=[])
    same_patient = (
        and_(Booking.email.is_(None), Booking.phone == booking.phone)
        if booking.email is None
        else func.lower(Booking.email) == booking.email.lower()
    )
    bookings = list(
        db.session.execute(
            select(Booking).join(Slot).where(same_patient, Booking.erased_at.is_(None)).order_by(Slot.starts_at)
        ).scalars()
    )
    upcoming = [b for b in bookings if b.status == STATUS_CONFIRMED and b.slot.ends_at > now]
    return ErasePlan(bookings=bookings, upcoming=upcoming)


def erase_patient(public_id: str, actor: StaffUser | None, now: datetime | None = None) -> int:
    """Anonymise the patient's bookings and mail. Returns how many bookings were erased."""
    now = now or utcnow()
    with write_transaction() as session:
        found = plan(public_id, now)
        if not found.bookings:
            raise EraseError("This patient's data has already been erased.")
        if found.upcoming:
            raise EraseError(
                "This patient still has an upcoming consultation. Cancel it first "
                "(the patient is told), then erase their data."
            )
        ids = [b.id for b in found.bookings]
        captured: list[tuple[Path, str]] = []
        for booking in session.execute(select(Booking).where(Booking.id.in_(ids)).with_for_update()).scalars():
            booking.name = ERASED_NAME
            booking.email = erased_email(booking)
            booking.search_text = ""
            booking.phone = ""
            booking.note = ""
            booking.self_check = None
            booking.staff_notes = ""
            booking.erased_at = now
            booking.updated_at = now
            slot_records.manage_link_ended(booking.id, now)
        for message in session.execute(
            select(OutboxMessage).where(OutboxMessage.booking_id.in_(ids)).with_for_update()
        ).scalars():
            if message.status == OUTBOX_PENDING:
                message.status = OUTBOX_CANCELLED
            if capturing_mail():
                captured.append((delivery.captured_file(message), message.message_id))
            message.to_address = ""
            message.to_name = ""
            message.subject = ERASED_SUBJECT
            message.body_text = ""
            message.body_html = ""
            message.ics = None
            message.event = None
            message.last_error = ""
        session.execute(
            update(SmsReply)
            .where(SmsReply.booking_id.in_(ids))
            .values(phone="", body="")
            .execution_options(synchronize_session=False)
        )
        for booking_id in ids:
            audit.record(
                session,
                actor,
                "patient.erase",
                booking_id=booking_id,
                details=f"erased on the patient's request ({len(ids)} booking{'s' if len(ids) != 1 else ''})",
            )
    for path, message_id in captured:
        remove_captured_file(path, message_id)
    return len(ids)


def capturing_mail() -> bool:
    """Without MAIL_SERVER, delivered mail is written to files (MAIL_CAPTURE_DIR), and those
    copies hold the patient's details as much as the outbox rows do."""
    return not current_app.config.get("MAIL_SERVER")


def remove_captured_file(path: Path, message_id: str) -> bool:
    """Delete one message's captured file (and any half-written copy), after checking by its
    Message-ID that the file is that message's and not another's with a reused outbox id.
    Called once the erasure has committed; returns whether a file was removed."""
    path.with_suffix(".eml.part").unlink(missing_ok=True)
    try:
        with path.open("rb") as handle:
            headers = BytesHeaderParser(policy=email.policy.default).parse(handle)
    except FileNotFoundError:
        return False
    if str(headers.get("Message-ID", "")).strip() != message_id:
        return False
    path.unlink(missing_ok=True)
    return True
