"""The patient's booking pages through the Flask test client: validation, taken slots, manage link."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Booking
from tests.conftest import booking_form, csrf_token, make_booking, make_slot


def open_form(client, slot):
    response = client.get(f"/book/{slot.public_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def manage_token_from(location: str) -> str:
    match = re.search(r"/manage/([A-Za-z0-9_-]+)/confirmed", location)
    assert match, location
    return match.group(1)


def test_book_page_lists_free_slots_by_day_in_clinic_time(ctx, client):
    slot = make_slot()
    booked = make_slot()
    make_booking(booked)
    html = client.get("/book").get_data(as_text=True)
    assert f"/book/{slot.public_id}" in html
    assert f"/book/{booked.public_id}" not in html
    assert "Mountain Time" in html and "(America/Denver)" not in html
    local = slot.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Denver"))
    assert local.strftime("%A") in html and local.strftime("%I:%M %p").lstrip("0") in html


def test_full_booking_flow_and_manage_link(ctx, client):
    slot = make_slot()
    html = open_form(client, slot)
    response = client.post(f"/book/{slot.public_id}", data=booking_form(html, note="Line one\r\nLine two"))
    assert response.status_code == 303
    token = manage_token_from(response.headers["Location"])
    confirmed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You're booked" in confirmed and f"/manage/{token}" in confirmed and "988" in confirmed
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.phone == "+19705550123" and booking.note == "Line one\nLine two"
    assert f"/book/{slot.public_id}" not in client.get("/book").get_data(as_text=True)

    manage = client.get(f"/manage/{token}")
    assert manage.status_code == 200 and manage.headers["Referrer-Policy"] == "no-referrer"
    page = manage.get_data(as_text=True)
    assert booking.reference_display in page and f'href="/manage/{token}/cancel"' in page
    asking = client.get(f"/manage/{token}/cancel").get_data(as_text=True)
    assert "Cancel your consultation?" in asking and f"/manage/{token}/reschedule" in asking
    cancelled = client.post(
        f"/manage/{token}/cancel", data={"csrf_token": csrf_token(asking), "reason": "Found a closer clinic"}
    )
    assert cancelled.status_code == 303
    after = client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert "This consultation was cancelled" in after and "Book a new consultation" in after
    assert 'href="/book?mode=phone"' in after
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).cancel_reason == "Found a closer clinic"
    assert f"/book/{slot.public_id}" in client.get("/book").get_data(as_text=True)


def test_opening_the_manage_link_changes_nothing(ctx, client):
    result = make_booking()
    for path in ("", "/confirmed", "/reschedule", "/cancel"):
        client.get(f"/manage/{result.manage_token}{path}")
    db.session.expire_all()
    assert db.session.get(Booking, 1).status == "confirmed"


def test_cancel_without_csrf_is_refused(ctx, client):
    result = make_booking()
    response = client.post(f"/manage/{result.manage_token}/cancel")
    assert response.status_code == 400
    assert db.session.get(Booking, 1).status == "confirmed"


def test_unknown_or_malformed_token_is_404(ctx, client):
    make_booking()
    assert client.get("/manage/" + "A" * 32).status_code == 404
    assert client.get("/manage/short").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Please enter your name"),
        ("name", "Ada\r\nBcc: victim@example.com", "line breaks"),
        ("email", "not-an-email", "check your email"),
        ("email", "ada@example.com\nBcc: x@example.com", "line breaks"),
        ("phone", "12", "phone number"),
        ("phone", "555-0123", "phone number"),
        ("interest", None, "Please choose what you would like"),
        ("consent", None, "privacy notice"),
        ("mode", "carrier-pigeon", "Not a valid choice"),
        ("note", "x" * 1001, "1000 characters"),
        ("note", "bell\x07", "control characters"),
    ],
)
def test_each_bad_field_gets_its_message_and_keeps_the_rest(ctx, client, field, value, message):
    slot = make_slot()
    html = open_form(client, slot)
    data = booking_form(html, **{field: value, "name": "Ada Lovelace" if field != "name" else value})
    response = client.post(f"/book/{slot.public_id}", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert 'aria-invalid="true"' in body or field in ("interest", "consent", "mode")
    if field != "email":
        assert 'value="ada@example.com"' in body
    if field != "name":
        assert 'value="Ada Lovelace"' in body
    assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 0


def test_taken_slot_keeps_typed_details_and_offers_alternatives(ctx, client):
    slot = make_slot()
    alternative = make_slot()
    html = open_form(client, slot)
    make_booking(slot, email="quick@example.com")  # someone else books it meanwhile
    response = client.post(
        f"/book/{slot.public_id}", data=booking_form(html, name="Grace Hopper", email="grace@example.com")
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "just booked by someone else" in body
    assert 'value="Grace Hopper"' in body and 'value="grace@example.com"' in body
    assert f'value="{alternative.public_id}"' in body
    # Choosing the offered alternative books it with the kept details.
    retry = booking_form(body, name="Grace Hopper", email="grace@example.com", slot_id=alternative.public_id)
    done = client.post(f"/book/{slot.public_id}", data=retry)
    assert done.status_code == 303
    booking = db.session.execute(select(Booking).where(Booking.email == "grace@example.com")).scalar_one()
    assert booking.slot.public_id == alternative.public_id


def test_opening_a_taken_slot_offers_alternatives(ctx, client):
    slot = make_slot()
    alternative = make_slot()
    make_booking(slot)
    response = client.get(f"/book/{slot.public_id}")
    assert response.status_code == 409
    assert alternative.public_id in response.get_data(as_text=True)


def test_reschedule_through_the_pages(ctx, client):
    result = make_booking()
    target = make_slot()
    listing = client.get(f"/manage/{result.manage_token}/reschedule").get_data(as_text=True)
    assert f"/manage/{result.manage_token}/reschedule/{target.public_id}" in listing
    form = client.get(f"/manage/{result.manage_token}/reschedule/{target.public_id}").get_data(as_text=True)
    response = client.post(
        f"/manage/{result.manage_token}/reschedule/{target.public_id}",
        data={"csrf_token": csrf_token(form), "mode": "video"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, 1)
    assert booking.slot.public_id == target.public_id and booking.mode == "video"
    assert "has been moved" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_bot_traps(ctx, client, app):
    app.config["BOOKING_MIN_FILL_SECONDS"] = 3
    slot = make_slot()
    html = open_form(client, slot)
    too_fast = client.post(f"/book/{slot.public_id}", data=booking_form(html))
    assert too_fast.status_code == 422
    app.config["BOOKING_MIN_FILL_SECONDS"] = 0
    honeypot = client.post(f"/book/{slot.public_id}", data=booking_form(html, website="http://spam.example"))
    assert honeypot.status_code == 422
    assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 0


def test_no_sequential_ids_in_public_urls(ctx, client):
    result = make_booking()
    html = client.get(f"/manage/{result.manage_token}").get_data(as_text=True)
    hrefs = re.findall(r'href="(/[^"]*)"', html) + re.findall(r'action="(/[^"]*)"', html)
    assert hrefs
    for href in hrefs:
        assert not re.search(r"/\d+(/|$)", href), href


def visible_text(html: str) -> str:
    """The words a person sees: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_spanish_pages_name_the_clinics_time_in_words_never_its_zone_key(ctx, client):
    slot = make_slot()
    for path in ("/es/book", f"/es/book/{slot.public_id}"):
        text = visible_text(client.get(path).get_data(as_text=True))
        assert "America/" not in text, path
    assert "hora de Colorado" in visible_text(client.get("/es/book").get_data(as_text=True))
    # A time summary names the zone once.
    summary = visible_text(client.get(f"/es/book/{slot.public_id}").get_data(as_text=True))
    assert summary.count("hora de Colorado") == 1 and "Denver" not in summary
