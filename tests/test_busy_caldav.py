"""Busy times read from a real CalDAV server (Radicale on loopback) with the caldav
library: an event in the staff calendar hides the slot it overlaps after one sync, a
transparent one does not, moving or deleting it brings the slot back, and a weekly meeting
with one moved and one cancelled occurrence hides exactly the right slots across the March
change to daylight saving time. A calendar with a sync token is read again only when the
server reports a change since it; a token the server does not know means a full read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.booking.slots import free_slots
from app.busy import fetch, reader
from app.busy import service as busy
from app.core.database import write_transaction
from app.core.extensions import db
from app.models import BusyInterval, BusySource, utcnow
from tests.conftest import DENVER, future_day, local_dt, make_slot
from tests.test_radicale import AUTH, Radicale


def next_dst_start(today: date) -> date:
    """The second Sunday of March after `today` (when Denver moves to MDT)."""
    year = today.year if today < date(today.year, 3, 1) else today.year + 1
    first = date(year, 3, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7)


DST_DAY = next_dst_start(datetime.now(DENVER).date())


@pytest.fixture(scope="module")
def radicale(tmp_path_factory) -> Iterator[Radicale]:
    server = Radicale(tmp_path_factory.mktemp("radicale-busy"))
    yield server
    server.stop()


@pytest.fixture
def app_settings():
    horizon = (DST_DAY - datetime.now(DENVER).date()).days + 30
    return {"BUSY_ALLOW_PRIVATE_ADDRESSES": True, "BOOKING_HORIZON_DAYS": horizon}


_calendars = [0]


@pytest.fixture
def calendar(radicale, ctx) -> str:
    _calendars[0] += 1
    path = radicale.new_calendar(f"busy-{_calendars[0]}")
    busy.add_source(radicale.url + path, "Dr Lee (CalDAV)", kind="caldav", username=AUTH[0], password=AUTH[1])
    return path


def stamp(instant: datetime) -> str:
    return instant.strftime("%Y%m%dT%H%M%SZ")


def put(radicale: Radicale, calendar: str, name: str, *events: str) -> None:
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 15.1//EN\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )
    response = radicale.request("PUT", calendar + name, data=body.encode(), headers={"Content-Type": "text/calendar"})
    assert response.status_code in (201, 204), response.text


def vevent(uid: str, *lines: str) -> str:
    return (
        "\r\n".join(
            [
                "BEGIN:VEVENT",
                f"UID:{uid}",
                "DTSTAMP:20261201T120000Z",
                "SUMMARY:Leadership meeting",
                *lines,
                "END:VEVENT",
            ]
        )
        + "\r\n"
    )


def free_ids() -> set[int]:
    now = utcnow()
    return {s.id for s in free_slots(now, now + timedelta(days=400), now=now)}


def test_an_event_hides_its_slot_after_one_sync_and_moving_or_deleting_it_brings_it_back(radicale, calendar):
    day = future_day(5)
    nine, ten = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    put(
        radicale,
        calendar,
        "meeting.ics",
        vevent("meeting-1@icloud.com", f"DTSTART:{stamp(local_dt(day, 9))}", f"DTEND:{stamp(local_dt(day, 9, 30))}"),
    )
    put(
        radicale,
        calendar,
        "lunch.ics",
        vevent(
            "lunch-1@icloud.com",
            f"DTSTART:{stamp(local_dt(day, 10))}",
            f"DTEND:{stamp(local_dt(day, 11))}",
            "TRANSP:TRANSPARENT",
        ),
    )
    [result] = busy.sync_all()
    assert result.ok, result.error
    assert free_ids() == {ten.id}

    put(
        radicale,
        calendar,
        "meeting.ics",
        vevent(
            "meeting-1@icloud.com",
            f"DTSTART:{stamp(local_dt(day, 10))}",
            f"DTEND:{stamp(local_dt(day, 10, 30))}",
            "SEQUENCE:1",
        ),
    )
    busy.sync_all()
    assert free_ids() == {nine.id}

    assert radicale.request("DELETE", calendar + "meeting.ics").status_code in (200, 204)
    busy.sync_all()
    assert free_ids() == {nine.id, ten.id}


def test_a_weekly_meeting_with_a_moved_and_a_cancelled_occurrence_across_dst(radicale, calendar):
    """Wednesdays 10:00-11:00 Denver time, five weeks around the change to MDT: the second
    is cancelled, the third moved to Thursday 14:00. 10:00 MST is 17:00 UTC but 10:00 MDT is
    16:00 UTC, so a series expanded in UTC would wrongly hide 11:00 after the change."""
    first = DST_DAY - timedelta(days=11)  # the Wednesday 1.5 weeks before the change
    assert first.weekday() == 2
    weeks = [first + timedelta(weeks=n) for n in range(5)]
    at_ten = [make_slot(local_dt(d, 10)) for d in weeks]
    at_eleven = [make_slot(local_dt(d, 11)) for d in weeks]
    moved_to = make_slot(local_dt(weeks[2] + timedelta(days=1), 14))
    zone = "DTSTART;TZID=America/Denver:{:%Y%m%d}T{}"
    uid = "weekly-leadership@icloud.com"
    put(
        radicale,
        calendar,
        "weekly.ics",
        vevent(
            uid,
            zone.format(first, "100000"),
            zone.format(first, "110000").replace("DTSTART", "DTEND"),
            "RRULE:FREQ=WEEKLY;COUNT=5",
        ),
        vevent(
            uid,
            zone.format(weeks[1], "100000"),
            zone.format(weeks[1], "110000").replace("DTSTART", "DTEND"),
            zone.format(weeks[1], "100000").replace("DTSTART", "RECURRENCE-ID"),
            "STATUS:CANCELLED",
        ),
        vevent(
            uid,
            zone.format(moved_to.starts_at.astimezone(DENVER), "140000"),
            zone.format(moved_to.starts_at.astimezone(DENVER), "150000").replace("DTSTART", "DTEND"),
            zone.format(weeks[2], "100000").replace("DTSTART", "RECURRENCE-ID"),
        ),
    )
    [result] = busy.sync_all()
    assert result.ok, result.error
    hidden = {s.id for s in [*at_ten, *at_eleven, moved_to]} - free_ids()
    assert hidden == {at_ten[0].id, at_ten[3].id, at_ten[4].id, moved_to.id}


# Sync tokens (RFC 6578): an unchanged calendar costs one sync-collection REPORT.


@pytest.fixture
def reports(monkeypatch) -> list[str]:
    """The REPORTs the sync sends, as "sync" (sync-collection) or "query" (calendar-query)."""
    seen: list[str] = []
    real = fetch._session

    def recording(limits):
        session, resolver = real(limits)

        def hook(response, *args, **kwargs):
            body = response.request.body or b""
            body = body.encode() if isinstance(body, str) else bytes(body)
            if response.request.method == "REPORT":
                seen.append("sync" if b"sync-collection" in body else "query" if b"calendar-query" in body else "other")
            return response

        session.hooks["response"].append(hook)
        return session, resolver

    monkeypatch.setattr(fetch, "_session", recording)
    # The requests are recorded here, so the source is read in this process (a sync reads
    # it in a child process, app/busy/reader.py, which this recording would not reach).
    monkeypatch.setattr(reader, "read", lambda job, _seconds, memory_mb: reader.result(reader.answer(job, memory_mb)))
    return seen


def source() -> BusySource:
    db.session.expire_all()
    return db.session.execute(select(BusySource)).scalar_one()


def spans() -> list[tuple[datetime, datetime]]:
    db.session.expire_all()
    return [
        (i.starts_at, i.ends_at)
        for i in db.session.execute(select(BusyInterval).order_by(BusyInterval.starts_at)).scalars()
    ]


def meeting(day: date, hour: int, sequence: int = 0) -> str:
    return vevent(
        "meeting-1@icloud.com",
        f"DTSTART:{stamp(local_dt(day, hour))}",
        f"DTEND:{stamp(local_dt(day, hour, 30))}",
        f"SEQUENCE:{sequence}",
    )


def test_a_second_sync_with_no_change_reads_no_events(radicale, calendar, reports):
    day = future_day(5)
    nine, ten = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    put(radicale, calendar, "meeting.ics", meeting(day, 9))
    [first] = busy.sync_all()
    assert first.ok and first.changed, first.error
    assert reports == ["query"]
    token = source().sync_token
    assert token
    before, synced_at = spans(), source().last_synced_at

    reports.clear()
    [second] = busy.sync_all(now=utcnow() + timedelta(seconds=5))
    assert second.ok and not second.changed, second.error
    assert second.intervals == first.intervals == 1
    assert reports == ["sync"]
    assert spans() == before
    assert source().sync_token == token
    assert source().last_synced_at > synced_at
    assert free_ids() == {ten.id} and nine.id not in free_ids()


def test_events_added_moved_and_deleted_after_a_token_are_picked_up(radicale, calendar, reports):
    day = future_day(6)
    nine, ten, eleven = (make_slot(local_dt(day, h)) for h in (9, 10, 11))
    [result] = busy.sync_all()
    assert result.ok and result.intervals == 0, result.error
    assert free_ids() == {nine.id, ten.id, eleven.id}
    tokens = [source().sync_token]

    put(radicale, calendar, "meeting.ics", meeting(day, 9))  # added
    put(
        radicale,
        calendar,
        "other.ics",
        vevent("other@icloud.com", f"DTSTART:{stamp(local_dt(day, 11))}", f"DTEND:{stamp(local_dt(day, 12))}"),
    )
    reports.clear()
    [result] = busy.sync_all()
    assert result.ok and result.changed and result.intervals == 2, result.error
    assert reports == ["sync", "query"]
    assert free_ids() == {ten.id}
    tokens.append(source().sync_token)

    put(radicale, calendar, "meeting.ics", meeting(day, 10, sequence=1))  # moved
    reports.clear()
    [result] = busy.sync_all()
    assert result.ok and result.changed, result.error
    assert reports == ["sync", "query"]
    assert free_ids() == {nine.id}
    tokens.append(source().sync_token)

    assert radicale.request("DELETE", calendar + "meeting.ics").status_code in (200, 204)  # deleted
    reports.clear()
    [result] = busy.sync_all()
    assert result.ok and result.changed and result.intervals == 1, result.error
    assert free_ids() == {nine.id, ten.id}
    tokens.append(source().sync_token)
    assert all(tokens) and len(set(tokens)) == 4

    reports.clear()
    [result] = busy.sync_all()
    assert result.ok and not result.changed and reports == ["sync"]
    assert free_ids() == {nine.id, ten.id}


def test_a_bogus_stored_token_falls_back_to_a_full_read(radicale, calendar, reports):
    day = future_day(7)
    nine, ten = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    put(radicale, calendar, "meeting.ics", meeting(day, 9))
    with write_transaction() as session:
        planted = session.execute(select(BusySource)).scalar_one()
        planted.sync_token, planted.read_at = "http://radicale.org/ns/sync/bogus", utcnow()
    [result] = busy.sync_all()
    assert result.ok and result.changed and result.intervals == 1, result.error
    assert reports == ["sync", "query"]
    assert free_ids() == {ten.id} and nine.id not in free_ids()
    token = source().sync_token
    assert token and "bogus" not in token

    reports.clear()
    [result] = busy.sync_all()
    assert result.ok and not result.changed and reports == ["sync"]
