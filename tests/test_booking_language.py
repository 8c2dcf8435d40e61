"""A booking remembers the language it was made in (the HTML form's address, the API's
`locale`), and staff see it on the booking and in the export."""

from __future__ import annotations

from sqlalchemy import select

from app.core.config import load_config
from app.core.extensions import db
from app.models import Booking
from app.staff.export import HEADER, rows
from tests.conftest import booking_form, make_booking, make_slot

API_BODY = {
    "mode": "phone",
    "name": "Ana García",
    "email": "ana@example.com",
    "phone": "970-555-0123",
    "interest": "not_sure",
    "consent": True,
}


def only_booking() -> Booking:
    db.session.expire_all()
    return db.session.execute(select(Booking)).scalar_one()


def test_a_booking_made_on_the_spanish_form_is_spanish(ctx, client):
    slot = make_slot()
    html = client.get(f"/es/book/{slot.public_id}").get_data(as_text=True)
    response = client.post(f"/es/book/{slot.public_id}", data=booking_form(html))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/es/manage/")
    assert only_booking().locale == "es"


def test_a_booking_made_on_the_english_form_is_english(ctx, client):
    slot = make_slot()
    html = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
    assert client.post(f"/book/{slot.public_id}", data=booking_form(html)).status_code == 303
    assert only_booking().locale == "en"


def test_the_api_takes_and_returns_the_locale(ctx, client):
    spanish = client.post("/api/v1/bookings", json={**API_BODY, "slot_id": make_slot().public_id, "locale": "es"})
    assert spanish.status_code == 201 and spanish.get_json()["booking"]["locale"] == "es"
    english = client.post(
        "/api/v1/bookings", json={**API_BODY, "email": "bo@example.com", "slot_id": make_slot().public_id}
    )
    assert english.status_code == 201 and english.get_json()["booking"]["locale"] == "en"
    token = spanish.get_json()["manage_token"]
    assert client.get(f"/api/v1/bookings/{token}").get_json()["booking"]["locale"] == "es"


def test_the_api_refuses_an_unknown_locale(ctx, client):
    for bad in ("fr", "ES", 1, None):
        response = client.post("/api/v1/bookings", json={**API_BODY, "slot_id": make_slot().public_id, "locale": bad})
        assert response.status_code == 422, bad
        assert "locale" in response.get_json()["error"]["fields"]


def test_the_openapi_document_describes_the_locale(ctx, client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["BookingRequest"]["properties"]["locale"]["enum"] == ["en", "es"]
    assert "locale" in schemas["Booking"]["properties"]


def test_the_export_has_a_language_column(ctx):
    make_booking(locale="es", email="ana@example.com")
    make_booking(email="bo@example.com")
    table = list(rows(list(db.session.execute(select(Booking).order_by(Booking.id)).scalars())))
    column = HEADER.index("Language")
    assert [row[column] for row in table[1:]] == ["Español", "English"]


def test_staff_see_the_language_on_the_booking_and_in_the_list(ctx):
    from tests.fixtures_staff import signed_in_client

    spanish = make_booking(locale="es", name="Ana García", email="ana@example.com").booking
    staff = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    detail = staff.get(f"/staff/bookings/{spanish.public_id}").get_data(as_text=True)
    assert "<dt>Language</dt>" in detail and "Español" in detail
    listing = staff.get("/staff/bookings").get_data(as_text=True)
    assert "Español" in listing


def test_the_arrival_note_is_in_the_language_the_patient_booked_in(app, client):
    # Each request gets its own app context here (no `ctx`), so nothing of one request's
    # language is left for the next.
    notes = {"en": app.config["CLINIC_ARRIVAL_NOTE"], "es": app.config["CLINIC_ARRIVAL_NOTE_ES"]}
    assert notes["en"] and notes["es"] and notes["en"] != notes["es"]
    for language, other in (("es", "en"), ("en", "es")):
        prefix = "/es" if language == "es" else ""
        with app.app_context():
            slot_id = make_slot().public_id
        html = client.get(f"{prefix}/book/{slot_id}").get_data(as_text=True)
        response = client.post(
            f"{prefix}/book/{slot_id}", data=booking_form(html, mode="in_person", email=f"{language}@example.com")
        )
        confirmed = client.get(response.headers["Location"]).get_data(as_text=True)
        assert notes[language] in confirmed and notes[other] not in confirmed, language


def test_a_clinic_that_writes_only_the_english_arrival_note_shows_it_in_spanish_too(monkeypatch):
    monkeypatch.setenv("CLINIC_ARRIVAL_NOTE", "Park on 8th Avenue and ring the bell.")
    monkeypatch.delenv("CLINIC_ARRIVAL_NOTE_ES", raising=False)
    assert load_config()["CLINIC_ARRIVAL_NOTE_ES"] == ""  # the Spanish sample is not shown
    monkeypatch.setenv("CLINIC_ARRIVAL_NOTE_ES", "Estacione en la Avenida 8 y toque el timbre.")
    assert load_config()["CLINIC_ARRIVAL_NOTE_ES"] == "Estacione en la Avenida 8 y toque el timbre."
