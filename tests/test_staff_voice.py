"""Staff forms speak to staff about the patient ("Enter the caller's name."), never in the
patient's own voice ("Please enter your name."), and by the same rule: the same values are
refused and accepted wherever they are typed; only the words differ."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking import validation
from app.core.extensions import db
from app.models import Booking, WaitlistEntry, utcnow
from tests.conftest import booking_form, make_booking, make_slot
from tests.fixtures_staff import signed_in_client, staff_post

# The patient's voice: what a staff page must never say.
PATIENT_WORDS = re.compile(r"\byour\b|\byou\b|\bwe can\b|Please enter your|Please check your", re.IGNORECASE)

# Values each check refuses, and values it accepts.
CASES = {
    "name": (
        lambda value, voice: validation.person_name(value, voice),
        ["", "   ", "1234", "--"],
        ["Ada Lovelace", "María López"],
    ),
    "email": (
        lambda value, voice: validation.email_address(value, voice),
        ["", "ada@", "ada@example", "maría@example.com"],
        ["ada@example.com", "a+b@example.org"],
    ),
    "phone": (
        lambda value, voice: validation.phone_number(value, "US", voice),
        ["", "12", "call me", "970-555"],
        ["970-555-0123", "+52 55 1234 5678"],
    ),
}


def outcome(check, value, voice):
    """The clean value, or that the value was refused (the message aside)."""
    try:
        return check(value, voice)
    except validation.Invalid:
        return "refused"


def message(check, value, voice) -> str:
    with pytest.raises(validation.Invalid) as raised:
        check(value, voice)
    return str(raised.value)


@pytest.mark.parametrize("field", sorted(CASES))
def test_the_same_rule_refuses_and_accepts_the_same_values_in_both_voices(ctx, field):
    check, bad, good = CASES[field]
    staff = validation.staff_voice("caller")
    for value in bad + good:
        assert outcome(check, value, validation.PATIENT) == outcome(check, value, staff), value
    for value in bad:
        patient_says, staff_says = message(check, value, validation.PATIENT), message(check, value, staff)
        assert patient_says != staff_says, value
        assert "caller" in staff_says and not PATIENT_WORDS.search(staff_says), staff_says
    for value in good:
        assert outcome(check, value, staff) != "refused", value


def test_every_staff_message_names_the_person_and_never_speaks_as_them(ctx):
    for person in ("caller", "patient"):
        voice = validation.staff_voice(person)
        for name, text in vars(voice).items():
            assert person in text and not PATIENT_WORDS.search(text), (name, text)
    assert str(validation.PATIENT.name_missing) == "Please enter your name."


@pytest.fixture
def app(any_app):
    """The console's forms, on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def desk(ctx):
    return signed_in_client(ctx, "sam@mindset-tms.example", "staff")


def errors_of(html: str) -> list[str]:
    """The messages shown at the fields (the `…-error` elements)."""
    found = re.findall(r'id="[a-z_]+-error"[^>]*>(.*?)</p>', html, flags=re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", text).replace("&#39;", "'").split()) for text in found]
    return [text.removeprefix("Error: ") for text in texts]


def test_booking_for_a_caller_speaks_to_staff_about_the_caller(desk):
    slot = make_slot(utcnow().replace(microsecond=0) + timedelta(days=2))
    response = staff_post(
        desk,
        "/staff/bookings/new",
        {
            "slot_id": slot.public_id,
            "mode": "phone",
            "name": " ",
            "email": "rosa@",
            "phone": "12",
            "note": "",
            "locale": "en",
        },
    )
    assert response.status_code == 422
    shown = errors_of(response.get_data(as_text=True))
    assert "Enter the caller's name." in shown
    assert "Check the caller's email address: it should look like name@example.com." in shown
    assert any(text.startswith("The caller's phone number does not look complete") for text in shown)
    assert "Choose what the caller would like to talk about." in shown
    assert "Tick the box once the caller has agreed to the privacy notice." in shown
    assert not [text for text in shown if PATIENT_WORDS.search(text)], shown
    assert db.session.execute(select(Booking)).first() is None
    # An empty phone is asked for in the same voice.
    response = staff_post(
        desk,
        "/staff/bookings/new",
        {
            "slot_id": slot.public_id,
            "mode": "phone",
            "name": "Rosa Díaz",
            "phone": "",
            "interest": "tms",
            "locale": "en",
            "consent": "y",
        },
    )
    assert "Enter the caller's phone number." in errors_of(response.get_data(as_text=True))


def test_editing_a_booking_speaks_to_staff_about_the_patient(desk):
    made = make_booking(make_slot(utcnow().replace(microsecond=0) + timedelta(days=3)))
    url = f"/staff/bookings/{made.booking.public_id}/edit"
    response = staff_post(
        desk,
        url,
        {"name": "", "email": "ada@example", "phone": "call me", "locale": "en", "mode": "phone"},
        token_from=url,
    )
    assert response.status_code == 422
    shown = errors_of(response.get_data(as_text=True))
    assert "Enter the patient's name." in shown
    assert "Check the patient's email address: it should look like name@example.com." in shown
    assert "Enter the patient's phone number in digits, such as 970-555-0123." in shown
    assert not [text for text in shown if PATIENT_WORDS.search(text)], shown


def test_adding_a_caller_to_the_waiting_list_speaks_to_staff(desk):
    response = staff_post(
        desk,
        "/staff/waitlist/add",
        {"name": "", "phone": "12", "email": "rosa@example", "locale": "es"},
        token_from="/staff/waitlist/add",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    for text in (
        "Enter the caller's name.",
        "Check the caller's email address",
        "The caller's phone number does not look complete",
        "Tick the box once the caller has agreed to the privacy notice.",
    ):
        assert text in page, text
    assert "Please enter your" not in page and "keep your details" not in page
    assert db.session.execute(select(WaitlistEntry)).first() is None


def test_the_patients_own_forms_still_ask_the_patient(ctx, client):
    slot = make_slot()
    html = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
    response = client.post(f"/book/{slot.public_id}", data=booking_form(html, name="", phone="12"))
    shown = errors_of(response.get_data(as_text=True))
    assert "Please enter your name." in shown
    assert (
        "That phone number does not look complete. Please enter it with its area code, such as 970-555-0123."
    ) in shown


def test_the_patients_own_forms_ask_in_spanish(ctx, client):
    slot = make_slot()
    html = client.get(f"/es/book/{slot.public_id}").get_data(as_text=True)
    response = client.post(f"/es/book/{slot.public_id}", data=booking_form(html, name="", consent=None))
    shown = errors_of(response.get_data(as_text=True))
    assert "Por favor, escriba su nombre." in shown, shown
