"""Hostile calendars against the worker as it runs: each source is read in a child process
bounded in time and memory, fails with a clear error, keeps its last busy times, and mail
goes out while a calendar is being read (busy sync runs on a thread of its own).

The hostile feeds are files in tests/feeds/. The bounds given here are generous: a busy
machine makes these tests slower, never wrong (no test measures time)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.busy import service as busy
from app.core.database import write_transaction
from app.core.extensions import db
from app.jobs.worker import Worker
from app.models import BusySource, utcnow
from tests.busy_helpers import Route, google_feed, vevent
from tests.conftest import future_day, local_dt, make_booking

FEEDS = Path(__file__).parent / "feeds"
WAIT = 120  # seconds: far more than any of these steps takes


@pytest.fixture
def app_settings():
    return {"BUSY_ALLOW_PRIVATE_ADDRESSES": True, "BUSY_FETCH_TIMEOUT_SECONDS": 60, "BUSY_SYNC_SECONDS": 90}


@pytest.fixture
def app(any_app):
    return any_app


def synced_once(feeds) -> int:
    """A source read once from a good feed: one busy interval to keep."""
    day = future_day(4)
    feeds.routes["/dr-lee.ics"] = Route(google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10))))
    source = busy.add_source(feeds.url + "/dr-lee.ics", "Dr Lee")
    [result] = busy.sync_all()
    assert result.ok and result.intervals == 1
    return source.id


def state(source_id: int) -> tuple[str, int]:
    db.session.expire_all()
    [summary] = [s for s in busy.list_sources() if s.id == source_id]
    return summary.last_error, summary.intervals


@pytest.mark.parametrize(
    ("feed", "error"),
    [
        ("hostile_minutely.ics", "the feed has a time zone whose rule repeats more often than monthly"),
        ("hostile_secondly.ics", "the feed has a time zone whose rule repeats more often than monthly"),
        ("hostile_daily_zones.ics", "the feed has a time zone whose rule repeats more often than monthly"),
        ("hostile_impossible.ics", "the feed has a time zone rule that never happens"),
    ],
)
def test_a_hostile_calendar_fails_with_a_clear_error_and_keeps_its_last_busy_times(ctx, feeds, feed, error):
    source_id = synced_once(feeds)
    feeds.routes["/dr-lee.ics"] = Route((FEEDS / feed).read_bytes())
    busy.request_sync()
    Worker().sync_busy_calendars()
    assert state(source_id) == (error, 1)
    listed = ctx.test_cli_runner().invoke(args=["busy", "list"]).output
    assert error in listed and "intervals: 1" in listed


def test_a_due_email_is_delivered_while_a_hostile_calendar_is_being_read(ctx, feeds, smtp_server):
    ctx.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    source_id = synced_once(feeds)
    held = threading.Event()
    feeds.routes["/dr-lee.ics"] = Route((FEEDS / "hostile_minutely.ics").read_bytes(), hold=held)
    feeds.arrived.clear()
    busy.request_sync()
    make_booking()  # its confirmation and the staff notice are due now
    worker = Worker()
    thread = worker.start_busy_sync()
    try:
        assert feeds.arrived.wait(WAIT), "the busy loop asked for the calendar"
        report = worker.run_once()  # the mail pass, while the calendar's answer is held
        assert report.sent == 2 and len(smtp_server.received) == 2
    finally:
        held.set()
        worker.stop()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert state(source_id) == ("the feed has a time zone whose rule repeats more often than monthly", 1)


def test_a_read_taking_longer_than_the_limit_is_stopped_whatever_it_is_doing(ctx, feeds):
    source_id = synced_once(feeds)
    held = threading.Event()
    feeds.routes["/dr-lee.ics"] = Route(google_feed(), hold=held)
    ctx.config["BUSY_SYNC_SECONDS"] = 1  # the fetch alone may take 60
    try:
        [result] = busy.sync_all()
    finally:
        held.set()
    assert not result.ok and result.error == "reading the calendar took more than 1 s and was stopped"
    assert state(source_id) == (result.error, 1)


def test_a_read_needing_more_memory_than_the_limit_fails_cleanly(ctx, feeds):
    """A limit below what the reader needs to start with: the first allocations fail."""
    source_id = synced_once(feeds)
    ctx.config["BUSY_SYNC_MEMORY_MB"] = 20
    [result] = busy.sync_all()
    assert not result.ok and "more than 20 MB" in result.error, result
    assert state(source_id) == (result.error, 1)


def test_thousands_of_time_zones_are_refused_before_parsing(ctx, feeds):
    source_id = synced_once(feeds)
    zone = (
        "BEGIN:VTIMEZONE\r\nTZID:Zone{n}\r\nBEGIN:STANDARD\r\nDTSTART:19701101T020000\r\n"
        "TZOFFSETFROM:-0600\r\nTZOFFSETTO:-0700\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"
        "END:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    feeds.routes["/dr-lee.ics"] = Route(google_feed("".join(zone.format(n=n) for n in range(3000))))
    busy.request_sync()
    Worker().sync_busy_calendars()
    assert state(source_id) == ("the feed has more than 100 time zones", 1)


def test_sync_now_queues_a_sync_and_reads_nothing_in_the_request(ctx, feeds, admin_client):
    from tests.fixtures_staff import staff_post

    source_id = synced_once(feeds)
    feeds.requests.clear()
    with write_transaction() as session:
        session.get(BusySource, source_id).next_sync_at = utcnow() + timedelta(hours=1)
    page = staff_post(
        admin_client, "/staff/busy-calendars/sync", token_from="/staff/busy-calendars", follow_redirects=True
    ).get_data(as_text=True)
    assert "Sync queued for 1 calendar" in page
    assert feeds.requests == []
    db.session.expire_all()
    assert db.session.execute(select(BusySource.next_sync_at)).scalar_one() <= utcnow()
    Worker().sync_busy_calendars()
    assert [path for path, _ in feeds.requests] == ["/dr-lee.ics"]
