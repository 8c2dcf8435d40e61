"""Busy times as staff see them, on SQLite and PostgreSQL: the week view says which
calendar hides a free time and how fresh it is, a booked time that overlaps a busy one is
shown as a clash (in the week view and on the dashboard) and stays booked, and the staff
pickers (new booking, move booking) never offer a time hidden by a busy one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from app.busy import service as busy
from app.busy.overlap import BusyIn, busy_sources
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import ago
from app.models import BusyInterval, BusySource, utcnow
from app.schedule.clinic_time import clinic_today, week_start
from app.staff import bookings_admin, dashboard
from tests.conftest import future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import make_staff, signed_in_client


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def app_settings():
    return {"BOOKING_MIN_NOTICE_HOURS": 0}


def add_busy(label: str, spans: list[tuple[datetime, datetime]], synced_at: datetime | None) -> None:
    """A source as a sync leaves it (the sync itself is tested in test_busy_feeds.py)."""
    busy.add_source(f"https://calendar.example.org/{len(label)}.ics", label)
    with write_transaction() as session:
        source = session.execute(db.select(BusySource).where(BusySource.label == label)).scalar_one()
        source.last_synced_at = synced_at
        session.add_all(BusyInterval(source_id=source.id, starts_at=s, ends_at=e) for s, e in spans)


def count_queries(app):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", record)


def test_ago_reads_in_words():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert ago(None, now) == "never"
    assert ago(now - timedelta(seconds=30), now) == "just now"
    assert ago(now - timedelta(minutes=4, seconds=50), now) == "4 min ago"
    assert ago(now - timedelta(minutes=61), now) == "1 hour ago"
    assert ago(now - timedelta(hours=30), now) == "30 hours ago"
    assert ago(now - timedelta(days=3, hours=1), now) == "3 days ago"


def test_busy_sources_names_the_calendars_over_each_slot_in_one_query(ctx):
    day = future_day(4)
    nine, ten, eleven = (make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10)), make_slot(local_dt(day, 11)))
    synced = utcnow() - timedelta(minutes=4)
    add_busy("Dr calendar", [(local_dt(day, 9, 15), local_dt(day, 10, 15))], synced)
    # Two intervals of one source over one slot name it once; ending at 11:00 touches, not overlaps.
    add_busy("Clinic", [(local_dt(day, 10), local_dt(day, 10, 10)), (local_dt(day, 10, 20), local_dt(day, 11))], None)
    ids = [nine.id, ten.id, eleven.id]
    statements, stop = count_queries(ctx)
    try:
        found = busy_sources(ids)
    finally:
        stop()
    assert [s for s in statements if s.startswith("SELECT")] == statements[-1:]
    assert found == {
        nine.id: [BusyIn("Dr calendar", synced)],
        ten.id: [BusyIn("Clinic", None), BusyIn("Dr calendar", synced)],
    }
    assert busy_sources([]) == {}


def test_the_week_view_says_which_calendar_hides_a_free_time_and_flags_a_booked_clash(ctx):
    day = future_day(4)
    hidden, free = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    booked = make_booking(make_slot(local_dt(day, 11)))
    add_busy(
        "Dr calendar",
        [(local_dt(day, 9), local_dt(day, 9, 30)), (local_dt(day, 11), local_dt(day, 12))],
        utcnow() - timedelta(minutes=4, seconds=10),
    )
    staff = signed_in_client(ctx, "sam@mindset-tms.example")
    page = staff.get(f"/staff/calendar?week={day.isoformat()}").get_data(as_text=True)
    assert page.count("Hidden from patients: busy in Dr calendar, last synced 4 min ago") == 1
    assert "Clashes with Dr calendar, last synced 4 min ago" in page
    assert "1 of the free hidden by busy calendars" in page
    # The hidden time has no Book link; the free one does; the booking is untouched.
    assert f"slot={hidden.public_id}" not in page and f"slot={free.public_id}" in page
    assert booked.booking.public_id in page
    db.session.refresh(booked.booking)
    assert booked.booking.status == "confirmed"


def test_the_dashboard_lists_this_weeks_clashes(ctx):
    # The staff clock stands on a Wednesday morning a week or more ahead, so the booking is
    # bookable now and "this week" never ends between two lines of the test.
    wednesday = week_start(clinic_today(utcnow())) + timedelta(days=9)
    now = local_dt(wednesday, 9)
    ctx.config["STAFF_CLOCK"] = lambda: now
    soon = now + timedelta(minutes=5)
    clash = make_booking(make_slot(soon))
    add_busy("Dr calendar", [(soon + timedelta(minutes=10), soon + timedelta(hours=1))], now)
    user = make_staff()
    board = dashboard.summary(user, now=now)
    assert [b.id for b in board.clashing] == [clash.booking.id]
    assert board.clashes[clash.booking.slot_id] == [BusyIn("Dr calendar", now)]
    # A consultation already over is no longer worth flagging.
    assert dashboard.summary(user, now=soon + timedelta(hours=1)).clashing == []
    page = signed_in_client(ctx, "alex@mindset-tms.example", "admin").get("/staff/").get_data(as_text=True)
    assert "Clashes with busy calendars this week" in page
    assert "clashes with Dr calendar, last synced just now" in page


def test_the_staff_pickers_never_offer_a_time_hidden_by_a_busy_one(ctx):
    day = future_day(4)
    hidden, free = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    moving = make_booking(make_slot(local_dt(day, 14)))
    add_busy("Dr calendar", [(local_dt(day, 9, 20), local_dt(day, 9, 40))], utcnow())
    assert [s.id for s in bookings_admin.free_slots()] == [free.id]
    assert [s.id for s in bookings_admin.free_slots(except_slot_id=moving.booking.slot_id)] == [free.id]
    staff = signed_in_client(ctx, "sam@mindset-tms.example")
    picker = staff.get("/staff/bookings/new").get_data(as_text=True)
    move = staff.get(f"/staff/bookings/{moving.booking.public_id}/move").get_data(as_text=True)
    for page in (picker, move):
        assert free.public_id in page and hidden.public_id not in page
    # Unblocking is not needed to bring it back: the busy time going is enough.
    with write_transaction() as session:
        session.execute(update(BusyInterval).values(starts_at=local_dt(day, 12), ends_at=local_dt(day, 13)))
    assert [s.id for s in bookings_admin.free_slots()] == [hidden.id, free.id]


def test_the_busy_calendars_page_and_the_cli_give_each_sources_age_and_last_error_in_words(ctx):
    now = utcnow()
    add_busy("Dr calendar", [], now - timedelta(minutes=4, seconds=5))
    with write_transaction() as session:
        session.execute(
            update(BusySource).values(
                last_error="the server answered HTTP 500", last_error_at=now - timedelta(hours=2, minutes=1)
            )
        )
    page = signed_in_client(ctx, "sam@mindset-tms.example").get("/staff/busy-calendars").get_data(as_text=True)
    assert "Synced 4 min ago" in page
    assert "the server answered HTTP 500" in page and "2 hours ago," in page
    listed = ctx.test_cli_runner().invoke(args=["busy", "list"]).output
    assert "last sync: 4 min ago (" in listed
    assert "last error 2 hours ago (" in listed and "the server answered HTTP 500" in listed
