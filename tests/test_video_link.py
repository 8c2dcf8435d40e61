"""The video call link, on SQLite and PostgreSQL: VIDEO_URL as a fixed room or a template
whose {room} gives each booking its own unguessable room; a video booking's confirmation,
update, reminder, manage page and invite (RFC 7986 CONFERENCE and LOCATION) carry it; staff
may set a booking's own link; without one, pages and mail say the clinic will call with it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.mail import rendering
from app.models import OutboxMessage, utcnow
from tests.conftest import make_booking, make_slot
from tests.fixtures_staff import signed_in_client, staff_post

TEMPLATE = "https://meet.example.org/mindset-{room}"


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


def video_booking(days: int = 3, **fields):
    return make_booking(make_slot(utcnow().replace(microsecond=0) + timedelta(days=days)), mode="video", **fields)


def rendered(booking_id: int, kind: str):
    db.session.expire_all()
    message = db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.booking_id == booking_id, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one()
    return rendering.render(message, utcnow())


def unfolded(ics: str) -> str:
    return ics.replace("\r\n ", "")


def test_a_room_template_gives_each_booking_its_own_link_everywhere(ctx, client):
    ctx.config["VIDEO_URL"] = TEMPLATE
    first, second = video_booking(3), video_booking(4, email="grace@example.com")
    links = []
    for made in (first, second):
        confirmation = rendered(made.booking.id, "confirmation")
        link = re.search(r"https://meet\.example\.org/mindset-[0-9a-f]{20}", confirmation.text).group(0)
        links.append(link)
        assert f'href="{link}"' in confirmation.html
        calendar = unfolded(confirmation.ics)
        assert f"LOCATION:{link}\r\n" in calendar
        conference = re.search(r"^CONFERENCE;(.*):(https://\S+)\r$", calendar, re.M)
        assert conference and conference.group(2) == link
        assert {"VALUE=URI", "FEATURE=VIDEO"} <= set(conference.group(1).split(";"))
        assert link in rendered(made.booking.id, "reminder").text
        assert link in client.get(f"/manage/{made.manage_token}").get_data(as_text=True)
    assert links[0] != links[1]  # no one can reach another patient's call

    service.reschedule(first.booking.public_id, make_slot(utcnow() + timedelta(days=5)).public_id, actor=THE_PATIENT)
    update = rendered(first.booking.id, "update")
    assert links[0] in update.text and f"LOCATION:{links[0]}" in unfolded(update.ics)


def test_a_fixed_room_is_the_same_for_everyone_and_phone_calls_have_none(ctx):
    ctx.config["VIDEO_URL"] = "https://doxy.me/mindset"
    first, second = video_booking(3), video_booking(4, email="grace@example.com")
    for made in (first, second):
        assert "https://doxy.me/mindset" in rendered(made.booking.id, "confirmation").text
    phone = make_booking(make_slot(utcnow() + timedelta(days=5)), mode="phone", email="p@example.com")
    confirmation = rendered(phone.booking.id, "confirmation")
    assert "doxy.me" not in confirmation.text and "CONFERENCE" not in confirmation.ics


def test_without_video_url_the_clinic_calls_with_the_link(ctx, client):
    assert not ctx.config["VIDEO_URL"]
    made = video_booking()
    confirmation = rendered(made.booking.id, "confirmation")
    assert "We will call you before your consultation to give you the link for the video call." in confirmation.text
    assert "CONFERENCE" not in confirmation.ics and "LOCATION:Video call" in confirmation.ics
    page = client.get(f"/manage/{made.manage_token}").get_data(as_text=True)
    assert "we will call you on (970) 555-0123 before your consultation to give you the link" in page


def test_the_spanish_email_names_the_link_in_spanish(ctx):
    ctx.config["VIDEO_URL"] = TEMPLATE
    made = video_booking(locale="es")
    confirmation = rendered(made.booking.id, "confirmation")
    assert re.search(r"Videollamada: https://meet\.example\.org/mindset-[0-9a-f]{20}", confirmation.text)


def test_staff_set_a_booking_s_own_link_and_the_patient_is_sent_it(ctx):
    ctx.config["VIDEO_URL"] = TEMPLATE
    desk = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    made = video_booking()
    url = f"/staff/bookings/{made.booking.public_id}/edit"
    form = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+19705550123",
        "locale": "en",
        "mode": "video",
    }
    refused = staff_post(desk, url, dict(form, custom_video_url="zoom.us/j/123"), token_from=url)
    assert refused.status_code == 422 and 'id="custom_video_url-error"' in refused.get_data(as_text=True)
    assert 'value="zoom.us/j/123"' in refused.get_data(as_text=True)

    own = "https://zoom.us/j/123456789?pwd=abc"
    response = staff_post(desk, url, dict(form, custom_video_url=own), token_from=url)
    assert response.status_code == 303
    detail = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "set for this booking" in detail
    confirmation = rendered(made.booking.id, "confirmation")
    assert own in confirmation.text and "meet.example.org" not in confirmation.text
    assert "CONFERENCE" in confirmation.ics and "SEQUENCE:1" in confirmation.ics
