"""The waiting list's pages through the client: the join form, the private entry page, the
offer page, and the two links from the booking pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.models import Booking, WaitlistEntry, WaitlistOffer
from app.waitlist.offering import offer_freed_slots
from tests.conftest import future_day, make_booking, make_slot
from tests.test_waitlist import offer_tokens


def token_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def form(html: str, **fields) -> dict:
    data = {
        "csrf_token": token_in(html),
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "970-555-0123",
        "earliest": future_day(0).isoformat(),
        "latest": future_day(20).isoformat(),
        "consent": "y",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_join_form_keeps_typed_values_and_shows_errors_at_the_field(ctx, client):
    page = client.get("/waitlist").get_data(as_text=True)
    assert 'type="checkbox" name="weekdays"' in page and 'name="parts_of_day"' in page and 'name="modes"' in page
    response = client.post(
        "/waitlist", data=form(page, email="nope", consent=None, weekdays=["2", "4"], modes=["video"], name="Ada Typed")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in html and 'id="consent-error"' in html and 'id="name-error"' not in html
    assert 'value="Ada Typed"' in html and 'value="nope"' in html
    assert 'id="weekdays-2" value="2" checked' in html and 'id="weekdays-3" value="3">' in html
    assert 'id="modes-video" value="video" checked' in html


def test_joining_from_the_form_and_leaving_from_the_private_page(ctx, client):
    page = client.get("/waitlist").get_data(as_text=True)
    response = client.post("/waitlist", data=form(page, weekdays=["1"], parts_of_day=["morning"]))
    assert response.status_code == 303
    private = response.headers["Location"]
    entry = db.session.execute(select(WaitlistEntry)).scalar_one()
    assert entry.weekdays == "1" and entry.parts_of_day == "morning" and entry.modes == ""
    shown = client.get(private).get_data(as_text=True)
    assert "You are on the list" in shown and "Monday" in shown and "Any way" in shown
    assert client.post(private.split("?")[0] + "/leave", data={"csrf_token": token_in(shown)}).status_code == 303
    db.session.commit()
    assert db.session.execute(select(WaitlistEntry.status)).scalar_one() == "left"
    assert "You have left" in client.get(private).get_data(as_text=True)


def test_changing_the_choices_on_the_private_page(ctx, client):
    page = client.get("/waitlist").get_data(as_text=True)
    private = client.post("/waitlist", data=form(page, weekdays=["1"], modes=["phone"])).headers["Location"]
    private = private.split("?")[0]
    joined_at = db.session.execute(select(WaitlistEntry.created_at)).scalar_one()
    shown = client.get(private).get_data(as_text=True)
    assert 'id="weekdays-1" value="1" checked' in shown and 'id="modes-phone" value="phone" checked' in shown
    assert f'name="latest" value="{future_day(20).isoformat()}"' in shown
    choices = {
        "csrf_token": token_in(shown),
        "earliest": future_day(1).isoformat(),
        "latest": future_day(10).isoformat(),
        "weekdays": ["3"],
        "modes": ["video"],
    }
    assert client.post(private, data={**choices, "csrf_token": ""}).status_code == 400  # no CSRF token
    wrong = client.post(private, data={**choices, "latest": "soon"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and 'id="latest-error"' in html and 'id="weekdays-error"' not in html
    assert 'value="soon"' in html and 'id="weekdays-3" value="3" checked' in html
    assert 'id="weekdays-1" value="1">' in html
    db.session.commit()
    assert db.session.execute(select(WaitlistEntry.weekdays)).scalar_one() == "1"
    saved = client.post(private, data=choices)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?saved=1")
    assert "Your choices are saved." in client.get(saved.headers["Location"]).get_data(as_text=True)
    db.session.commit()
    entry = db.session.execute(select(WaitlistEntry)).scalar_one()
    assert (entry.weekdays, entry.modes, entry.parts_of_day) == ("3", "video", "")
    assert entry.latest == future_day(10) and entry.created_at == joined_at
    client.post(private + "/leave", data={"csrf_token": token_in(shown)})
    ended = client.post(private, data={**choices, "weekdays": ["5"]})
    assert ended.status_code == 410 and "can no longer be changed" in ended.get_data(as_text=True)
    db.session.commit()
    assert db.session.execute(select(WaitlistEntry.weekdays)).scalar_one() == "3"


def test_the_booking_pages_link_to_the_waiting_list(ctx, client):
    assert 'href="/waitlist">Tell me if an earlier time opens' in client.get("/book").get_data(as_text=True)
    make_slot()
    assert 'href="/waitlist">tell me if an earlier time opens' in client.get("/book").get_data(as_text=True)
    held = make_booking(make_slot())
    manage = client.get(f"/manage/{held.manage_token}").get_data(as_text=True)
    assert f'href="/manage/{held.manage_token}/waitlist">I\'d take an earlier time' in manage
    shown = client.get(f"/manage/{held.manage_token}/waitlist")
    assert shown.headers["Cache-Control"] == "no-store" and shown.headers["Referrer-Policy"] == "no-referrer"
    page = shown.get_data(as_text=True)
    assert f'name="manage_token" value="{held.manage_token}"' in page and 'value="Ada Lovelace"' in page
    response = client.post(
        "/waitlist", data=form(page, manage_token=held.manage_token, latest=future_day(3).isoformat())
    )
    assert response.status_code == 303
    assert db.session.execute(select(WaitlistEntry.booking_id)).scalar_one() == held.booking.id


def test_the_offer_page_shows_and_only_a_post_claims(ctx, client):
    page = client.get("/waitlist").get_data(as_text=True)
    client.post("/waitlist", data=form(page))
    client.post("/waitlist", data=form(page, email="grace@example.com", name="Grace Hopper"))
    slot = make_slot()
    result = make_booking(slot, email="owner@example.com")
    service.cancel(result.booking.public_id, actor=THE_PATIENT)
    offer_freed_slots()
    ada, grace = offer_tokens("ada@example.com")[0], offer_tokens("grace@example.com")[0]
    shown = client.get(f"/offers/{ada}")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Take this time" in html
    assert (
        db.session.execute(select(WaitlistOffer.status).where(WaitlistOffer.email == "ada@example.com")).scalar_one()
        == "sent"
    )
    assert client.post(f"/offers/{ada}", data={}).status_code == 400  # no CSRF token
    claimed = client.post(f"/offers/{ada}", data={"csrf_token": token_in(html)})
    assert claimed.status_code == 303 and "/manage/" in claimed.headers["Location"]
    db.session.commit()
    booking = db.session.execute(select(Booking).where(Booking.status == "confirmed")).scalar_one()
    assert booking.email == "ada@example.com"
    late = client.get(f"/offers/{grace}").get_data(as_text=True)
    assert "someone just took this time" in late and "Take this time" not in late
    assert client.get("/offers/" + "q" * 32).status_code == 404


def test_staff_see_the_list_its_offers_and_which_booking_came_from_one(ctx, client, staff_client):
    page = client.get("/waitlist").get_data(as_text=True)
    client.post("/waitlist", data=form(page, modes=["video"], weekdays=["1", "2"]))
    client.post("/waitlist", data=form(page, email="grace@example.com", name="Grace Hopper"))
    result = make_booking(make_slot(), email="owner@example.com")
    service.cancel(result.booking.public_id, actor=THE_PATIENT)
    offer_freed_slots()
    listing = staff_client.get("/staff/waitlist").get_data(as_text=True)
    assert 'href="/staff/waitlist" aria-current="page">Waiting list' in listing
    assert "Grace Hopper" in listing and "Video call" in listing and ": sent" in listing
    grace = offer_tokens("grace@example.com")[0]
    claimed = client.post(f"/api/v1/offers/{grace}/claim")
    assert claimed.status_code == 201
    booking_id = claimed.get_json()["booking"]["id"]
    everyone = staff_client.get("/staff/waitlist?show=all").get_data(as_text=True)
    assert ": claimed" in everyone and "1 of 1 freed time re-booked from the list" in everyone
    dashboard = re.sub(r"\s+", " ", staff_client.get("/staff/").get_data(as_text=True))
    assert '<span class="stat-number">1</span> of 1 freed time re-booked from the waiting list' in dashboard
    detail = staff_client.get(f"/staff/bookings/{booking_id}").get_data(as_text=True)
    assert "Booked from a waiting-list offer" in detail
    assert "waiting-list offer" not in staff_client.get(f"/staff/bookings/{result.booking.public_id}").get_data(
        as_text=True
    )


def test_the_spanish_private_page_writes_dates_in_words(ctx, client):
    page = client.get("/es/waitlist").get_data(as_text=True)
    response = client.post("/es/waitlist", data=form(page))
    assert response.status_code == 303
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    listed = re.search(r"<dd>(Del [^<]*)</dd>", shown).group(1)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", listed), listed
    first = future_day(0)
    assert f" {first.day} de " in listed and " al " in listed, listed
