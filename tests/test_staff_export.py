"""The export: range presets (the coming 30 days by default), an empty range said on the
page, XLSX with every cell plain text, and CSV (UTF-8 with a BOM) with the formula guard
only on cells that need it; phone numbers in national format."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.actors import Actor
from app.core.extensions import db
from app.models.staff import AuditLog
from app.staff.export import FORMULA_STARTS, HEADER, neutralise
from tests.conftest import future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import signed_in_client


@pytest.fixture
def staff(any_app):
    return signed_in_client(any_app, "sam@mindset-tms.example", "staff")


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


def download(client, first, last, fmt="csv"):
    return client.get(
        "/staff/export",
        query_string={"preset": "custom", "first": first.isoformat(), "last": last.isoformat(), "fmt": fmt},
    )


def parse(response) -> list[dict]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    text = raw.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0].keys()) == list(HEADER) if rows else True
    return rows


def test_csv_opens_cleanly_and_neutralises_formulas(ctx, staff):
    day = future_day(4)
    make_booking(
        make_slot(local_dt(day, 9)),
        name='=HYPERLINK("http://evil.example","Click")',
        email="mallory@example.com",
        phone="+19705550123",
        note="-2+3\nsecond line, with comma",
    )
    make_booking(
        make_slot(local_dt(day, 10)),
        name="José Ñúñez 山田",
        email="jose@example.com",
        phone="+13035550100",
        note='@SUM(1,2) and "quotes"',
    )
    make_booking(make_slot(local_dt(future_day(9), 10)), name="Outside Range", email="out@example.com")
    response = download(staff, day, day)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"{day.isoformat()}-to-{day.isoformat()}.csv" in disposition
    assert response.headers["Cache-Control"] == "no-store"
    rows = parse(response)
    assert [r["Name"] for r in rows] == ['\'=HYPERLINK("http://evil.example","Click")', "José Ñúñez 山田"]
    evil, jose = rows
    assert evil["Phone"] == "(970) 555-0123" and jose["Phone"] == "(303) 555-0100"
    assert not any(r["Reference"].startswith("'") and not r["Reference"][1:].startswith("-") for r in rows)
    assert evil["Patient's note"] == "'-2+3\nsecond line, with comma"
    assert jose["Patient's note"] == '\'@SUM(1,2) and "quotes"'
    assert (evil["Date"], evil["Start"], evil["End"]) == (day.isoformat(), "09:00", "09:30")
    assert evil["Time zone"] in ("MST", "MDT") and evil["Status"] == "Booked" and evil["How"] == "Phone call"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert b"\r\n" in response.get_data()  # Excel's line ends
    (entry,) = db.session.execute(select(AuditLog).where(AuditLog.action == "export.csv")).scalars()
    assert entry.details == f"{day.isoformat()} to {day.isoformat()}, 2 bookings, csv"
    assert "mallory" not in entry.details


def test_no_cell_starts_a_formula_whatever_the_separator(ctx, staff):
    """A spreadsheet whose list separator is a semicolon (es-ES, de-DE) or a tab splits the
    CSV line there, quotes or not: no piece of any line, split on any separator, starts like
    a formula."""
    day = future_day(4)
    make_booking(
        make_slot(local_dt(day, 9)),
        name="Ada;=1+1",
        email="ada@example.com",
        note='x;=1+1\ty\t+SUM(1);\uff1dcmd, -3;@A1\n=HYPERLINK("http://evil.example")',
    )
    raw = download(staff, day, day).get_data().decode("utf-8-sig")
    formula_starts = tuple(c for c in FORMULA_STARTS if not c.isspace())
    pieces = [raw]
    for separator in (",", ";", "\t", "\r\n", "\n"):
        pieces = [part for piece in pieces for part in piece.split(separator)]
    starts = [piece.strip().lstrip('"').lstrip() for piece in pieces]
    assert not [piece for piece in starts if piece.startswith(formula_starts)]
    for delimiter in (",", ";", "\t"):
        for row in csv.reader(io.StringIO(raw, newline=""), delimiter=delimiter):
            assert not [cell for cell in row if cell.strip().startswith(formula_starts)], delimiter
    [row] = parse(download(staff, day, day))
    assert row["Name"] == "Ada;'=1+1"


def test_an_empty_range_is_said_on_the_page_not_downloaded(ctx, staff):
    response = download(staff, future_day(20), future_day(21))
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "There are no bookings from" in response.get_data(as_text=True)
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "export.csv")).first() is None


def test_the_form_defaults_to_the_coming_30_days_as_xlsx(ctx, staff):
    from app.schedule.clinic_time import clinic_today

    html = staff.get("/staff/export").get_data(as_text=True)
    start, end = clinic_today(), clinic_today() + timedelta(days=29)
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html
    assert re.search(r'<input checked[^>]*value="next30"', html)
    assert re.search(r'<input checked[^>]*value="xlsx"', html)
    make_booking(make_slot(local_dt(future_day(25), 9)))
    response = staff.get("/staff/export", query_string={"preset": "next30", "fmt": "xlsx"})
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert f"{start.isoformat()}-to-{end.isoformat()}.xlsx" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("next7", ("2026-03-10", "2026-03-16")),
        ("next30", ("2026-03-10", "2026-04-08")),
        ("last_month", ("2026-02-01", "2026-02-28")),
    ],
)
def test_presets(preset, expected):
    from datetime import date

    from app.staff.export import preset_range

    first, last = preset_range(preset, date(2026, 3, 10))
    assert (first.isoformat(), last.isoformat()) == expected


def test_xlsx_cells_are_clean_text(ctx, staff):
    from openpyxl import load_workbook

    day = future_day(4)
    make_booking(
        make_slot(local_dt(day, 9)),
        name='=HYPERLINK("http://evil.example","Click")',
        email="mallory@example.com",
        phone="+19705550142",
        note="-2+3\nsecond line",
    )
    make_booking(
        make_slot(local_dt(day, 10)),
        name="José Ñúñez 山田",
        email="jose@example.com",
        phone="+442079460958",
        note="@SUM(1,2)",
    )
    response = download(staff, day, day, fmt="xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    table = [[cell for cell in row] for row in sheet.iter_rows()]
    assert [c.value for c in table[0]] == list(HEADER)
    by_name = {h: i for i, h in enumerate(HEADER)}
    evil, jose = table[1], table[2]
    assert evil[by_name["Name"]].value == '=HYPERLINK("http://evil.example","Click")'
    assert evil[by_name["Phone"]].value == "(970) 555-0142"
    assert evil[by_name["Patient's note"]].value == "-2+3\nsecond line"
    assert jose[by_name["Name"]].value == "José Ñúñez 山田"
    assert jose[by_name["Phone"]].value == "+44 20 7946 0958"
    assert jose[by_name["Patient's note"]].value == "@SUM(1,2)"
    dated = {by_name[h] for h in ("Date", "Start", "End", "Booked at", "Cancelled at")}
    for row in table:
        for column, cell in enumerate(row):
            if column in dated and row is not table[0]:
                continue
            if cell.value is not None:  # empty cells hold nothing at all
                assert cell.data_type == "s", (cell.coordinate, cell.value)  # text, never a formula
                assert not str(cell.value).startswith("'")
            assert cell.number_format == "@"


def test_xlsx_dates_are_date_cells_in_clinic_time_with_filters_and_the_patients_reference(ctx, staff):
    from datetime import datetime, time

    from openpyxl import load_workbook

    from app.booking import service
    from app.schedule.clinic_time import local

    day = future_day(4)
    booked = make_booking(make_slot(local_dt(day, 14, 30)), email="a@example.com").booking
    service.cancel(booked.public_id, actor=Actor("staff"))
    response = download(staff, day, day, fmt="xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    by_name = {h: i for i, h in enumerate(HEADER)}
    row = [cell for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert row[by_name["Reference"]].value == booked.reference_display  # K7Q4-92MP, not the internal id
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", row[by_name["Reference"]].value)
    date_cell, start, end = (row[by_name[h]] for h in ("Date", "Start", "End"))
    assert date_cell.is_date and date_cell.value == datetime(day.year, day.month, day.day)
    assert start.is_date and start.value == time(14, 30) and end.value == time(15, 0)
    assert date_cell.number_format == "yyyy-mm-dd" and start.number_format == "h:mm"
    booked_at, cancelled_at = row[by_name["Booked at"]], row[by_name["Cancelled at"]]
    assert booked_at.is_date and cancelled_at.is_date and booked_at.number_format == "yyyy-mm-dd h:mm"
    assert booked_at.value.tzinfo is None
    assert booked_at.value == local(booked.created_at).replace(tzinfo=None, second=0, microsecond=0)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=len(HEADER)).column_letter}2"
    (csv_row,) = parse(download(staff, day, day))
    assert csv_row["Reference"] == booked.reference_display and csv_row["Start"] == "14:30"


def test_bad_ranges_are_explained(ctx, staff):
    backwards = download(staff, future_day(5), future_day(2))
    assert backwards.status_code == 422 and "on or after" in backwards.get_data(as_text=True)
    too_long = download(staff, future_day(0), future_day(400))
    assert too_long.status_code == 422 and "at most 366 days" in too_long.get_data(as_text=True)
    form = staff.get("/staff/export")
    assert form.status_code == 200 and "Download" in form.get_data(as_text=True)
    no_dates = staff.get("/staff/export", query_string={"preset": "custom", "fmt": "csv"})
    assert no_dates.status_code == 422 and "Please choose the first day." in no_dates.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1 970", "'+1 970"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\t=x", "'\t'=x"),
        ("\uff1dcmd", "'\uff1dcmd"),
        ("Ada", "Ada"),
        ("", ""),
        (None, ""),
        ("a=b", "a=b"),
        ("x;=1+1", "x;'=1+1"),
        ("x,=1+1", "x,'=1+1"),
        ("x\t+1", "x\t'+1"),
        ("x; @SUM(A1)", "x; '@SUM(A1)"),
        ("line\n-2", "line\n'-2"),
        ("a;b, c", "a;b, c"),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected
