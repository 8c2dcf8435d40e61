"""Busy calendars read as the server that wrote them means them: free/busy feeds (Outlook
.vfb, Fastmail, Nextcloud), Outlook's own busy status, the clinic's own bookings coming back
through a staff calendar, and a Google secret address naming the owner who declined."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.booking import service
from app.booking.slots import free_slots
from app.busy import service as busy
from app.busy.rules import busy_times, owner_from_url, parse_calendars, published_booking_uid
from app.core.actors import Actor
from app.invites import feeds as staff_feeds
from app.models import utcnow
from tests.busy_helpers import Route, google_feed, vevent
from tests.conftest import future_day, local_dt, make_booking, make_slot

DENVER = ZoneInfo("America/Denver")
WINDOW = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 30, tzinfo=UTC))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=DENVER).astimezone(UTC)


def crlf(text: str) -> bytes:
    return "\r\n".join(text.strip("\n").split("\n")).encode() + b"\r\n"


def spans(text: bytes, owner: str = "") -> list[tuple[datetime, datetime]]:
    return sorted((b.starts_at, b.ends_at) for b in busy_times(parse_calendars([text]), *WINDOW, DENVER, owner))


# --- free/busy feeds -----------------------------------------------------------------------

OUTLOOK_VFB = crlf("""BEGIN:VCALENDAR
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
VERSION:2.0
METHOD:PUBLISH
BEGIN:VFREEBUSY
ORGANIZER:MAILTO:dr.lee@clinic.example
DTSTART:20270301T070000Z
DTEND:20270430T060000Z
URL:https://files.clinic.example/freebusy/drlee.vfb
FREEBUSY;FBTYPE=BUSY:20270310T160000Z/20270310T170000Z
FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20270311T150000Z/20270311T160000Z
FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270312T160000Z/20270312T163000Z,20270312T200000Z/20270312T2
 03000Z
FREEBUSY;FBTYPE=FREE:20270313T160000Z/20270313T170000Z
DTSTAMP:20270201T120000Z
END:VFREEBUSY
END:VCALENDAR""")

FASTMAIL_FREEBUSY = crlf("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Fastmail/2020.5/EN
METHOD:PUBLISH
BEGIN:VFREEBUSY
DTSTAMP:20270201T120000Z
UID:3e3c1b1e-6a53-4c2d-9a51-5d9f2b2c0e11
DTSTART:20270301T000000Z
DTEND:20270501T000000Z
FREEBUSY:20270310T160000Z/PT1H,20270315T150000Z/PT30M
FREEBUSY;FBTYPE=BUSY-TENTATIVE:20270316T150000Z/PT1H
END:VFREEBUSY
END:VCALENDAR""")

NEXTCLOUD_FREEBUSY = crlf("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
CALSCALE:GREGORIAN
BEGIN:VFREEBUSY
DTSTART:20270301T000000Z
DTEND:20270430T000000Z
DTSTAMP:20270201T120000Z
FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20270310T000000Z/20270310T150000Z
FREEBUSY:20270310T180000Z/20270310T190000Z
FREEBUSY;FBTYPE=FREE:20270311T180000Z/20270311T190000Z
END:VFREEBUSY
END:VCALENDAR""")


def test_an_outlook_vfb_blocks_busy_out_of_office_and_tentative_periods_but_not_free_ones():
    assert spans(OUTLOOK_VFB) == [
        (local(10, 9), local(10, 10)),  # BUSY
        (local(11, 8), local(11, 9)),  # BUSY-UNAVAILABLE (out of office)
        (local(12, 9), local(12, 9, 30)),  # BUSY-TENTATIVE, two periods on one line
        (local(12, 13), local(12, 13, 30)),
    ]


def test_a_fastmail_free_busy_link_blocks_its_periods_written_with_durations():
    assert spans(FASTMAIL_FREEBUSY) == [
        (local(10, 9), local(10, 10)),
        (datetime(2027, 3, 15, 15, tzinfo=UTC), datetime(2027, 3, 15, 15, 30, tzinfo=UTC)),  # MDT now
        (datetime(2027, 3, 16, 15, tzinfo=UTC), datetime(2027, 3, 16, 16, tzinfo=UTC)),
    ]


def test_a_nextcloud_free_busy_feed_blocks_unavailable_and_busy_time_but_not_free_time():
    assert spans(NEXTCLOUD_FREEBUSY) == [
        (datetime(2027, 3, 10, 0, tzinfo=UTC), datetime(2027, 3, 10, 15, tzinfo=UTC)),
        (local(10, 11), local(10, 12)),
    ]


# --- Outlook's own status ------------------------------------------------------------------

OUTLOOK_ZONE = """BEGIN:VTIMEZONE
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
END:VTIMEZONE"""


def outlook_event(day: int, status: str, transp: str = "OPAQUE") -> str:
    return f"""BEGIN:VEVENT
DESCRIPTION:\\n
UID:040000008200E00074C5B7101A82E00800000000{day:02d}A1B2C3D4E5F6
SUMMARY:Calendar entry {day}
DTSTART;TZID=Mountain Standard Time:202703{day:02d}T090000
DTEND;TZID=Mountain Standard Time:202703{day:02d}T100000
CLASS:PUBLIC
PRIORITY:5
DTSTAMP:20270201T120000Z
TRANSP:{transp}
STATUS:CONFIRMED
SEQUENCE:0
LOCATION:
X-MICROSOFT-CDO-APPT-SEQUENCE:0
X-MICROSOFT-CDO-BUSYSTATUS:{status}
X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY
X-MICROSOFT-CDO-ALLDAYEVENT:FALSE
X-MICROSOFT-CDO-IMPORTANCE:1
X-MICROSOFT-CDO-INSTTYPE:0
X-MICROSOFT-DONOTFORWARDMEETING:FALSE
X-MICROSOFT-DISALLOW-COUNTER:FALSE
END:VEVENT"""


def test_outlooks_own_busy_status_wins_over_transp():
    feed = crlf(
        "\n".join(
            [
                "BEGIN:VCALENDAR",
                "METHOD:PUBLISH",
                "PRODID:Microsoft Exchange Server 2010",
                "VERSION:2.0",
                "X-WR-CALNAME:Calendar",
                OUTLOOK_ZONE,
                outlook_event(1, "FREE"),  # "Free" in Outlook, though OPAQUE
                outlook_event(2, "WORKINGELSEWHERE"),  # "Working elsewhere", OPAQUE
                outlook_event(3, "BUSY"),
                outlook_event(4, "OOF"),  # "Away"
                outlook_event(5, "TENTATIVE"),
                outlook_event(8, "BUSY", transp="TRANSPARENT"),
                "END:VCALENDAR",
            ]
        )
    )
    assert spans(feed) == [(local(day, 9), local(day, 10)) for day in (3, 4, 5, 8)]


# --- the clinic's own bookings -------------------------------------------------------------


def test_every_uid_the_service_publishes_leads_back_to_its_booking():
    assert published_booking_uid("staff-abc123@mindset-tms.example") == "abc123@mindset-tms.example"
    assert published_booking_uid("abc123@mindset-tms.example") == "abc123@mindset-tms.example"
    assert published_booking_uid("meeting@google.com") == "meeting@google.com"


@pytest.fixture
def app_settings():
    return {"BUSY_ALLOW_PRIVATE_ADDRESSES": True, "BUSY_FETCH_TIMEOUT_SECONDS": 1}


def free_ids() -> set[int]:
    now = utcnow()
    return {s.id for s in free_slots(now, now + timedelta(days=30), now=now)}


def test_the_staff_feed_coming_back_through_a_staff_calendar_never_blocks(ctx, feeds):
    day = future_day(4)
    nine, ten = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    booked = make_booking(make_slot(local_dt(day, 11))).booking
    later = make_booking(nine).booking
    feed, _token = staff_feeds.create_feed("Front desk")
    # A staff calendar subscribed to the staff feed, read back as a busy source, beside a
    # real meeting at 10:00.
    published = staff_feeds.feed_calendar(feed)
    events = published.split("BEGIN:VEVENT", 1)[1].rsplit("END:VCALENDAR", 1)[0]
    calendar = google_feed(
        "BEGIN:VEVENT" + events, vevent("meeting@google.com", local_dt(day, 10), local_dt(day, 10, 30))
    )
    assert f"UID:staff-{booked.ical_uid}".encode() in calendar.replace(b"\r\n ", b"")
    feeds.routes["/staff.ics"] = Route(calendar)
    busy.add_source(feeds.url + "/staff.ics", "Front desk calendar")
    [result] = busy.sync_all()
    assert result.ok and result.intervals == 1, "only the real meeting blocks"

    # The booking at 9:00 is cancelled: its slot is offered again at once, not kept by the
    # staff calendar's copy of it.
    service.cancel(later.public_id, actor=Actor("staff"))
    assert nine.id in free_ids() and ten.id not in free_ids()


# --- Google's secret address ---------------------------------------------------------------


def test_the_owner_is_read_from_a_google_secret_address():
    assert (
        owner_from_url(
            "https://calendar.google.com/calendar/ical/dr.lee%40gmail.com/"
            "private-0a1b2c3d4e5f60718293a4b5c6d7e8f9/basic.ics"
        )
        == "dr.lee@gmail.com"
    )
    assert (
        owner_from_url("https://calendar.google.com/calendar/ical/dr.lee@clinic.example/private-0a1b2c/basic.ics")
        == "dr.lee@clinic.example"
    )
    assert (
        owner_from_url(
            "https://calendar.google.com/calendar/ical/c_9f8e7d%40group.calendar.google.com/private-0a1b2c/basic.ics"
        )
        == ""
    )
    assert owner_from_url("https://outlook.office365.com/owa/calendar/abc/def/calendar.ics") == ""


def test_events_the_owner_declined_in_google_do_not_block(ctx, feeds):
    day = future_day(4)
    nine, ten = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 10))
    declined = (
        "ORGANIZER;CN=Practice Manager:mailto:manager@clinic.example",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Practice Manager;"
        "X-NUM-GUESTS=0:mailto:manager@clinic.example",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=dr.lee@gmail.com;"
        "X-NUM-GUESTS=0:mailto:dr.lee@gmail.com",
    )
    accepted = (
        "ORGANIZER;CN=Practice Manager:mailto:manager@clinic.example",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=Practice Manager;"
        "X-NUM-GUESTS=0:mailto:manager@clinic.example",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=dr.lee@gmail.com;"
        "X-NUM-GUESTS=0:mailto:dr.lee@gmail.com",
    )
    path = "/calendar/ical/dr.lee%40gmail.com/private-0a1b2c3d4e5f60718293a4b5c6d7e8f9/basic.ics"
    feeds.routes[path] = Route(
        google_feed(
            vevent("staff-meeting@google.com", local_dt(day, 9), local_dt(day, 9, 30), *declined),
            vevent("case-review@google.com", local_dt(day, 10), local_dt(day, 10, 30), *accepted),
        )
    )
    busy.add_source(feeds.url + path, "Dr Lee")  # no --email: the address names the owner
    [result] = busy.sync_all()
    assert result.ok
    assert nine.id in free_ids(), "Dr Lee declined the 9:00 meeting"
    assert ten.id not in free_ids(), "Dr Lee accepted the 10:00 one, whoever else declined"
