"""The staff calendar feed: a secret, revocable subscription URL listing upcoming
consultations with first name and initial, mode and a staff-console link, nothing more."""

from __future__ import annotations

import re

import pytest
import vobject
from sqlalchemy import select

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.tokens import hash_token
from app.invites import feeds
from app.models import CalendarFeed
from tests.conftest import make_booking


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


def test_feed_lists_upcoming_consultations_without_private_details(ctx):
    client = ctx.test_client()
    ada = make_booking(
        mode="phone", name="Ada King Lovelace", note="Severe anxiety", interest="ketamine", phone="+19705550123"
    ).booking
    grace = make_booking(mode="in_person", name="Grace Hopper", email="grace@example.com").booking
    gone = make_booking(mode="video", name="Alan Turing", email="alan@example.com").booking
    service.cancel(gone.public_id, actor=THE_PATIENT)
    _feed, token = feeds.create_feed("Front desk")

    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-cache"
    text = response.get_data(as_text=True)
    calendar = vobject.readOne(text, validate=True)
    calendar.validate(raiseException=True)
    assert calendar.method.value == "PUBLISH"
    assert calendar.contents["x-wr-calname"][0].value == "Mindset TMS consultations"
    events = {e.summary.value: e for e in calendar.vevent_list}
    assert set(events) == {
        "Consultation: Ada L. (phone)",
        "Consultation: Grace H. (in person)",
        "Consultation: Alan T. (video)",
    }
    # The cancelled one stays, marked cancelled, so subscribed calendars drop it.
    assert events["Consultation: Alan T. (video)"].status.value == "CANCELLED"
    assert events["Consultation: Alan T. (video)"].sequence.value == "1"
    assert events["Consultation: Ada L. (phone)"].status.value == "CONFIRMED"
    first = events["Consultation: Ada L. (phone)"]
    assert first.dtstart.value == ada.slot.starts_at
    assert first.url.value == f"http://localhost/staff/bookings/{ada.public_id}"
    assert f"http://localhost/staff/bookings/{ada.public_id}" in first.description.value
    assert first.location.value == "Phone call"
    assert first.uid.value != ada.ical_uid, "the staff copy never merges with the patient's invite"
    assert events["Consultation: Grace H. (in person)"].location.value.startswith("123 Sample Street")
    assert not hasattr(first, "attendee")
    lowered = text.lower()
    for private in ("lovelace", "anxiety", "ketamine", "ada@example.com", "5550123", "turing", grace.email):
        assert private not in lowered


def test_only_the_hash_is_stored_and_revoking_stops_the_feed(ctx):
    client = ctx.test_client()
    feed, token = feeds.create_feed("Dr. Smith's phone")
    stored = db.session.execute(select(CalendarFeed)).scalar_one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash
    assert feeds.find_active_feed(token).id == feed.id
    assert client.get(f"/calendar/{token}.ics").status_code == 200

    feeds.revoke_feed(feed.id)
    feeds.revoke_feed(feed.id)  # twice is harmless
    assert feeds.find_active_feed(token) is None
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert [f.revoked_at is not None for f in feeds.list_feeds()] == [True]
    with pytest.raises(feeds.FeedNotFound):
        feeds.revoke_feed(999)


@pytest.mark.parametrize("token", ["x" * 32, "short", "bad token with spaces and more"])
def test_unknown_tokens_find_nothing(ctx, token):
    feeds.create_feed("Front desk")
    assert ctx.test_client().get(f"/calendar/{token}.ics").status_code == 404


def test_calendar_feed_commands(app):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["calendar-feed", "create", "--label", "Front desk"])
    assert created.exit_code == 0, created.output
    url = re.search(r"http://localhost/calendar/([A-Za-z0-9_-]+)\.ics", created.output)
    assert url, created.output
    listed = runner.invoke(args=["calendar-feed", "list"])
    assert "Front desk" in listed.output and "active" in listed.output
    assert url.group(1) not in listed.output, "the URL is shown once only"
    with app.app_context():
        assert app.test_client().get(f"/calendar/{url.group(1)}.ics").status_code == 200
    revoked = runner.invoke(args=["calendar-feed", "revoke", "1"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in runner.invoke(args=["calendar-feed", "list"]).output
    missing = runner.invoke(args=["calendar-feed", "revoke", "42"])
    assert missing.exit_code != 0 and "No calendar feed with id 42" in missing.output
    with app.app_context():
        assert app.test_client().get(f"/calendar/{url.group(1)}.ics").status_code == 404


def test_a_repeat_with_the_etag_or_the_date_gets_304_until_something_changes(ctx):
    client = ctx.test_client()
    make_booking()
    _feed, token = feeds.create_feed("Front desk")
    url = f"/calendar/{token}.ics"

    first = client.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    text = first.get_data(as_text=True)
    assert etag.startswith('"') and last_modified
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in text and "X-PUBLISHED-TTL:PT15M\r\n" in text
    assert client.get(url).headers["ETag"] == etag, "the answer's own DTSTAMP is not part of the ETag"

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

    grace = make_booking(name="Grace Hopper", email="grace@example.com").booking
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Grace H." in changed.get_data(as_text=True)
    service.cancel(grace.public_id, actor=THE_PATIENT)
    cancelled = client.get(url, headers={"If-None-Match": changed.headers["ETag"]})
    assert cancelled.status_code == 200 and "STATUS:CANCELLED" in cancelled.get_data(as_text=True)


def test_cancelled_consultations_stay_fourteen_days_then_leave(ctx):
    from datetime import timedelta

    from app.models import Booking, utcnow

    ada = make_booking().booking
    feed, _token = feeds.create_feed("Front desk")
    cancelled_at = utcnow()
    service.cancel(ada.public_id, now=cancelled_at, actor=THE_PATIENT)

    soon = feeds.feed_answer(feed, now=cancelled_at + timedelta(days=13))
    assert f"UID:staff-{ada.ical_uid}" in soon.text.replace("\r\n ", "") and "STATUS:CANCELLED" in soon.text
    later = feeds.feed_answer(feed, now=cancelled_at + timedelta(days=15))
    assert "BEGIN:VEVENT" not in later.text
    assert later.etag != soon.etag
    # Its leaving is a change: If-Modified-Since a moment before it gets the new feed.
    assert abs(later.last_modified - (cancelled_at + timedelta(days=14))) < timedelta(seconds=1)

    # A consultation long past leaves too, FEED_PAST_DAYS after it began.
    with write_transaction() as session:
        session.get(Booking, ada.id).status = "confirmed"
    start = ada.slot.starts_at
    assert "BEGIN:VEVENT" in feeds.feed_answer(feed, now=start + timedelta(days=13)).text
    gone = feeds.feed_answer(feed, now=start + timedelta(days=15))
    assert "BEGIN:VEVENT" not in gone.text
    assert gone.last_modified >= start + timedelta(days=14) - timedelta(seconds=1)
