"""Text messages: consent, the confirmation and reminder through the outbox to a Twilio-style
provider on loopback, STOP / START / HELP replies and delivery reports (signed), and what
staff see and send. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import niquests
import pytest
from sqlalchemy import select

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.mail import texts
from app.mail.delivery import deliver_due
from app.models import Booking, OutboxMessage, SmsOptOut, SmsReply, WaitlistEntry, utcnow
from app.sms.service import signature
from tests.conftest import csrf_token, future_day, local_dt, make_booking, make_slot
from tests.fixtures_sms import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, MESSAGES_PATH, basic_auth
from tests.fixtures_staff import signed_in_client, staff_post

PHONE = "+19705550123"
HEALTH = re.compile(r"\b(tms|ketamine|depression|treatment)\b", re.IGNORECASE)


@pytest.fixture
def app_settings(sms_provider, tmp_path):
    return sms_provider.settings(MAIL_CAPTURE_DIR=str(tmp_path / "captured"), DEV_MAIL_VIEWER=True)


@pytest.fixture
def app(any_app):
    return any_app


def texts_queued(kind: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.channel == "sms").order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.execute(query).scalars())


def book_with_texts(slot=None, **fields):
    return make_booking(slot, sms_consent="web", **fields)


# --- consent ---------------------------------------------------------------------------------


def test_the_booking_form_offers_texts_unticked_with_what_to_expect(app):
    # No app context around the requests: each request's language is its own.
    with app.app_context():
        slot_id = make_slot().public_id
    for prefix, words in (
        ("", ("Text me reminders at the number above", "Two texts", "Reply STOP to end them")),
        ("/es", ("Envíeme recordatorios por mensaje de texto al número de arriba", "Dos mensajes", "Responda STOP")),
    ):
        html = app.test_client().get(f"{prefix}/book/{slot_id}").get_data(as_text=True)
        box = re.search(r'<input[^>]*name="sms_consent"[^>]*>', html).group(0)
        assert "checked" not in box
        for word in words:
            assert word in html


def test_no_consent_no_text(ctx, client, sms_provider):
    slot = make_slot()
    html = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "slot_id": slot.public_id,
        "mode": "phone",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "970-555-0123",
        "interest": "tms",
        "consent": "y",
        "started": "",
    }
    assert client.post(f"/book/{slot.public_id}", data=form).status_code == 303
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.sms_consent_at is None and booking.sms_consent_source is None
    assert texts_queued() == []
    deliver_due()
    assert sms_provider.requests == []


def test_consent_is_stored_with_its_time_and_source_from_every_form(ctx, client):
    slot = make_slot()
    html = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "slot_id": slot.public_id,
        "mode": "phone",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "970-555-0123",
        "interest": "tms",
        "consent": "y",
        "sms_consent": "y",
        "started": "",
    }
    assert client.post(f"/book/{slot.public_id}", data=form).status_code == 303

    api_slot = make_slot()
    answer = client.post(
        "/api/v1/bookings",
        json={
            "slot_id": api_slot.public_id,
            "mode": "phone",
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "phone": "970-555-0142",
            "interest": "not_sure",
            "consent": True,
            "sms_consent": True,
        },
    )
    assert answer.status_code == 201 and answer.get_json()["booking"]["sms_consent"] is True
    refused = client.post(
        "/api/v1/bookings",
        json={
            "slot_id": api_slot.public_id,
            "mode": "phone",
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "phone": "970-555-0142",
            "interest": "not_sure",
            "consent": True,
            "sms_consent": "yes",
        },
    )
    assert refused.status_code == 422 and "sms_consent" in refused.get_json()["error"]["fields"]

    desk = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    staff_slot = make_slot()
    made = staff_post(
        desk,
        f"/staff/bookings/new?slot={staff_slot.public_id}",
        {
            "slot_id": staff_slot.public_id,
            "mode": "phone",
            "name": "Alan Turing",
            "email": "alan@example.com",
            "phone": "970-555-0177",
            "interest": "tms",
            "note": "",
            "locale": "es",
            "consent": "y",
            "sms_consent": "y",
        },
        token_from=f"/staff/bookings/new?slot={staff_slot.public_id}",
    )
    assert made.status_code == 303

    today = future_day(0)
    joined = client.post(
        "/api/v1/waitlist",
        json={
            "name": "Mary Somerville",
            "email": "mary@example.com",
            "phone": "970-555-0188",
            "consent": True,
            "sms_consent": True,
            "earliest": today.isoformat(),
            "latest": (today + timedelta(days=9)).isoformat(),
        },
    )
    assert joined.status_code == 201 and joined.get_json()["entry"]["sms_consent"] is True

    db.session.expire_all()
    sources = {
        b.email: (b.sms_consent_source, b.sms_consent_at is not None)
        for b in db.session.execute(select(Booking)).scalars()
    }
    assert sources == {
        "ada@example.com": ("web", True),
        "grace@example.com": ("api", True),
        "alan@example.com": ("staff", True),
    }
    entry = db.session.execute(select(WaitlistEntry)).scalar_one()
    assert entry.sms_consent_source == "api" and entry.sms_consent_at is not None
    assert {m.to_address for m in texts_queued("confirmation")} == {"+19705550123", "+19705550142", "+19705550177"}


def test_the_waiting_list_form_carries_consent_to_the_booking_an_offer_makes(ctx, client):
    from app.waitlist import claims

    html = client.get("/waitlist").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="sms_consent"[^>]*>', html).group(0)
    assert "checked" not in box and "Reply STOP to end them" in html
    today = future_day(0)
    answer = client.post(
        "/waitlist",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            "name": "Mary Somerville",
            "email": "mary@example.com",
            "phone": "970-555-0188",
            "earliest": today.isoformat(),
            "latest": (today + timedelta(days=9)).isoformat(),
            "consent": "y",
            "sms_consent": "y",
        },
    )
    assert answer.status_code == 303
    entry = db.session.execute(select(WaitlistEntry)).scalar_one()
    assert entry.sms_consent_source == "web"
    details = claims.booking_service.PatientDetails(
        name=entry.name,
        email=entry.email,
        phone=entry.phone,
        interest="not_sure",
        sms_consent="waitlist" if entry.sms_consent_at else None,
    )
    made = service.book(make_slot().public_id, "phone", details, actor=THE_PATIENT)
    assert made.booking.sms_consent_source == "waitlist"


# --- what is sent, and how -------------------------------------------------------------------


def test_a_confirmation_text_reaches_the_provider_field_by_field(ctx, client, sms_provider):
    made = book_with_texts()
    deliver_due()
    assert len(sms_provider.requests) == 1
    request = sms_provider.requests[0]
    assert request.method == "POST" and request.path == MESSAGES_PATH
    assert request.authorization == basic_auth(ACCOUNT_SID, AUTH_TOKEN)
    assert request.content_type.startswith("application/x-www-form-urlencoded")
    assert set(request.form) == {"To", "From", "Body", "StatusCallback"}
    assert request.form["To"] == PHONE
    assert request.form["From"] == FROM_NUMBER
    assert request.form["StatusCallback"] == "http://localhost/sms/status"
    body = request.form["Body"]
    assert body.startswith("Mindset: booked for ")
    assert body.endswith(" Reply STOP to opt out.")
    assert "MST" in body or "MDT" in body
    assert not HEALTH.search(body)
    assert texts.is_gsm7(body) and len(body) <= 160 and texts.segments(body) == 1
    link = re.search(r"http://localhost(/m/[\w-]+)", body).group(1)
    assert link == f"/m/{made.manage_token}"
    opened = client.get(link)
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/manage/{made.manage_token}")
    [sent] = texts_queued("confirmation")
    assert sent.status == "sent" and sent.provider_id.startswith("SM") and sent.body_text == body


def test_a_messaging_service_replaces_the_from_number(sms_provider, database_url):
    from tests.conftest import build_app, dispose

    app = build_app(database_url, sms_provider.settings(TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32))
    try:
        with app.app_context():
            book_with_texts()
            deliver_due()
        form = sms_provider.requests[0].form
        assert form["MessagingServiceSid"] == "MG" + "1" * 32 and "From" not in form
    finally:
        dispose(app)


@pytest.mark.parametrize("base", ["http://localhost", "https://book.mindset-clinic.example"])
def test_every_text_is_one_short_segment_in_both_languages_with_no_health_words(ctx, base):
    ctx.config["PUBLIC_BASE_URL"] = base
    slot = make_slot(local_dt(future_day(5), 15, 30))
    for locale in ("en", "es"):
        made = book_with_texts(slot, locale=locale, email=f"{locale}@example.com")
        rows = texts_queued()
        bodies = {}
        for row in rows:
            if row.booking_id != made.booking.id:
                continue
            # A reminder is sent the day before (REMINDER_HOURS_BEFORE) or, late, on the day.
            moments = (
                (utcnow(),)
                if row.kind == "confirmation"
                else (slot.starts_at - timedelta(hours=24), slot.starts_at - timedelta(hours=3))
            )
            for sent_at in moments:
                from app.mail import rendering

                event = __import__("json").loads(row.event)
                body = texts.render(row.kind, event, sent_at, locale)
                bodies[(row.kind, sent_at)] = body
                assert texts.is_gsm7(body), body
                assert len(body) <= 160, (len(body), body)
                assert not HEALTH.search(body), body
                assert rendering.message_locale(row.kind, event) == locale
        assert len(bodies) == 3
        service.cancel(made.booking.public_id, actor=THE_PATIENT)
    spanish = texts.render(
        "reminder",
        {"booking": {"starts_at": slot.starts_at.isoformat(), "locale": "es"}, "sms_link": None},
        slot.starts_at - timedelta(hours=24),
        "es",
    )
    assert spanish.startswith("Mindset: su consulta es mañana a las ")


def test_gsm7_counting():
    assert texts.segments("a" * 160) == 1 and texts.segments("a" * 161) == 2
    assert texts.segments("€" * 80) == 1 and texts.segments("€" * 81) == 2  # extension: two each
    assert texts.segments("á" * 70) == 1 and texts.segments("á" * 71) == 2  # UCS-2
    assert texts.to_gsm7("mié, 9 dic, 10:00\u202fa.\u00a0m. sábado") == "mié, 9 dic, 10:00 a. m. sabado"


def test_the_reminder_is_texted_once_the_day_before(ctx, sms_provider):
    slot = make_slot(local_dt(future_day(4), 10))
    book_with_texts(slot)
    deliver_due()
    assert len(sms_provider.accepted) == 1
    deliver_due(now=slot.starts_at - timedelta(hours=25))
    assert len(sms_provider.accepted) == 1
    deliver_due(now=slot.starts_at - timedelta(hours=23))
    deliver_due(now=slot.starts_at - timedelta(hours=1))
    assert len(sms_provider.accepted) == 2
    assert "Mindset: reminder for tomorrow at 10:00 AM M" in sms_provider.accepted[1].form["Body"]


def test_at_most_one_automatic_text_a_day(ctx, sms_provider):
    # Booked at 7:00 for tomorrow 10:00: the reminder would fall at 10:00 today, the day of
    # the confirmation, so it is withdrawn.
    slot = make_slot(local_dt(future_day(4), 10))
    booked_at = slot.starts_at - timedelta(hours=27)
    from app.booking import service as booking_service
    from tests.conftest import patient

    booking_service.book(slot.public_id, "phone", patient(sms_consent="web"), booked_at, actor=THE_PATIENT)
    deliver_due(now=booked_at)
    deliver_due(now=slot.starts_at - timedelta(hours=23))
    assert len(sms_provider.accepted) == 1
    [reminder] = texts_queued("reminder")
    assert reminder.status == "cancelled" and "already had a text today" in reminder.last_error


def test_a_cancelled_or_moved_booking_is_not_reminded_of_the_old_time(ctx, sms_provider):
    slot = make_slot(local_dt(future_day(4), 10))
    made = book_with_texts(slot)
    deliver_due()
    later = make_slot(local_dt(future_day(6), 11))
    service.reschedule(made.booking.public_id, later.public_id, actor=THE_PATIENT)
    deliver_due(now=slot.starts_at - timedelta(hours=23))
    assert len(sms_provider.accepted) == 1
    deliver_due(now=later.starts_at - timedelta(hours=23))
    assert len(sms_provider.accepted) == 2 and "11:00 AM" in sms_provider.accepted[1].form["Body"]
    service.cancel(made.booking.public_id, actor=THE_PATIENT)
    assert all(m.status != "pending" for m in texts_queued())


def test_a_number_that_cannot_receive_texts_fails_at_once_and_is_reported(ctx, sms_provider):
    sms_provider.invalid_numbers.add(PHONE)
    book_with_texts()
    report = deliver_due()
    assert report.failed == 1
    [text] = texts_queued("confirmation")
    assert text.status == "failed" and text.attempts == 1
    assert "21211" in text.last_error and "cannot receive texts" in text.last_error
    deliver_due(now=utcnow() + timedelta(days=1))
    assert len(sms_provider.requests) == 1, "never retried"


def test_a_landline_is_never_sent_to(ctx, sms_provider):
    # A UK fixed line: phonenumbers knows it cannot take texts.
    book_with_texts(phone="+442079460000")
    deliver_due()
    assert sms_provider.requests == []
    [text] = texts_queued("confirmation")
    assert text.status == "failed" and "landline" in text.last_error


def test_a_provider_outage_loses_nothing_and_sends_nothing_twice(ctx, sms_provider):
    for number in range(3):
        book_with_texts(email=f"p{number}@example.com", phone=f"+1970555014{number}")
    t0 = utcnow()
    sms_provider.outage = 1
    report = deliver_due(now=t0)
    # The provider is down: the first text's 503 holds back the rest of its batch too, and
    # the emails go out regardless.
    assert report.retrying == 3 and report.sent >= 6
    assert sms_provider.accepted == []
    assert deliver_due(now=t0 + timedelta(seconds=30)).sent == 0  # backing off
    assert deliver_due(now=t0 + timedelta(minutes=2)).sent == 3
    assert deliver_due(now=t0 + timedelta(hours=7)).sent == 0
    assert sorted(r.form["To"] for r in sms_provider.accepted) == ["+19705550140", "+19705550141", "+19705550142"]
    assert {m.status for m in texts_queued("confirmation")} == {"sent"}


def test_unreachable_provider_and_timeouts_are_retried_with_backoff(ctx, sms_provider, monkeypatch):
    book_with_texts()
    t0 = utcnow()
    ctx.config["TWILIO_API_BASE"] = "http://127.0.0.1:9"  # nothing listens: connection refused
    deliver_due(now=t0)
    [text] = texts_queued("confirmation")
    assert text.status == "pending" and text.attempts == 1 and text.next_attempt_at > t0
    ctx.config["TWILIO_API_BASE"] = sms_provider.url

    def times_out(*args, **kwargs):
        raise niquests.ReadTimeout("no answer")

    monkeypatch.setattr(niquests.Session, "post", times_out)
    deliver_due(now=t0 + timedelta(minutes=2))
    [text] = texts_queued("confirmation")
    assert text.attempts == 2 and "ReadTimeout" in text.last_error
    monkeypatch.undo()
    deliver_due(now=t0 + timedelta(minutes=5))
    [text] = texts_queued("confirmation")
    assert text.status == "sent" and len(sms_provider.accepted) == 1


def test_texts_are_captured_locally_without_a_provider(ctx, client, tmp_path):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        ctx.config[name] = ""
    ctx.config["MAIL_CAPTURE_DIR"] = str(tmp_path)
    book_with_texts()
    deliver_due()
    [text] = texts_queued("confirmation")
    captured = tmp_path / f"{text.id}-confirmation.sms.json"
    assert text.status == "sent" and PHONE in captured.read_text()
    listing = client.get("/dev/mail/").get_data(as_text=True)
    assert "Mindset: booked for" in listing


def test_a_resent_confirmation_moves_the_text_reminder_to_the_new_link(ctx, sms_provider):
    slot = make_slot(local_dt(future_day(4), 10))
    made = book_with_texts(slot)
    deliver_due()
    again = service.resend_confirmation(made.booking.public_id, actor=THE_PATIENT)
    reminders = texts_queued("reminder")
    assert [m.status for m in reminders] == ["cancelled", "pending"]
    assert f"/m/{again.manage_token}" in reminders[1].event
    assert len(texts_queued("confirmation")) == 1, "the text confirmation is not sent again"
    deliver_due(now=slot.starts_at - timedelta(hours=23))
    assert f"/m/{again.manage_token}" in sms_provider.accepted[-1].form["Body"]


def test_erasing_a_patient_clears_their_texts_and_replies(ctx, client, sms_provider):
    from app.staff import erase

    made = book_with_texts()
    deliver_due()
    reply(client, "See you then", "SM" + "9" * 32)
    service.cancel(made.booking.public_id, actor=THE_PATIENT)
    erase.erase_patient(made.booking.public_id, None)
    db.session.expire_all()
    assert all(m.to_address == "" and m.body_text == "" for m in texts_queued())
    stored = db.session.execute(select(SmsReply)).scalar_one()
    assert stored.phone == "" and stored.body == ""


# --- replies and delivery reports --------------------------------------------------------------


def webhook(client, path: str, fields: dict, *, token: str = AUTH_TOKEN):
    signed = signature(f"http://localhost{path}", fields.items(), token)
    return client.post(path, data=fields, headers={"X-Twilio-Signature": signed})


def reply(client, body: str, sid: str, number: str = PHONE, **kwargs):
    return webhook(
        client,
        "/sms/inbound",
        {
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": number,
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
        },
        **kwargs,
    )


def test_the_signature_is_the_documented_one():
    # Twilio's documented example (https://www.twilio.com/docs/usage/security).
    fields = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert (
        signature("https://mycompany.com/myapp.php?foo=1&bar=2", fields.items(), "12345")
        == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "  Stop ", "STOPALL", "unsubscribe", "CANCEL", "End", "QUIT", "alto", "PARAR"]
)
def test_a_signed_stop_ends_every_text_to_the_number_at_once(ctx, client, sms_provider, word):
    slot = make_slot(local_dt(future_day(4), 10))
    book_with_texts(slot)
    book_with_texts(make_slot(local_dt(future_day(8), 10)), email="second@example.com")
    deliver_due()
    assert len(sms_provider.accepted) == 2
    answer = reply(client, word, "SM" + "a" * 32)
    assert answer.status_code == 200 and "<Message>" not in answer.get_data(as_text=True)
    assert db.session.get(SmsOptOut, PHONE).keyword == " ".join(word.split()).upper()
    assert {m.status for m in texts_queued("reminder")} == {"cancelled"}
    stored = db.session.execute(select(SmsReply)).scalar_one()
    assert stored.keyword == "stop" and stored.booking_id is not None
    book_with_texts(make_slot(local_dt(future_day(9), 10)), email="third@example.com")
    deliver_due(now=slot.starts_at - timedelta(hours=23))
    assert len(sms_provider.accepted) == 2, "nothing after STOP"


def test_a_forged_or_unsigned_reply_is_refused(ctx, client):
    book_with_texts()
    assert reply(client, "STOP", "SM" + "b" * 32, token="not-the-token").status_code == 403
    assert client.post("/sms/inbound", data={"From": PHONE, "Body": "STOP", "MessageSid": "SM1"}).status_code == 403
    signed = signature(
        "http://localhost/sms/inbound", {"From": PHONE, "Body": "START", "MessageSid": "SM2"}.items(), AUTH_TOKEN
    )
    tampered = client.post(
        "/sms/inbound",
        data={"From": PHONE, "Body": "STOP", "MessageSid": "SM2"},
        headers={"X-Twilio-Signature": signed},
    )
    assert tampered.status_code == 403
    assert db.session.execute(select(SmsOptOut)).first() is None
    assert db.session.execute(select(SmsReply)).first() is None


def test_the_signature_covers_the_public_address_not_the_request_one(ctx, client):
    ctx.config["PUBLIC_BASE_URL"] = "https://book.example.org"
    fields = {"MessageSid": "SM" + "c" * 32, "From": PHONE, "Body": "STOP"}
    by_request_url = signature("http://localhost/sms/inbound", fields.items(), AUTH_TOKEN)
    assert client.post("/sms/inbound", data=fields, headers={"X-Twilio-Signature": by_request_url}).status_code == 403
    by_public_url = signature("https://book.example.org/sms/inbound", fields.items(), AUTH_TOKEN)
    assert client.post("/sms/inbound", data=fields, headers={"X-Twilio-Signature": by_public_url}).status_code == 200


def test_start_resumes_texts(ctx, client, sms_provider):
    reply(client, "STOP", "SM" + "d" * 32)
    book_with_texts()
    deliver_due()
    assert sms_provider.accepted == []
    for word, sid in (("START", "SM" + "e" * 32), ("inicio", "SM" + "f" * 32)):
        reply(client, "STOP", sid + "x")
        assert reply(client, word, sid).status_code == 200
        assert db.session.get(SmsOptOut, PHONE) is None
    book_with_texts(email="again@example.com")
    deliver_due()
    assert len(sms_provider.accepted) == 1


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("HELP", "appointment texts. Questions: +1 970-555-0100. Reply STOP to opt out."),
        ("ayuda", "mensajes de sus consultas. Preguntas: +1 970-555-0100. Responda STOP para no recibir más."),
    ],
)
def test_help_answers_with_the_clinics_name_and_phone(ctx, client, word, expected):
    answer = reply(client, word, "SM" + "1" * 32)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    text = answer.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Mindset: ')
    assert expected.replace("más", "mas") in text and text.endswith("</Message></Response>")


def test_any_other_reply_is_kept_for_staff_beside_the_booking(ctx, client):
    made = book_with_texts()
    assert reply(client, "Running late, sorry <b>!</b>", "SM" + "2" * 32).status_code == 200
    assert reply(client, "Running late, sorry <b>!</b>", "SM" + "2" * 32).status_code == 200  # sent again
    stored = db.session.execute(select(SmsReply)).scalar_one()
    assert stored.keyword is None and stored.booking_id == made.booking.id
    desk = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    page = desk.get(f"/staff/bookings/{made.booking.public_id}").get_data(as_text=True)
    assert "Running late, sorry &lt;b&gt;!&lt;/b&gt;" in page


def test_delivery_reports_update_the_text(ctx, client, sms_provider):
    book_with_texts()
    deliver_due()
    [text] = texts_queued("confirmation")
    report = {"MessageSid": text.provider_id, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID}
    assert webhook(client, "/sms/status", report, token="forged").status_code == 403
    assert webhook(client, "/sms/status", report).status_code == 204
    assert texts_queued("confirmation")[0].provider_status == "delivered"
    # A late 'sent' report never takes a final status back.
    webhook(client, "/sms/status", {**report, "MessageStatus": "sent"})
    assert texts_queued("confirmation")[0].provider_status == "delivered"

    book_with_texts(email="other@example.com", phone="+19705550150")
    deliver_due()
    other = texts_queued("confirmation")[1]
    webhook(
        client, "/sms/status", {"MessageSid": other.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30006"}
    )
    other = texts_queued("confirmation")[1]
    assert other.status == "failed" and other.provider_status == "undelivered" and "30006" in other.last_error


# --- staff -------------------------------------------------------------------------------------


def test_staff_see_the_texts_and_send_a_one_off(ctx, sms_provider):
    made = book_with_texts()
    deliver_due()
    desk = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    path = f"/staff/bookings/{made.booking.public_id}"
    page = desk.get(path).get_data(as_text=True)
    assert "Texts are <strong>on</strong>" in page and "Mindset: booked for" in page
    assert "sent" in page and "Send text" in page

    refused = staff_post(desk, f"{path}/text", {"text": "About your TMS session"}, token_from=path)
    assert refused.status_code == 422
    shown = refused.get_data(as_text=True)
    assert "leave out words about treatment" in shown and 'value="About your TMS session"' in shown
    sent = staff_post(desk, f"{path}/text", {"text": "Running 10 minutes late, sorry."}, token_from=path)
    assert sent.status_code == 303
    deliver_due()
    assert sms_provider.accepted[-1].form["Body"] == "Mindset: Running 10 minutes late, sorry. Reply STOP to opt out."
    assert sms_provider.accepted[-1].form["To"] == PHONE
    page = desk.get(path).get_data(as_text=True)
    assert "From staff" in page and "Sent a text to the patient" in page


def test_staff_cannot_text_a_patient_who_did_not_agree_or_replied_stop(ctx, client, sms_provider):
    silent = make_booking()
    desk = signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    path = f"/staff/bookings/{silent.booking.public_id}"
    page = desk.get(path).get_data(as_text=True)
    assert "Texts are <strong>off</strong>: the patient did not agree" in page and "Send text" not in page
    refused = staff_post(desk, f"{path}/text", {"text": "Hello"}, token_from=path)
    assert refused.status_code == 422 and "did not agree to texts" in refused.get_data(as_text=True)

    agreed = book_with_texts(email="agreed@example.com", phone="+19705550160")
    reply(client, "STOP", "SM" + "3" * 32, number="+19705550160")
    path = f"/staff/bookings/{agreed.booking.public_id}"
    assert "replied STOP" in desk.get(path).get_data(as_text=True)
    refused = staff_post(desk, f"{path}/text", {"text": "Hello"}, token_from=path)
    assert refused.status_code == 422 and "replied STOP" in refused.get_data(as_text=True)
    deliver_due()
    assert all(r.form["To"] != "+19705550160" for r in sms_provider.accepted)


# --- the worker as it runs in production ---------------------------------------------------------


def start_text_worker(database_url: str, provider, capture_dir, *args: str):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, TEST_SETTINGS

    env = {
        **os.environ,
        **TEST_SETTINGS,
        **provider.settings(),
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "",
        "MAIL_CAPTURE_DIR": str(capture_dir),
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def queue_texts(count: int) -> set[str]:
    """`count` bookings that agreed to texts, each with its own number; the numbers."""
    numbers = {f"+1970555{2000 + n}" for n in range(count)}
    for n, number in enumerate(sorted(numbers)):
        book_with_texts(email=f"texted{n}@example.com", phone=number)
    return numbers


def test_two_workers_on_postgresql_never_send_a_text_twice(postgres_url, sms_provider, tmp_path):
    from collections import Counter

    from tests.conftest import build_app, dispose
    from tests.test_mail_worker import stop, wait_until

    app = build_app(postgres_url, sms_provider.settings())
    try:
        with app.app_context():
            numbers = queue_texts(24)
        sms_provider.delay = 0.02
        workers = [
            start_text_worker(postgres_url, sms_provider, tmp_path, "--interval", "0.1", "--batch-size", "3")
            for _ in range(2)
        ]
        try:
            wait_until(
                lambda: {r.form["To"] for r in list(sms_provider.accepted)} >= numbers,
                60,
                "every text to reach the provider",
            )
        finally:
            results = [stop(worker) for worker in workers]
        counts = Counter(r.form["To"] for r in sms_provider.accepted)
        assert set(counts) == numbers and max(counts.values()) == 1
        sent_by = [len(re.findall(r"outbox \d+ \(confirmation\) sent", err)) for _code, err in results]
        assert sum(sent_by) >= len(numbers) and all(n > 0 for n in sent_by), sent_by
        assert [code for code, _err in results] == [0, 0]
        with app.app_context():
            assert {m.status for m in texts_queued("confirmation")} == {"sent"}
    finally:
        dispose(app)


def test_a_worker_killed_mid_batch_loses_no_text(sqlite_url, sms_provider, tmp_path):
    from collections import Counter

    from tests.conftest import build_app, dispose
    from tests.test_mail_worker import stop, wait_until

    app = build_app(sqlite_url, sms_provider.settings())
    try:
        with app.app_context():
            numbers = queue_texts(12)
    finally:
        dispose(app)
    sms_provider.delay = 0.05
    first = start_text_worker(
        sqlite_url, sms_provider, tmp_path, "--interval", "0.2", "--lease", "2", "--batch-size", "4"
    )
    try:
        wait_until(lambda: len(sms_provider.accepted) >= 4, 30, "the first worker to send some texts")
    finally:
        first.kill()
        first.wait()
    assert len(sms_provider.accepted) < 12, "the worker was killed part-way"
    second = start_text_worker(
        sqlite_url, sms_provider, tmp_path, "--interval", "0.2", "--lease", "2", "--batch-size", "4"
    )
    try:
        wait_until(
            lambda: {r.form["To"] for r in list(sms_provider.accepted)} >= numbers,
            60,
            "every text to reach the provider",
        )
    finally:
        code, stderr = stop(second)
    assert code == 0, stderr
    counts = Counter(r.form["To"] for r in sms_provider.accepted)
    assert set(counts) == numbers, "nothing lost"
    # As for mail: at most the text in flight at the kill is sent again.
    assert sum(counts.values()) - len(numbers) <= 1
