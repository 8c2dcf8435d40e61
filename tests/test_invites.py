"""The invite itself (iCalendar REQUEST / CANCEL / PUBLISH), checked with parsers that did not
write it (vobject, plain text), the add-to-calendar links, and the patient's .ics download."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import vobject

from app.booking import service
from app.core.actors import THE_PATIENT
from app.invites import ics
from app.invites.links import calendar_links
from tests.conftest import local_dt, make_booking, make_slot, patient
from tests.fixtures_mail import prop, unfolded

STAMP = datetime(2026, 11, 24, 21, 0, 5, tzinfo=UTC)


def validated(text: str):
    """vobject's own reading and validation of the calendar (raises when invalid)."""
    calendar = vobject.readOne(text, validate=True)
    calendar.validate(raiseException=True)
    calendar.serialize(validate=True)
    return calendar


def test_request_invite_has_every_required_property(ctx):
    booking = make_booking(mode="in_person").booking
    text = ics.booking_invite(booking, ics.REQUEST, STAMP, manage_url="http://localhost/manage/tok")
    calendar = validated(text)

    assert calendar.version.value == "2.0" and calendar.prodid.value
    assert calendar.method.value == "REQUEST"
    assert not hasattr(calendar, "uid"), "the VCALENDAR itself carries no (random) UID"
    assert len(calendar.vevent_list) == 1
    event = calendar.vevent
    assert event.uid.value == booking.ical_uid
    assert event.sequence.value == "0"
    assert event.dtstamp.value == STAMP
    assert event.dtstart.value == booking.slot.starts_at and event.dtend.value == booking.slot.ends_at
    assert prop(text, "DTSTART")[0].endswith("Z") and prop(text, "DTEND")[0].endswith("Z")
    assert event.summary.value == "Consultation – Mindset TMS"
    assert event.status.value == "CONFIRMED"
    assert event.location.value == "123 Sample Street, Suite 100 (sample address), Greeley, CO 80631"
    assert "http://localhost/manage/tok" in event.description.value

    organizer = event.organizer
    assert organizer.value == "mailto:bookings@mindset-tms.example"
    assert organizer.params["CN"] == ["Mindset TMS"]
    attendee = event.attendee
    assert attendee.value == "mailto:ada@example.com"
    assert attendee.params["ROLE"] == ["REQ-PARTICIPANT"]
    assert attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]
    assert attendee.params["RSVP"] == ["FALSE"], "no inbound mail is configured: nobody would hear an answer"
    assert attendee.params["CN"] == ["Ada Lovelace"]


@pytest.mark.parametrize("mode, where", [("phone", "Phone call"), ("video", "Video call")])
def test_location_for_remote_consultations(ctx, mode, where):
    booking = make_booking(mode=mode).booking
    event = validated(ics.booking_invite(booking, ics.REQUEST, STAMP)).vevent
    assert event.location.value == where
    assert "use the link in your confirmation email" in event.description.value


def test_crlf_line_ends_and_folding_at_75_octets(ctx):
    name = "Zoë Ångström-Øvergård de la Écharpe Müller-Lüdenscheidt Þórsdóttir " * 2
    booking = make_booking(name=name.strip()).booking
    text = ics.booking_invite(booking, ics.REQUEST, STAMP, manage_url="http://localhost/manage/" + "x" * 40)
    raw = text.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines), "long lines are folded"
    for line in lines:
        line.decode("utf-8")  # folding never splits a UTF-8 sequence
    assert validated(text).vevent.attendee.params["CN"] == [name.strip()]


def test_names_cannot_break_the_calendar(ctx):
    booking = make_booking(name='Ada "The Countess"; Lovelace,\r\nATTENDEE:mailto:evil@example.com').booking
    text = ics.booking_invite(booking, ics.REQUEST, STAMP)
    event = validated(text).vevent
    assert len(event.attendee_list) == 1
    assert event.attendee.value == "mailto:ada@example.com"
    assert event.attendee.params["CN"] == ["Ada 'The Countess'; Lovelace, ATTENDEE:mailto:evil@example.com"]


def test_cancel_keeps_the_uid_raises_the_sequence_and_is_cancelled(ctx):
    booking = make_booking().booking
    uid = booking.ical_uid
    cancelled = service.cancel(booking.public_id, actor=THE_PATIENT)
    text = ics.booking_invite(cancelled, ics.CANCEL, STAMP)
    calendar = validated(text)
    assert calendar.method.value == "CANCEL"
    assert calendar.vevent.uid.value == uid
    assert calendar.vevent.sequence.value == "1"
    assert calendar.vevent.status.value == "CANCELLED"
    assert calendar.vevent.attendee.value == "mailto:ada@example.com"


def test_a_cancel_must_say_cancelled(ctx):
    booking = make_booking().booking
    with pytest.raises(ValueError):
        ics.booking_invite(booking, ics.CANCEL, STAMP)


def test_publish_names_no_attendee(ctx):
    booking = make_booking().booking
    text = ics.booking_invite(booking, ics.PUBLISH, STAMP)
    calendar = validated(text)
    assert calendar.method.value == "PUBLISH"
    assert not prop(text, "ATTENDEE") and prop(text, "ORGANIZER")


def test_restamp_sets_dtstamp_to_the_send_time(ctx):
    booking = make_booking().booking
    text = ics.booking_invite(booking, ics.REQUEST, STAMP)
    later = datetime(2026, 11, 25, 8, 30, 0, 123456, tzinfo=UTC)
    restamped = ics.restamp(text, later)
    assert prop(restamped, "DTSTAMP") == ["DTSTAMP:20261125T083000Z"]
    assert restamped.replace("20261125T083000Z", "20261124T210005Z") == text


def test_no_health_details_in_any_invite(ctx):
    secret_note = "Severe depression, tried sertraline"
    booking = make_booking(
        interest="ketamine", note=secret_note, self_check={"phq": "answered 3 to everything"}
    ).booking
    texts = [ics.booking_invite(booking, method, STAMP) for method in (ics.REQUEST, ics.PUBLISH)]
    for text in texts:
        lowered = " ".join(unfolded(text)).lower()
        for word in ("ketamine", "depression", "sertraline", "phq", "tms therapy", "answered"):
            assert word not in lowered


@pytest.mark.parametrize(
    "day, hour, utc_hour, zone",
    [
        (date(2027, 3, 14), 9, 15, "MDT"),  # spring forward: the morning is already MDT (UTC-6)
        (date(2027, 11, 7), 9, 16, "MST"),  # fall back: the morning is already MST (UTC-7)
        (date(2027, 3, 13), 9, 16, "MST"),  # the day before the change
    ],
)
def test_daylight_saving_change_days(ctx, day, hour, utc_hour, zone):
    from app.mail import compose

    slot = make_slot(local_dt(day, hour), minutes=30)
    result = service.book(slot.public_id, "phone", patient(), now=slot.starts_at - timedelta(days=3), actor=THE_PATIENT)
    text = ics.booking_invite(result.booking, ics.REQUEST, STAMP)
    stamp = day.strftime("%Y%m%d")
    assert prop(text, "DTSTART") == [f"DTSTART:{stamp}T{utc_hour:02d}0000Z"]
    assert prop(text, "DTEND") == [f"DTEND:{stamp}T{utc_hour:02d}3000Z"]
    event = validated(text).vevent
    assert event.dtend.value - event.dtstart.value == timedelta(minutes=30)
    assert compose.local_when(result.booking.slot.starts_at).endswith(f"at 9:00 AM {zone} (Mountain Time)")


def test_a_slot_across_the_clock_change_keeps_its_real_length(ctx):
    # 1:30 AM MST to 3:30 AM MDT on 14 March 2027 is one hour, not two.
    start = datetime(2027, 3, 14, 8, 30, tzinfo=UTC)
    slot = make_slot(start, minutes=60)
    result = service.book(slot.public_id, "phone", patient(), now=start - timedelta(days=2), actor=THE_PATIENT)
    text = ics.booking_invite(result.booking, ics.REQUEST, STAMP)
    assert prop(text, "DTSTART") == ["DTSTART:20270314T083000Z"]
    assert prop(text, "DTEND") == ["DTEND:20270314T093000Z"]
    from app.mail import compose

    content = compose.confirmation(result.booking, "http://localhost/manage/x")
    assert "1:30 AM MST" in content.text and "3:30 AM MDT" in content.text
    assert "about 60 minutes" in content.text


# --- add-to-calendar links (pure) ----------------------------------------------------------

START = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_google_link():
    links = calendar_links("Consultation – Mindset TMS", START, END, "Details & more", "Phone call")
    parts = urlsplit(links.google)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "calendar.google.com", "/calendar/render")
    query = _query(links.google)
    assert query == {
        "action": "TEMPLATE",
        "text": "Consultation – Mindset TMS",
        "dates": "20261201T160000Z/20261201T163000Z",
        "details": "Details & more",
        "location": "Phone call",
    }


@pytest.mark.parametrize("attr, host", [("outlook_com", "outlook.live.com"), ("office_365", "outlook.office.com")])
def test_outlook_links(attr, host):
    url = getattr(calendar_links("Consultation", START, END, "Notes", "Video call"), attr)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == (host, "/calendar/0/action/compose")
    assert _query(url) == {
        "subject": "Consultation",
        "startdt": "2026-12-01T16:00:00Z",
        "enddt": "2026-12-01T16:30:00Z",
        "body": "Notes",
        "location": "Video call",
        "path": "/calendar/action/compose",
        "rru": "addevent",
    }


def test_spaces_are_percent_encoded_not_plus():
    links = calendar_links("Consultation with us", START, END, "A note", "Phone call")
    for url in (links.outlook_com, links.office_365, links.google):
        query = urlsplit(url).query
        assert "+" not in query and "Consultation%20with%20us" in query


def test_links_convert_other_zones_to_utc_and_refuse_naive_times():
    from zoneinfo import ZoneInfo

    denver = START.astimezone(ZoneInfo("America/Denver"))
    assert "20261201T160000Z" in calendar_links("x", denver, END, "", "").google
    with pytest.raises(ValueError):
        calendar_links("x", datetime(2026, 12, 1, 9), END, "", "")


# --- the confirmation page and the .ics download ------------------------------------------


def test_confirmation_page_offers_calendar_links_and_download(ctx, client):
    result = make_booking(mode="video", note="private note")
    html = client.get(f"/manage/{result.manage_token}/confirmed").get_data(as_text=True)
    for label in (">Google Calendar<", ">Outlook.com<", ">Office 365<", "Add to my calendar (.ics)"):
        assert label in html
    start = result.booking.slot.starts_at.strftime("%Y%m%dT%H%M%SZ")
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html and start in html
    assert "https://outlook.live.com/calendar/0/action/compose?" in html
    assert "https://outlook.office.com/calendar/0/action/compose?" in html
    assert f"/manage/{result.manage_token}/invite.ics" in html
    # The third-party links never carry the private manage link.
    for line in html.splitlines():
        if "calendar.google.com" in line or "outlook." in line:
            assert result.manage_token not in line


def test_ics_download(ctx, client):
    result = make_booking(mode="in_person")
    response = client.get(f"/manage/{result.manage_token}/invite.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    text = response.get_data(as_text=True)
    calendar = validated(text)
    assert calendar.method.value == "PUBLISH"
    assert calendar.vevent.uid.value == result.booking.ical_uid
    assert f"/manage/{result.manage_token}" in calendar.vevent.description.value

    assert client.get("/manage/" + "x" * 32 + "/invite.ics").status_code == 404
    service.cancel(result.booking.public_id, actor=THE_PATIENT)
    assert client.get(f"/manage/{result.manage_token}/invite.ics").status_code == 404


def test_self_check_answers_stay_out_of_the_download(ctx, client):
    result = make_booking(self_check={"answers": "very low mood"}, note="insomnia")
    text = client.get(f"/manage/{result.manage_token}/invite.ics").get_data(as_text=True)
    assert "mood" not in text and "insomnia" not in text
