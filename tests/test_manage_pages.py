"""The confirmation and manage pages show everything a patient needs (when, how, reference,
where with a map and how to arrive, add to calendar), and cancelling takes two steps with an
optional reason that only staff see."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.mail import rendering
from app.models import Booking, OutboxMessage, utcnow
from tests.conftest import csrf_token, make_booking, make_slot
from tests.fixtures_staff import signed_in_client


def test_confirmation_shows_the_facts_and_calendar_in_order(ctx, client):
    result = make_booking(make_slot(), mode="in_person")
    html = client.get(f"/manage/{result.manage_token}/confirmed").get_data(as_text=True)
    assert result.booking.reference_display in html
    assert "123 Sample Street" in html and "https://www.openstreetmap.org/search?query=123%20Sample%20Street" in html
    assert "Free parking is behind the building" in html
    assert 'id="confirmed-heading" tabindex="-1" autofocus' in html
    ics = html.index(f"/manage/{result.manage_token}/invite.ics")
    assert ics < html.index("calendar.google.com") < html.index("will not update")
    assert html.count("call or text") == 1  # the crisis line once


@pytest.mark.parametrize(
    ("mode", "words"),
    [("phone", "we will call you on (970) 555-0123"), ("video", "to give you the link for the video call")],
)
def test_manage_page_says_what_happens_for_phone_and_video(ctx, client, mode, words):
    result = make_booking(make_slot(), mode=mode)
    html = client.get(f"/manage/{result.manage_token}").get_data(as_text=True)
    assert words in html and "openstreetmap" not in html
    assert result.booking.reference_display in html and "Add to my calendar (.ics)" in html


def test_cancel_asks_first_and_keeps_the_reason_for_staff_only(ctx, client, app):
    result = make_booking(make_slot())
    token = result.manage_token
    manage = client.get(f"/manage/{token}").get_data(as_text=True)
    assert "<form" not in manage  # nothing on the manage page cancels at once
    asking = client.get(f"/manage/{token}/cancel")
    assert asking.status_code == 200
    body = asking.get_data(as_text=True)
    assert "Move to another time instead" in body and "No, keep it" in body
    too_long = client.post(f"/manage/{token}/cancel", data={"csrf_token": csrf_token(body), "reason": "x" * 501})
    assert too_long.status_code == 422 and 'id="error-summary"' in too_long.get_data(as_text=True)
    assert db.session.get(Booking, result.booking.id).status == "confirmed"
    done = client.post(f"/manage/{token}/cancel", data={"csrf_token": csrf_token(body), "reason": "Private words"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, result.booking.id).cancel_reason == "Private words"
    for message in db.session.execute(select(OutboxMessage)).scalars():
        if message.event:
            rendered = rendering.render(message, utcnow())
            assert "Private words" not in rendered.text + rendered.html
    staff = signed_in_client(app, "sam@mindset-tms.example", "staff")
    detail = staff.get(f"/staff/bookings/{result.booking.public_id}").get_data(as_text=True)
    assert "Private words" in detail
    # Cancelled: the ask page leads back to the manage page, which offers to book again.
    assert client.get(f"/manage/{token}/cancel").status_code == 302


# --- emails ------------------------------------------------------------------------------------


def _rendered(kind: str) -> rendering.Rendered:
    message = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == kind)).scalars().first()
    return rendering.render(message, utcnow())


def test_patient_emails_carry_the_reference_address_and_one_manage_button(ctx):
    result = make_booking(make_slot(), mode="in_person")
    confirmation = _rendered("confirmation")
    shown = result.booking.reference_display
    for body in (confirmation.text, confirmation.html):
        assert shown in body and "openstreetmap.org/search" in body and "Free parking" in body
    assert confirmation.html.count("Manage my consultation") == 1
    assert 'style="display:none;max-height:0' in confirmation.html  # the preheader
    assert "word-break:break-all" in confirmation.html
    assert f"Booking reference: {shown}" in confirmation.ics.replace("\r\n ", "")


@pytest.mark.browser
def test_emails_fit_a_320_px_screen(ctx, browser):
    long_name = "Maximiliana Bartholomew-Featherstonehaugh"
    result = make_booking(make_slot(), mode="in_person", name=long_name)
    from app.booking import service

    service.cancel(result.booking.public_id, actor=THE_PATIENT)
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        for kind in ("confirmation", "cancellation", "reminder"):
            page.set_content(_rendered(kind).html)
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, kind
    finally:
        context.close()


def test_the_spanish_cancelled_page_gives_the_reference_as_its_own_sentence(ctx, client):
    from app.booking import service

    made = make_booking(make_slot(), locale="es")
    service.cancel(made.booking.public_id, actor=THE_PATIENT)
    html = client.get(f"/es/manage/{made.manage_token}").get_data(as_text=True)
    assert f". Referencia: {made.booking.reference_display}." in html
    assert ") (referencia" not in html
