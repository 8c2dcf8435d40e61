"""Bookings for a date range as CSV that opens cleanly in Excel: UTF-8 with a byte-order
mark, and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from app.core.database import write_transaction
from app.core.extensions import db
from app.models import Booking, Slot
from app.models.booking import INTEREST_LABELS, MODE_LABELS
from app.models.staff import StaffUser
from app.staff import audit
from app.staff.bookings_admin import ATTENDANCE_LABELS, STATUS_LABELS
from app.staff.clinic_time import day_range, local

MAX_DAYS = 366
HEADER = ("Reference", "Date", "Start", "End", "Time zone", "How", "Status", "Attendance", "Name",
          "Email", "Phone", "Interest", "Patient's note", "Booked at", "Cancelled at", "Cancelled by",
          "Internal notes")
# Cells starting with these are formulas (or DDE) to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class ExportError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def neutralise(value: object) -> str:
    """A cell value a spreadsheet shows as text: a leading apostrophe disarms formulas."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _local_stamp(instant) -> str:
    return local(instant).strftime("%Y-%m-%d %H:%M") if instant else ""


def bookings_between(first: date, last: date) -> list[Booking]:
    start, end = day_range(first, last)
    return list(db.session.execute(
        select(Booking).join(Slot).where(Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at, Booking.id)
    ).scalars())


def rows(bookings: list[Booking]):
    yield HEADER
    for b in bookings:
        start, end = local(b.slot.starts_at), local(b.slot.ends_at)
        yield (b.public_id, start.strftime("%Y-%m-%d"), start.strftime("%H:%M"), end.strftime("%H:%M"),
               start.tzname(), MODE_LABELS.get(b.mode, b.mode), STATUS_LABELS.get(b.status, b.status),
               ATTENDANCE_LABELS.get(b.attendance or "", ""), b.name, b.email, b.phone,
               INTEREST_LABELS.get(b.interest, b.interest), b.note, _local_stamp(b.created_at),
               _local_stamp(b.cancelled_at), b.cancelled_by or "", b.staff_notes)


def to_csv(bookings: list[Booking]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")  # CRLF line ends, quotes where needed
    for row in rows(bookings):
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export(first: date, last: date, actor: StaffUser) -> tuple[bytes, int]:
    if last < first:
        raise ExportError("The end date must be on or after the start date.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ExportError(f"Please export at most {MAX_DAYS} days at a time.")
    bookings = bookings_between(first, last)
    data = to_csv(bookings)
    with write_transaction() as session:
        audit.record(session, actor, "export.csv",
                     details=f"{first.isoformat()} to {last.isoformat()}, {len(bookings)} bookings")
    return data, len(bookings)


def filename(first: date, last: date) -> str:
    return f"mindset-bookings-{first.isoformat()}-to-{last.isoformat()}.csv"
