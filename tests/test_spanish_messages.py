"""A booking made in Spanish gets every message in Spanish, whoever triggers it (the patient,
staff, the worker): subject, bodies and invite, through a real SMTP server, and the invite is
still one a CalDAV server (Radicale) accepts. Staff notices stay in English."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import vobject
from sqlalchemy import select

from app.booking import service
from app.core.actors import Actor
from app.core.extensions import db
from app.mail import rendering
from app.mail.delivery import deliver_due
from app.models import Booking
from tests.conftest import booking_form, make_booking, make_slot
from tests.fixtures_mail import calendar_text, unfolded
from tests.fixtures_staff import signed_in_client, staff_post
from tests.test_radicale import Radicale

ANA = "ana@example.com"
STAFF = "staff@mindset-tms.example"
# Health words, in both languages, that no email or invite may carry.
HEALTH_WORDS = (
    "ketamine",
    "ketamina",
    "depression",
    "depresión",
    "sertraline",
    "sertralina",
    "tms therapy",
    "terapia",
    "estimulación magnética",
    "interest",
    "interés",
    "phq",
)
NOTE = "Depresión desde hace meses, probé sertralina"


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_TIMEOUT_SECONDS": 5}


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    server = Radicale(tmp_path_factory.mktemp("radicale-es"))
    yield server
    server.stop()


def text_of(message, subtype: str) -> str:
    return next(p for p in message.walk() if p.get_content_type() == f"text/{subtype}").get_content()


def readable(text: str) -> str:
    """Babel writes 'a. m.' with a narrow no-break space; compare as a reader sees it."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def the_booking() -> Booking:
    db.session.expire_all()
    return db.session.execute(select(Booking).order_by(Booking.id.desc())).scalars().first()


def assert_spanish_invite(calendar: str) -> None:
    event = vobject.readOne(calendar, validate=True).vevent
    assert event.summary.value == "Consulta – Mindset TMS"
    assert event.description.value.startswith("Su consulta con Mindset TMS.")
    assert "Número de referencia:" in event.description.value
    assert "Si está en crisis, llame al 988 y marque 2 para hablar en español" in event.description.value


def assert_no_health_words(*texts: str) -> None:
    everything = " ".join(texts).lower()
    for word in HEALTH_WORDS:
        assert word not in everything, word


def book_in_spanish_through_the_site(client, slot, **fields) -> str:
    html = client.get(f"/es/book/{slot.public_id}").get_data(as_text=True)
    assert 'lang="es"' in html or "Reserve su consulta gratuita" in html
    response = client.post(f"/es/book/{slot.public_id}", data=booking_form(html, **fields))
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/es/manage/")
    return re.search(r"/manage/([A-Za-z0-9_-]+)/confirmed", location).group(1)


def test_a_spanish_booking_on_the_site_gets_a_spanish_confirmation_and_invite(ctx, client, smtp_server, radicale):
    slot = make_slot()
    token = book_in_spanish_through_the_site(
        client, slot, name="Ana García", email=ANA, mode="in_person", interest="ketamine", note=NOTE
    )
    deliver_due()
    [received] = smtp_server.to(ANA)
    message = received.message
    assert message["Subject"] == "Su consulta está reservada – Mindset TMS"
    plain, html = readable(text_of(message, "plain")), readable(text_of(message, "html"))
    assert plain.startswith("Hola, Ana:")
    assert "Su consulta gratuita con Mindset TMS está reservada." in plain
    assert "(hora de Colorado)" in plain and ("a. m." in plain or "p. m." in plain)
    assert f"http://localhost/es/manage/{token}" in plain and f"http://localhost/es/manage/{token}" in html
    assert 'lang="es"' in html and "Administrar mi consulta" in html
    assert "No es para emergencias." in plain and "988" in html
    # In person: the directions to the door are the clinic's Spanish ones.
    assert ctx.config["CLINIC_ARRIVAL_NOTE_ES"] in plain and ctx.config["CLINIC_ARRIVAL_NOTE_ES"] in html
    assert ctx.config["CLINIC_ARRIVAL_NOTE"] not in plain
    calendar = calendar_text(message)
    assert_spanish_invite(calendar)
    assert f"/es/manage/{token}" in " ".join(unfolded(calendar))
    assert_no_health_words(message.as_string(), plain, html, " ".join(unfolded(calendar)))

    collection = radicale.new_calendar("es-site")
    resource = collection + the_booking().public_id + ".ics"
    created = radicale.request(
        "PUT",
        resource,
        data=calendar.encode("utf-8"),
        headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
    )
    assert created.status_code == 201, created.text
    [stored] = radicale.events(collection)
    assert stored.summary.value == "Consulta – Mindset TMS"
    assert stored.description.value.startswith("Su consulta con Mindset TMS.")


def test_an_api_booking_in_spanish_gets_spanish_mail_and_invite(ctx, client, smtp_server, radicale):
    slot = make_slot()
    response = client.post(
        "/api/v1/bookings",
        json={
            "slot_id": slot.public_id,
            "mode": "phone",
            "name": "Ana García",
            "email": ANA,
            "phone": "970-555-0123",
            "interest": "ketamine",
            "note": NOTE,
            "consent": True,
            "locale": "es",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["manage_url"] == f"http://localhost/es/manage/{body['manage_token']}"
    deliver_due()
    [received] = smtp_server.to(ANA)
    message = received.message
    assert message["Subject"] == "Su consulta está reservada – Mindset TMS"
    plain = readable(text_of(message, "plain"))
    assert "Le llamaremos al número de teléfono que nos dio." in plain
    assert "Cómo: Llamada telefónica" in plain
    calendar = calendar_text(message)
    assert_spanish_invite(calendar)
    assert vobject.readOne(calendar).vevent.location.value == "Llamada telefónica"
    assert_no_health_words(message.as_string(), plain, text_of(message, "html"), " ".join(unfolded(calendar)))
    collection = radicale.new_calendar("es-api")
    created = radicale.request(
        "PUT",
        collection + body["booking"]["id"] + ".ics",
        data=calendar.encode("utf-8"),
        headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
    )
    assert created.status_code == 201, created.text


def test_staff_moving_a_spanish_booking_sends_the_update_in_spanish(ctx, smtp_server):
    booking = make_booking(locale="es", name="Ana García", email=ANA, mode="video").booking
    deliver_due()
    target = make_slot()
    staff = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    url = f"/staff/bookings/{booking.public_id}/move/{target.public_id}"
    moved = staff_post(staff, url, {"mode": "video"}, token_from=url)
    assert moved.status_code == 303
    assert "Moved to" in staff.get(moved.headers["Location"]).get_data(as_text=True)  # staff: English
    deliver_due()
    update = smtp_server.to(ANA)[-1].message
    assert update["Subject"] == "Su consulta cambió de horario – Mindset TMS"
    plain = readable(text_of(update, "plain"))
    assert "Hola, Ana:" in plain and "Antes era:" in plain and "(hora de Colorado)" in plain
    calendar = calendar_text(update)
    assert_spanish_invite(calendar)
    assert vobject.readOne(calendar).vevent.sequence.value == "1"
    # The clinic's own notices stay in the staff's language.
    notices = smtp_server.to(STAFF)
    assert str(notices[-1].message["Subject"]).startswith("Consultation moved: ")
    assert "Who:" in text_of(notices[-1].message, "plain")


def test_the_reminder_and_the_cancellation_are_in_spanish(ctx, smtp_server):
    result = make_booking(locale="es", name="Ana García", email=ANA, mode="in_person")
    slot = result.booking.slot
    deliver_due()
    deliver_due(now=slot.starts_at - timedelta(hours=23))
    reminder = smtp_server.to(ANA)[-1].message
    assert str(reminder["Subject"]).startswith("Recordatorio: su consulta ")
    plain = readable(text_of(reminder, "plain"))
    assert "Le recordamos su consulta con Mindset TMS." in plain
    assert f"/es/manage/{result.manage_token}" in plain
    service.cancel(result.booking.public_id, actor=Actor("staff"), message="Lo sentimos, la doctora está enferma.")
    deliver_due(now=slot.starts_at - timedelta(hours=22))
    cancellation = smtp_server.to(ANA)[-1].message
    assert cancellation["Subject"] == "Su consulta está cancelada – Mindset TMS"
    plain = readable(text_of(cancellation, "plain"))
    assert "Un mensaje de la clínica:" in plain and "http://localhost/es/book" in plain
    assert vobject.readOne(calendar_text(cancellation)).vevent.status.value == "CANCELLED"


def test_an_english_booking_still_gets_english_words(ctx, smtp_server):
    make_booking(name="Ada Lovelace", email="ada@example.com")
    deliver_due()
    message = smtp_server.to("ada@example.com")[0].message
    assert message["Subject"] == "Your consultation is booked – Mindset TMS"
    assert "Hello Ada," in text_of(message, "plain") and "/es/" not in text_of(message, "plain")


def test_a_waiting_list_offer_is_written_in_the_entry_language(ctx):
    slot = make_slot()
    event = {
        "name": "Ana García",
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "modes": ["phone", "video"],
        "claim_url": "http://localhost/es/offers/tok",
        "expires_at": (slot.starts_at - timedelta(hours=30)).isoformat(),
        "locale": "es",
    }
    rendered = rendering.render_event(rendering.OFFER, json.loads(json.dumps(event)), slot.starts_at)
    assert rendered.subject == "Se liberó un horario de consulta más pronto"
    text = readable(rendered.text)
    assert text.startswith("Hola, Ana:") and "Llamada telefónica, Videollamada" in text
    assert "hora de Colorado" in text and "Denver" not in text


def test_manage_pages_follow_the_booking_language(ctx, client):
    result = make_booking(locale="es", email=ANA)
    token = result.manage_token
    response = client.get(f"/manage/{token}")
    assert response.status_code == 302 and response.headers["Location"] == f"/es/manage/{token}"
    page = client.get(f"/es/manage/{token}").get_data(as_text=True)
    assert "Su consulta" in page and "Cambiar a otro horario" in page
    assert client.get(f"/manage/{token}/reschedule").headers["Location"] == f"/es/manage/{token}/reschedule"
    # Someone who chose English with the language switch gets the English page.
    client.get(f"/language/en?next=/es/manage/{token}")
    assert client.get(f"/manage/{token}").status_code == 200
    # An English booking opened at the Spanish address goes to English.
    english = make_booking(email="bo@example.com")
    fresh = ctx.test_client()
    assert fresh.get(f"/es/manage/{english.manage_token}").headers["Location"] == f"/manage/{english.manage_token}"


def test_switching_language_on_the_form_keeps_the_slot_and_what_was_typed(app, client):
    # No app context held across requests here: each request gets its own, as in production
    # (Flask-Babel remembers the language on the app context).
    with app.app_context():
        slot_id = make_slot().public_id
    english = client.get(f"/book/{slot_id}").get_data(as_text=True)
    assert "Book your free consultation" in english
    # The language switch on the form page leads to the same form, in Spanish, for the same slot.
    switched = client.get(f"/language/es?next=/book/{slot_id}%3Fmode%3Dphone")
    assert switched.headers["Location"] == f"/es/book/{slot_id}?mode=phone"
    spanish_page = client.get(switched.headers["Location"])
    spanish = spanish_page.get_data(as_text=True)
    assert spanish_page.status_code == 200
    assert "Reserve su consulta gratuita" in spanish and slot_id in spanish
    # What was typed on the English page, sent to the Spanish address, is kept when it needs fixing...
    typed = booking_form(english, name="Ana García", email=ANA, phone="12")
    fix = client.post(f"/es/book/{slot_id}", data=typed)
    assert fix.status_code == 422
    page = fix.get_data(as_text=True)
    assert "Parece que ese número de teléfono está incompleto." in page
    assert 'value="Ana García"' in page and f'value="{ANA}"' in page
    # ...and books in Spanish once it is right.
    done = client.post(f"/es/book/{slot_id}", data={**typed, "phone": "970-555-0123"})
    assert done.status_code == 303
    with app.app_context():
        assert the_booking().locale == "es"


def test_spanish_pages_show_spanish_dates_and_labels(ctx, client):
    slot = make_slot()
    picker = readable(client.get("/es/book").get_data(as_text=True))
    assert "Elija un día" in picker and "¿Cómo prefiere que nos reunamos?" in picker
    form = readable(client.get(f"/es/book/{slot.public_id}").get_data(as_text=True))
    assert "En persona en la clínica" in form and "Nombre completo" in form
    assert re.search(r"(lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d+ de \w+ de \d{4}", form)


def test_the_repeated_autumn_hour_says_which_one_in_spanish_email(ctx):
    """1:00 a. m. happens twice on the first Sunday of November; English says MDT or MST,
    Spanish names daylight or standard time."""
    from datetime import UTC, datetime

    def offer_text(starts_at: datetime, locale: str) -> str:
        event = {
            "name": "Ana",
            "starts_at": starts_at.isoformat(),
            "ends_at": (starts_at + timedelta(minutes=30)).isoformat(),
            "modes": ["phone"],
            "claim_url": "http://localhost/es/offers/x",
            "expires_at": starts_at.isoformat(),
            "locale": locale,
        }
        return rendering.render_event(rendering.OFFER, event, starts_at).text

    first, second = datetime(2027, 11, 7, 7, tzinfo=UTC), datetime(2027, 11, 7, 8, tzinfo=UTC)
    assert "1:00 AM MDT" in offer_text(first, "en") and "1:00 AM MST" in offer_text(second, "en")
    daylight, standard = offer_text(first, "es"), offer_text(second, "es")
    assert re.search(r"1:00\sa\.\sm\. \(hora de Colorado, horario de verano\)", daylight), daylight
    assert re.search(r"1:00\sa\.\sm\. \(hora de Colorado, horario estándar\)", standard), standard
    assert "Denver" not in daylight + standard
    # Any other hour names the zone in the same words, once.
    assert "(hora de Colorado)" in offer_text(datetime(2027, 11, 8, 16, tzinfo=UTC), "es")
