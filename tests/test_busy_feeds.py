"""Busy calendars read from ICS feeds served on loopback: a busy event hides the slot it
overlaps from /book, the slots API and booking, at once after a sync, and the slot comes
back when the event goes. Failing, redirecting, private and hostile feeds never empty the
calendar and never crash the sync."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.booking import service
from app.booking.errors import SlotUnavailable
from app.booking.slots import free_slots, nearest_free_slots
from app.busy import service as busy
from app.core.actors import THE_PATIENT
from app.models import BusyInterval, BusySource, utcnow
from tests.busy_helpers import Route, google_feed, vevent
from tests.conftest import build_app, dispose, future_day, local_dt, make_booking, make_slot, patient


@pytest.fixture
def app_settings():
    # A bound no loopback fetch comes near, even on a loaded machine; the slow-server case
    # below sets a short one of its own.
    return {"BUSY_ALLOW_PRIVATE_ADDRESSES": True, "BUSY_FETCH_TIMEOUT_SECONDS": 30}


def free_ids(now=None) -> set[int]:
    now = now or utcnow()
    return {s.id for s in free_slots(now, now + timedelta(days=30), now=now)}


def test_a_busy_event_hides_the_overlapping_slot_everywhere_and_its_removal_brings_it_back(ctx, feeds, client):
    day = future_day(4)
    nine, half_nine, ten = (make_slot(local_dt(day, 9)), make_slot(local_dt(day, 9, 30)), make_slot(local_dt(day, 10)))
    feeds.routes["/dr-lee.ics"] = Route(
        google_feed(vevent("meeting@google.com", local_dt(day, 9, 15), local_dt(day, 9, 45)))
    )
    busy.add_source(feeds.url + "/dr-lee.ics", "Dr Lee")
    [result] = busy.sync_all()
    assert result.ok and result.intervals == 1

    assert free_ids() == {ten.id}
    assert [s.id for s in nearest_free_slots(nine.starts_at, 3)] == [ten.id]
    api = client.get(f"/api/v1/slots?start={day.isoformat()}&end={day.isoformat()}").get_json()
    assert [s["id"] for s in api["slots"]] == [ten.public_id]
    assert half_nine.public_id not in client.get("/book").get_data(as_text=True)
    assert not service.is_open(nine)
    with pytest.raises(SlotUnavailable):
        service.book(half_nine.public_id, "phone", patient(), actor=THE_PATIENT)

    # The event moves to 10:00: 9:00 and 9:30 come back, 10:00 goes.
    feeds.routes["/dr-lee.ics"] = Route(
        google_feed(vevent("meeting@google.com", local_dt(day, 10), local_dt(day, 10, 30)))
    )
    busy.sync_all()
    assert free_ids() == {nine.id, half_nine.id}
    # Deleted: everything is offered again.
    feeds.routes["/dr-lee.ics"] = Route(google_feed())
    busy.sync_all()
    assert free_ids() == {nine.id, half_nine.id, ten.id}
    assert service.is_open(nine)


def test_touching_is_not_overlapping_and_transparent_events_do_not_block(ctx, feeds):
    day = future_day(4)
    nine, ten = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    feeds.routes["/f.ics"] = Route(
        google_feed(
            vevent("before@google.com", local_dt(day, 8), local_dt(day, 9)),
            vevent("free@google.com", local_dt(day, 10), local_dt(day, 11), "TRANSP:TRANSPARENT"),
        )
    )
    busy.add_source(feeds.url + "/f.ics", "Dr Lee")
    busy.sync_all()
    assert free_ids() == {nine.id, ten.id}


def test_a_booked_slot_is_never_touched_and_the_clinics_own_bookings_never_block(ctx, feeds):
    day = future_day(4)
    booked = make_booking(make_slot(local_dt(day, 9)))
    other = make_slot(local_dt(day, 11))
    feeds.routes["/f.ics"] = Route(
        google_feed(
            # The consultation itself, as the staff calendar shows it after accepting the invite.
            vevent(booked.booking.ical_uid, local_dt(day, 9), local_dt(day, 9, 30)),
            vevent("other@google.com", local_dt(day, 11), local_dt(day, 11, 30)),
        )
    )
    busy.add_source(feeds.url + "/f.ics", "Dr Lee")
    [result] = busy.sync_all()
    assert result.intervals == 1
    spans = ctx_spans()
    assert spans == [(local_dt(day, 11), local_dt(day, 11, 30))]
    assert other.id not in free_ids()
    assert service.find_by_public_id(booked.booking.public_id).status == "confirmed"


def ctx_spans():
    from app.core.extensions import db

    return [
        (i.starts_at, i.ends_at)
        for i in db.session.execute(select(BusyInterval).order_by(BusyInterval.starts_at)).scalars()
    ]


def test_conditional_requests_send_etag_and_last_modified_and_an_unchanged_feed_costs_a_304(ctx, feeds):
    day = future_day(4)
    feeds.routes["/f.ics"] = Route(google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10))))
    busy.add_source(feeds.url + "/f.ics", "Dr Lee")
    first = busy.sync_all()[0]
    second = busy.sync_all()[0]
    assert first.changed and not second.changed and second.ok and second.intervals == 1
    _path, headers = feeds.requests[-1]
    assert headers["If-None-Match"].startswith('"')
    assert headers["If-Modified-Since"].endswith("GMT")
    assert ctx_spans() == [(local_dt(day, 9), local_dt(day, 10))]


def test_a_source_is_read_in_full_at_least_daily_as_the_horizon_moves(ctx, feeds):
    """An unchanged feed costs a 304 within the day; a day later it is read (and expanded up
    to the moved horizon) again, whatever its ETag."""
    from datetime import timedelta

    day = future_day(4)
    feeds.routes["/f.ics"] = Route(google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10))))
    busy.add_source(feeds.url + "/f.ics", "Dr Lee")
    now = utcnow()
    [source_id] = [s.id for s in busy.list_sources()]
    assert busy.sync_source(source_id, now=now).changed
    assert not busy.sync_source(source_id, now=now + timedelta(hours=2)).changed
    assert "If-None-Match" in feeds.requests[-1][1]
    assert busy.sync_source(source_id, now=now + timedelta(hours=25)).changed
    assert "If-None-Match" not in feeds.requests[-1][1]


@pytest.mark.parametrize(
    "failure", [Route(b"oops", status=500), Route(b"", delay=10.0), Route(b"<html>Sign in</html>"), Route(b"x" * 2048)]
)
def test_a_failing_source_keeps_its_last_intervals_records_the_error_and_backs_off(ctx, feeds, failure):
    from app.core.extensions import db

    day = future_day(4)
    slot = make_slot(local_dt(day, 9))
    feeds.routes["/f.ics"] = Route(google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10))))
    busy.add_source(feeds.url + "/f.ics", "Dr Lee")
    assert busy.sync_all()[0].ok
    ctx.config["BUSY_MAX_FEED_BYTES"] = 1024
    feeds.routes["/f.ics"] = failure
    if failure.delay:
        ctx.config["BUSY_FETCH_TIMEOUT_SECONDS"] = 2  # the server answers after 10 s
    now = utcnow()
    [result] = busy.sync_all(now=now)
    assert not result.ok and result.error
    if failure.delay:
        assert "within 2 s" in result.error  # cut off at the deadline, not when the server answers
    assert ctx_spans() == [(local_dt(day, 9), local_dt(day, 10))]
    assert slot.id not in free_ids()
    source = db.session.execute(select(BusySource)).scalar_one()
    assert source.last_error == result.error and source.last_error_at == now
    assert source.next_sync_at == now + timedelta(minutes=10)
    busy.sync_all(now=now)
    db.session.refresh(source)
    assert source.failures == 2 and source.next_sync_at == now + timedelta(minutes=20)
    assert busy.sync_due(now=now + timedelta(minutes=19)) == []
    [listed] = busy.list_sources()
    assert listed.intervals == 1 and listed.last_error == result.error


def test_redirects_are_followed_up_to_three_and_refused_beyond(ctx, feeds):
    day = future_day(4)
    feeds.routes["/f.ics"] = Route(google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10))))
    for hop in range(1, 5):
        feeds.routes[f"/r{hop}"] = Route(status=302, location=f"/r{hop - 1}" if hop > 1 else "/f.ics")
    busy.add_source(feeds.url + "/r3", "Three hops")
    busy.add_source(feeds.url + "/r4", "Four hops")
    results = {r.label: r for r in busy.sync_all()}
    assert results["Three hops"].ok and results["Three hops"].intervals == 1
    assert not results["Four hops"].ok and "redirects" in results["Four hops"].error


def test_private_and_loopback_addresses_and_other_schemes_are_refused_without_the_override(ctx, feeds):
    from app.busy.service import SourceError

    ctx.config["BUSY_ALLOW_PRIVATE_ADDRESSES"] = False
    feeds.routes["/f.ics"] = Route(google_feed())
    busy.add_source(feeds.url + "/f.ics", "Loopback")
    busy.add_source("http://10.1.2.3/f.ics", "Private")
    busy.add_source("http://169.254.169.254/latest/meta-data", "Link-local")
    busy.add_source("http://[::1]:1/f.ics", "IPv6 loopback")
    for result in busy.sync_all():
        assert not result.ok and "private or local address" in result.error, result
    assert feeds.requests == []
    with pytest.raises(SourceError):
        busy.add_source("file:///etc/passwd", "File")
    with pytest.raises(SourceError):
        busy.add_source("ftp://example.org/f.ics", "FTP")


def test_credentials_are_stored_encrypted_and_never_listed_or_logged(ctx, feeds, caplog):
    from app.core.extensions import db

    caplog.set_level(logging.DEBUG)
    feeds.routes["/private-abc123.ics"] = Route(google_feed())
    busy.add_source(
        feeds.url + "/private-abc123.ics", "Dr Lee", username="drlee@example.org", password="hunter2-secret"
    )
    busy.sync_all()
    raw = db.session.execute(select(BusySource.secret)).scalar_one()
    assert b"hunter2" not in raw and b"abc123" not in raw
    _path, headers = feeds.requests[-1]
    assert headers["Authorization"].startswith("Basic ")
    listed = repr(busy.list_sources())
    for secret in ("hunter2", "abc123", "drlee"):
        assert secret not in listed and secret not in caplog.text


def test_the_cli_adds_lists_syncs_and_removes(app, feeds):
    day = future_day(4)
    feeds.routes["/f.ics"] = Route(google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10))))
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=[
            "busy",
            "add",
            feeds.url + "/f.ics",
            "--label",
            "Dr Lee",
            "--username",
            "u@example.org",
            "--password",
            "s3cret-pass",
        ]
    )
    assert added.exit_code == 0, added.output
    synced = runner.invoke(args=["busy", "sync"])
    assert synced.exit_code == 0 and "Dr Lee: 1 intervals" in synced.output
    listed = runner.invoke(args=["busy", "list"])
    assert "Dr Lee\tics\t127.0.0.1" in listed.output and "intervals: 1" in listed.output
    assert "s3cret" not in listed.output and "/f.ics" not in listed.output
    feeds.routes["/f.ics"] = Route(status=500)
    assert runner.invoke(args=["busy", "sync"]).exit_code == 1
    assert "last error" in runner.invoke(args=["busy", "list"]).output
    assert runner.invoke(args=["busy", "remove", "Dr Lee"]).exit_code == 0
    assert "No busy calendars" in runner.invoke(args=["busy", "list"]).output
    assert runner.invoke(args=["busy", "remove", "Dr Lee"]).exit_code != 0


def test_the_worker_reads_due_sources_and_only_those(ctx, feeds):
    from app.jobs.worker import Worker

    day = future_day(4)
    feeds.routes["/f.ics"] = Route(google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10))))
    busy.add_source(feeds.url + "/f.ics", "Dr Lee")
    worker = Worker()
    worker.sync_busy_calendars()
    assert len(feeds.requests) == 1
    with ctx.app_context():
        assert busy.list_sources()[0].intervals == 1
    worker.sync_busy_calendars()  # due again in BUSY_SYNC_MINUTES
    assert len(feeds.requests) == 1


def test_the_overlap_clause_works_on_postgresql_too(postgres_url, feeds):
    app = build_app(postgres_url, {"BUSY_ALLOW_PRIVATE_ADDRESSES": True})
    try:
        with app.app_context():
            day = future_day(4)
            nine, ten = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
            feeds.routes["/f.ics"] = Route(
                google_feed(vevent("a@google.com", local_dt(day, 9, 29), local_dt(day, 9, 31)))
            )
            busy.add_source(feeds.url + "/f.ics", "Dr Lee")
            assert busy.sync_all()[0].ok
            assert free_ids() == {ten.id}
            assert not service.is_open(nine)
    finally:
        dispose(app)


ICS_LINES = st.sampled_from(
    [
        "BEGIN:VCALENDAR",
        "END:VCALENDAR",
        "BEGIN:VEVENT",
        "END:VEVENT",
        "BEGIN:VALARM",
        "END:VALARM",
        "VERSION:2.0",
        "UID:x@example.org",
        "DTSTART:20270101T090000Z",
        "DTEND:20270101T100000Z",
        "DTSTART;VALUE=DATE:20270101",
        "DTSTART;TZID=Nowhere/Zone:20270101T090000",
        "DTSTART:99999999T999999",
        "DTEND:20200101T000000Z",
        "RRULE:FREQ=SECONDLY",
        "RRULE:FREQ=MINUTELY;COUNT=999999999",
        "RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11",
        "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "RRULE:FREQ=WEEKLY;UNTIL=garbage",
        "EXDATE:nonsense",
        "RDATE:20270101T090000Z,20270102T090000Z",
        "RECURRENCE-ID:20270101T090000Z",
        "STATUS:CANCELLED",
        "TRANSP:TRANSPARENT",
        "DURATION:P9999W",
        "DURATION:-PT1H",
        "X-WR-TIMEZONE:Not/AZone",
        "ATTENDEE;PARTSTAT=DECLINED:mailto:a@b",
        "\x00\xff",
        "",
        ":",
        ";;;",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(ICS_LINES, max_size=40), junk=st.binary(max_size=200), nest=st.integers(0, 300))
def test_broken_and_hostile_feeds_report_an_error_or_a_bounded_result(ctx, feeds, lines, junk, nest):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from app.busy import rules

    body = (
        "\r\n".join(["BEGIN:VCALENDAR", *(["BEGIN:VEVENT"] * nest), *lines, *(["END:VEVENT"] * nest), "END:VCALENDAR"])
        + "\r\n"
    ).encode("utf-8", "surrogateescape") + junk
    try:
        found = rules.busy_times(
            rules.parse_calendars([body]),
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2027, 2, 1, tzinfo=UTC),
            ZoneInfo("America/Denver"),
        )
    except rules.FeedError:
        pass
    else:
        assert len(found) <= rules.MAX_OCCURRENCES
    # The same through the server and the sync: a result, never an exception.
    feeds.routes["/fuzz.ics"] = Route(body)
    if not busy.list_sources():
        busy.add_source(feeds.url + "/fuzz.ics", "Fuzz")
    [result] = busy.sync_all()
    assert result.ok or result.error
