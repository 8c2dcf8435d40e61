"""Bookings for a date range as a spreadsheet: XLSX (dates and times as date cells in the
clinic's zone, every other cell typed as text, so nothing runs as a formula and nothing
needs an apostrophe) or CSV that opens cleanly in Excel (UTF-8 with a byte-order mark,
every cell quoted, the formula guard only where a cell could start: whatever separator
the spreadsheet splits on)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from app.booking.validation import display_phone
from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.labels import interest_label, mode_label
from app.models import Booking, Slot
from app.models.staff import StaffUser
from app.schedule.clinic_time import day_range, local
from app.staff.bookings_admin import ATTENDANCE_LABELS, STATUS_LABELS

MAX_DAYS = 366
HEADER = (
    "Reference",
    "Date",
    "Start",
    "End",
    "Time zone",
    "How",
    "Status",
    "Attendance",
    "Name",
    "Email",
    "Phone",
    "Language",
    "Interest",
    "Patient's note",
    "Booked at",
    "Booked by",
    "Cancelled at",
    "Cancelled by",
    "Internal notes",
)
# Cells starting with these are formulas (or DDE) to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# What a spreadsheet may split a CSV line on, by its locale's list separator (a comma in
# en-US; a semicolon in es-ES, de-DE, fr-FR; a tab when pasted), and line breaks: in a cell,
# the text after any of them may be read as a cell of its own.
SEPARATORS = (",", ";", "\t", "\r", "\n")
_FORMULA_AFTER_A_SEPARATOR = re.compile(
    "(["
    + re.escape("".join(SEPARATORS))
    + r"]\s*)(?=["
    + re.escape("".join(c for c in FORMULA_STARTS if not c.isspace()))
    + "])"
)

PRESETS = {"next7": "Next 7 days", "next30": "Next 30 days", "last_month": "Last month", "custom": "Choose dates"}
DEFAULT_PRESET = "next30"
FORMATS = {"xlsx": "Excel workbook (.xlsx)", "csv": "CSV (.csv)"}
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


class ExportError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NothingToExport(ExportError):
    """The range holds no bookings: said on the page rather than downloaded as an empty file."""


@dataclass(frozen=True)
class Download:
    data: bytes
    count: int
    filename: str
    mimetype: str


def preset_range(
    preset: str, today: date, first: date | None = None, last: date | None = None
) -> tuple[date | None, date | None]:
    """The dates a preset stands for, from `today` (clinic time); custom uses first and last."""
    if preset == "next7":
        return today, today + timedelta(days=6)
    if preset == "next30":
        return today, today + timedelta(days=29)
    if preset == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    return first, last


def neutralise(value: object) -> str:
    """A CSV cell a spreadsheet shows as text whatever separator it splits on: an apostrophe
    disarms a formula, and only text that could start a cell like one gets it (the cell's
    start, and what follows a comma, semicolon, tab or line break inside it: `x;=1+1` is
    `x;'=1+1`, since a semicolon spreadsheet would read `=1+1` as a cell)."""
    text = _FORMULA_AFTER_A_SEPARATOR.sub(r"\1'", "" if value is None else str(value))
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _local_stamp(instant, typed: bool = False) -> str | datetime | None:
    if not instant:
        return None if typed else ""
    stamp = local(instant).replace(tzinfo=None, second=0, microsecond=0)
    return stamp if typed else stamp.strftime("%Y-%m-%d %H:%M")


def bookings_between(first: date, last: date) -> list[Booking]:
    start, end = day_range(first, last)
    return list(
        db.session.execute(
            select(Booking)
            .join(Slot)
            .where(Slot.starts_at >= start, Slot.starts_at < end)
            .order_by(Slot.starts_at, Booking.id)
        ).scalars()
    )


def rows(bookings: list[Booking], typed: bool = False):
    """The header, then a row per booking. Dates and times are in the clinic's zone: as text
    (CSV), or `typed` as date, time and naive datetime values (XLSX date cells)."""
    yield HEADER
    for b in bookings:
        start, end = local(b.slot.starts_at), local(b.slot.ends_at)
        # National format ("(970) 555-0142") for US numbers: readable, and not a formula.
        phone = display_phone(b.phone) if b.phone else ""
        day: date | str
        starts: time | str
        ends: time | str
        if typed:
            day, starts, ends = start.date(), start.time().replace(tzinfo=None), end.time().replace(tzinfo=None)
        else:
            day, starts, ends = start.strftime("%Y-%m-%d"), start.strftime("%H:%M"), end.strftime("%H:%M")
        yield (
            b.reference_display,
            day,
            starts,
            ends,
            start.tzname(),
            mode_label(b.mode),
            STATUS_LABELS.get(b.status, b.status),
            ATTENDANCE_LABELS.get(b.attendance or "", ""),
            b.name,
            b.email or "",
            phone,
            b.language_name,
            interest_label(b.interest),
            b.note,
            _local_stamp(b.created_at, typed),
            b.booked_by or "",
            _local_stamp(b.cancelled_at, typed),
            b.cancelled_by or "",
            b.staff_notes,
        )


def to_csv(bookings: list[Booking]) -> bytes:
    buffer = io.StringIO()
    # CRLF line ends; every cell quoted, so one holding a semicolon or a tab stays one cell in
    # a spreadsheet that splits on those.
    writer = csv.writer(buffer, dialect="excel", quoting=csv.QUOTE_ALL)
    for row in rows(bookings):
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# How XLSX shows the clinic-time values (real date cells, so they sort and filter as dates).
_XLSX_FORMATS = ((datetime, "yyyy-mm-dd h:mm"), (date, "yyyy-mm-dd"), (time, "h:mm"))


def to_xlsx(bookings: list[Booking]) -> bytes:
    """Dates and times are date cells in the clinic's zone; every other cell is a text cell
    (type string, format "@"): a value such as "=1+1" or "+1 970" shows as written and never
    runs, without an apostrophe. The header row stays in view and carries filters."""
    book = Workbook()
    sheet = cast(Worksheet, book.active)  # a new workbook has its one sheet
    sheet.title = "Bookings"
    widths = [len(h) for h in HEADER]
    for row_number, row in enumerate(rows(bookings, typed=True), start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            date_format = next((f for kind, f in _XLSX_FORMATS if isinstance(value, kind)), None)
            if date_format:
                cell.value = value
                cell.number_format = date_format
                widths[column - 1] = max(widths[column - 1], len(date_format))
                continue
            text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
            if text:
                cell.value = text
                cell.data_type = "s"  # set after the value: openpyxl would take "=..." as a formula
            cell.number_format = "@"
            if row_number == 1:
                cell.font = Font(bold=True)
            widths[column - 1] = max(widths[column - 1], min(len(text), 40))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width + 2
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export(first: date, last: date, actor: StaffUser, fmt: str = "xlsx") -> Download:
    if fmt not in FORMATS:
        raise ExportError("Please choose Excel or CSV.")
    if last < first:
        raise ExportError("The end date must be on or after the start date.")
    if (last - first).days + 1 > MAX_DAYS:
        raise ExportError(f"Please export at most {MAX_DAYS} days at a time.")
    bookings = bookings_between(first, last)
    if not bookings:
        raise NothingToExport(
            f"There are no bookings from {_day(first)} to {_day(last)}, so there "
            "is nothing to download. Try another range."
        )
    data = to_xlsx(bookings) if fmt == "xlsx" else to_csv(bookings)
    with write_transaction() as session:
        audit.record(
            session,
            actor,
            "export.csv",
            details=f"{first.isoformat()} to {last.isoformat()}, {len(bookings)} bookings, {fmt}",
        )
    return Download(data=data, count=len(bookings), filename=filename(first, last, fmt), mimetype=MIMETYPES[fmt])


def _day(on: date) -> str:
    return f"{on:%B} {on.day}, {on.year}"


def filename(first: date, last: date, fmt: str = "csv") -> str:
    return f"mindset-bookings-{first.isoformat()}-to-{last.isoformat()}.{fmt}"
