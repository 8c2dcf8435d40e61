"""The CSV export: UTF-8 with a BOM, readable by the csv module, one row per booking in the
chosen clinic-local dates, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models.staff import AuditLog
from app.staff.export import HEADER, neutralise
from tests.conftest import future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import signed_in_client


@pytest.fixture
def staff(any_app):
    return signed_in_client(any_app, "sam@mindset-tms.example", "staff")


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


def download(client, first, last):
    return client.get("/staff/export", query_string={"first": first.isoformat(), "last": last.isoformat()})


def parse(response) -> list[dict]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    text = raw.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0].keys()) == list(HEADER) if rows else True
    return rows


def test_csv_opens_cleanly_and_neutralises_formulas(ctx, staff):
    day = future_day(4)
    make_booking(make_slot(local_dt(day, 9)), name='=HYPERLINK("http://evil.example","Click")',
                 email="mallory@example.com", phone="+19705550123", note="-2+3\nsecond line, with comma")
    make_booking(make_slot(local_dt(day, 10)), name="José Ñúñez 山田", email="jose@example.com",
                 phone="+13035550100", note='@SUM(1,2) and "quotes"')
    make_booking(make_slot(local_dt(future_day(9), 10)), name="Outside Range", email="out@example.com")
    response = download(staff, day, day)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"{day.isoformat()}-to-{day.isoformat()}.csv" in disposition
    assert response.headers["Cache-Control"] == "no-store"
    rows = parse(response)
    assert [r["Name"] for r in rows] == ["'=HYPERLINK(\"http://evil.example\",\"Click\")", "José Ñúñez 山田"]
    evil, jose = rows
    assert evil["Phone"] == "'+19705550123"
    assert evil["Patient's note"] == "'-2+3\nsecond line, with comma"
    assert jose["Patient's note"] == "'@SUM(1,2) and \"quotes\""
    assert (evil["Date"], evil["Start"], evil["End"]) == (day.isoformat(), "09:00", "09:30")
    assert evil["Time zone"] in ("MST", "MDT") and evil["Status"] == "Booked" and evil["How"] == "Phone call"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert b"\r\n" in response.get_data()  # Excel's line ends
    (entry,) = db.session.execute(select(AuditLog).where(AuditLog.action == "export.csv")).scalars()
    assert entry.details == f"{day.isoformat()} to {day.isoformat()}, 2 bookings"
    assert "mallory" not in entry.details


def test_empty_range_gives_just_the_header(ctx, staff):
    response = download(staff, future_day(20), future_day(21))
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(text))) == list(HEADER)


def test_bad_ranges_are_explained(ctx, staff):
    backwards = download(staff, future_day(5), future_day(2))
    assert backwards.status_code == 422 and "on or after" in backwards.get_data(as_text=True)
    too_long = download(staff, future_day(0), future_day(400))
    assert too_long.status_code == 422 and "at most 366 days" in too_long.get_data(as_text=True)
    form = staff.get("/staff/export")
    assert form.status_code == 200 and "Download CSV" in form.get_data(as_text=True)


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+1 970", "'+1 970"), ("-5", "'-5"), ("@cmd", "'@cmd"), ("\t=x", "'\t=x"),
    ("\uff1dcmd", "'\uff1dcmd"), ("Ada", "Ada"), ("", ""), (None, ""), ("a=b", "a=b"),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected
