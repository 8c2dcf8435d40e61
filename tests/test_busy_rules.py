"""What counts as busy, read from feeds written the way Google, Outlook, Apple and CalDAV
servers write them. Pure: no app, no database; the window is fixed (March 2027, across the
change to daylight saving time on Sunday 14 March)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.busy.rules import FeedError, busy_times, merge, parse_calendars

DENVER = ZoneInfo("America/Denver")
WINDOW = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 30, tzinfo=UTC))

DENVER_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:America/Denver
X-LIC-LOCATION:America/Denver
BEGIN:DAYLIGHT
TZOFFSETFROM:-0700
TZOFFSETTO:-0600
TZNAME:MDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0600
TZOFFSETTO:-0700
TZNAME:MST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
"""


def feed(
    *events: str, header: str = "PRODID:-//Google Inc//Google Calendar 70.9054//EN\n", zones: str = DENVER_VTIMEZONE
) -> bytes:
    body = "BEGIN:VCALENDAR\nVERSION:2.0\n" + header + zones + "".join(events) + "END:VCALENDAR\n"
    return body.replace("\n", "\r\n").encode()


def event(uid: str, start: str, end: str, *extra: str) -> str:
    lines = [f"UID:{uid}", "DTSTAMP:20270201T120000Z", start, end, "SUMMARY:Private matter", *extra]
    return "BEGIN:VEVENT\n" + "\n".join(lines) + "\nEND:VEVENT\n"


def local(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=DENVER).astimezone(UTC)


def spans(text: bytes, owner: str = "") -> list[tuple[datetime, datetime]]:
    return sorted((b.starts_at, b.ends_at) for b in busy_times(parse_calendars([text]), *WINDOW, DENVER, owner))


TIMED = ("DTSTART;TZID=America/Denver:20270310T100000", "DTEND;TZID=America/Denver:20270310T110000")


def test_an_opaque_event_is_busy():
    assert spans(feed(event("a@google.com", *TIMED, "TRANSP:OPAQUE", "STATUS:CONFIRMED"))) == [
        (local(10, 10), local(10, 11))
    ]


def test_a_tentative_event_is_busy():
    assert spans(feed(event("a@google.com", *TIMED, "STATUS:TENTATIVE"))) == [(local(10, 10), local(10, 11))]


def test_a_transparent_event_is_not_busy():
    assert spans(feed(event("a@google.com", *TIMED, "TRANSP:TRANSPARENT"))) == []


def test_a_cancelled_event_is_not_busy():
    assert spans(feed(event("a@google.com", *TIMED, "STATUS:CANCELLED"))) == []


ATTENDEES = (
    "ORGANIZER;CN=Boss:mailto:boss@example.org",
    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=Dr Lee;\n"
    " X-NUM-GUESTS=0:mailto:dr.lee@example.org",
    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Boss:mailto:boss@example.org",
)


def test_an_event_the_owner_declined_is_not_busy_but_one_they_accepted_is():
    declined = feed(event("d@google.com", *TIMED, *ATTENDEES))
    assert spans(declined, owner="Dr.Lee@example.org") == []
    # Someone else's answer does not decide the owner's time.
    assert spans(declined, owner="boss@example.org") == [(local(10, 10), local(10, 11))]
    accepted = feed(event("e@google.com", *TIMED, ATTENDEES[0], ATTENDEES[1].replace("DECLINED", "ACCEPTED")))
    assert spans(accepted, owner="dr.lee@example.org") == [(local(10, 10), local(10, 11))]


def test_without_an_owner_address_an_event_every_attendee_declined_is_not_busy():
    only_declined = feed(event("d@google.com", *TIMED, ATTENDEES[1]))
    assert spans(only_declined) == []
    assert spans(feed(event("d@google.com", *TIMED, *ATTENDEES))) == [(local(10, 10), local(10, 11))]


def test_a_weekly_meeting_with_moved_cancelled_excluded_and_extra_dates_across_dst():
    """Wednesdays 10:00-11:00 Denver time: 17 March excluded (EXDATE), 24 March moved to
    Thursday 14:00 (RECURRENCE-ID), 31 March cancelled (RECURRENCE-ID, STATUS:CANCELLED),
    an extra Friday 19 March 15:00 (RDATE). The wall-clock time holds across 14 March."""
    uid = "weekly-team@example.org"
    text = feed(
        event(
            uid,
            "DTSTART;TZID=America/Denver:20270303T100000",
            "DTEND;TZID=America/Denver:20270303T110000",
            "RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL=20270414T170000Z",
            "EXDATE;TZID=America/Denver:20270317T100000",
            "RDATE;TZID=America/Denver:20270319T150000",
        ),
        event(
            uid,
            "DTSTART;TZID=America/Denver:20270325T140000",
            "DTEND;TZID=America/Denver:20270325T150000",
            "RECURRENCE-ID;TZID=America/Denver:20270324T100000",
            "SEQUENCE:1",
        ),
        event(
            uid,
            "DTSTART;TZID=America/Denver:20270331T100000",
            "DTEND;TZID=America/Denver:20270331T110000",
            "RECURRENCE-ID;TZID=America/Denver:20270331T100000",
            "STATUS:CANCELLED",
            "SEQUENCE:1",
        ),
    )
    assert spans(text) == [
        (local(3, 10), local(3, 11)),
        (local(10, 10), local(10, 11)),
        (local(19, 15), local(19, 16)),
        (local(25, 14), local(25, 15)),
        (local(7, 10, month=4), local(7, 11, month=4)),
        (local(14, 10, month=4), local(14, 11, month=4)),
    ]
    assert local(10, 10).hour == 17 and local(7, 10, month=4).hour == 16  # MST, then MDT


def test_all_day_and_multi_day_events_cover_whole_local_days():
    text = feed(
        event("leave@icloud.com", "DTSTART;VALUE=DATE:20270322", "DTEND;VALUE=DATE:20270325"),
        event("day@icloud.com", "DTSTART;VALUE=DATE:20270402", ""),
        event(
            "conf@icloud.com",
            "DTSTART;TZID=America/Denver:20270408T130000",
            "DTEND;TZID=America/Denver:20270409T120000",
        ),
    )
    assert spans(text) == [
        (local(22, 0), local(25, 0)),
        (local(2, 0, month=4), local(3, 0, month=4)),
        (local(8, 13, month=4), local(9, 12, month=4)),
    ]


def test_a_zone_defined_only_by_its_vtimezone():
    zone = DENVER_VTIMEZONE.replace("America/Denver", "Custom Mountain").replace("X-LIC-LOCATION:Custom Mountain\n", "")
    text = feed(
        event(
            "c@example.org",
            'DTSTART;TZID="Custom Mountain":20270316T090000',
            'DTEND;TZID="Custom Mountain":20270316T093000',
        ),
        zones=zone,
    )
    assert spans(text) == [(local(16, 9), local(16, 9, 30))]


def test_outlook_windows_zone_names_with_and_without_a_vtimezone():
    outlook_zone = """BEGIN:VTIMEZONE
TZID:Mountain Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0600
TZOFFSETTO:-0700
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0700
TZOFFSETTO:-0600
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
"""
    header = "METHOD:PUBLISH\nPRODID:Microsoft Exchange Server 2010\nX-WR-CALNAME:Calendar\n"
    meeting = event(
        "040000008200E00074C5B7101A82E0080000000010B0",
        'DTSTART;TZID="Mountain Standard Time":20270315T090000',
        'DTEND;TZID="Mountain Standard Time":20270315T100000',
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
    )
    expected = [(local(15, 9), local(15, 10))]
    assert spans(feed(meeting, header=header, zones=outlook_zone)) == expected
    assert spans(feed(meeting, header=header, zones="")) == expected


def test_floating_times_are_the_clinics_wall_clock():
    text = feed(event("f@example.org", "DTSTART:20270316T140000", "DTEND:20270316T150000"), zones="")
    assert spans(text) == [(local(16, 14), local(16, 15))]


def test_googles_x_wr_timezone_keeps_a_utc_weekly_event_at_its_local_time_across_dst():
    header = (
        "PRODID:-//Google Inc//Google Calendar 70.9054//EN\nCALSCALE:GREGORIAN\nMETHOD:PUBLISH\n"
        "X-WR-CALNAME:Dr Lee\nX-WR-TIMEZONE:America/Denver\n"
    )
    text = feed(
        event("g@google.com", "DTSTART:20270310T170000Z", "DTEND:20270310T180000Z", "RRULE:FREQ=WEEKLY;COUNT=2"),
        header=header,
        zones="",
    )
    assert spans(text) == [(local(10, 10), local(10, 11)), (local(17, 10), local(17, 11))]


def test_only_the_window_is_expanded_and_an_endless_series_stays_bounded():
    text = feed(
        event(
            "daily@example.org",
            "DTSTART;TZID=America/Denver:20200101T080000",
            "DTEND;TZID=America/Denver:20200101T083000",
            "RRULE:FREQ=DAILY",
        ),
        event("old@example.org", "DTSTART:20200101T080000Z", "DTEND:20200101T090000Z"),
    )
    found = spans(text)
    assert len(found) == 60  # 1 March to 29 April inclusive, nothing from 2020
    assert found[0] == (local(1, 8), local(1, 8, 30))


def test_too_many_occurrences_in_the_window_is_a_feed_error():
    text = feed(
        event(
            "spam@example.org",
            "DTSTART:20270301T000000Z",
            "DTEND:20270301T000001Z",
            "RRULE:FREQ=SECONDLY;COUNT=100000000",
        )
    )
    with pytest.raises(FeedError, match="more than"):
        busy_times(parse_calendars([text]), *WINDOW, DENVER, limit=1000)


@pytest.mark.parametrize(
    "text", [b"", b"hello", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2027", b"BEGIN:VCARD\r\nEND:VCARD\r\n"]
)
def test_garbage_is_a_feed_error_that_does_not_quote_the_feed(text):
    with pytest.raises(FeedError) as caught:
        busy_times(parse_calendars([text]), *WINDOW, DENVER)
    assert "VEVENT" not in str(caught.value) and "hello" not in str(caught.value)


def test_merge_joins_overlapping_and_touching_spans():
    a, b, c, d = local(1, 9), local(1, 10), local(1, 11), local(1, 12)
    assert merge([(c, d), (a, b), (b, c)]) == [(a, d)]
    assert merge([(a, b), (c, d)]) == [(a, b), (c, d)]
