"""The waiting list end to end on SQLite and PostgreSQL: joining, offering freed slots,
claiming (races included), expiry, withdrawal and the worker stopped mid-way."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.mail.delivery import deliver_due
from app.models import Booking, FreedSlot, OutboxMessage, WaitlistEntry, WaitlistOffer, utcnow
from app.waitlist import claims
from app.waitlist.offering import offer_freed_slots
from tests.conftest import DENVER, future_day, local_dt, make_booking, make_slot

HEALTH_WORDS = (
    "tms",
    "ketamine",
    "depress",
    "anxiety",
    "treatment",
    "therapy",
    "medication",
    "diagnos",
    "symptom",
    "mental",
    "psychiat",
    "brain",
    "magnetic",
    "suicid",
    "crisis",
    "health",
)


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_TIMEOUT_SECONDS": 5}


def join_body(n: int = 0, **fields) -> dict:
    today = future_day(0)
    body = {
        "name": f"Person {n}",
        "email": f"p{n}@example.com",
        "phone": "970-555-0123",
        "consent": True,
        "earliest": today.isoformat(),
        "latest": (today + timedelta(days=20)).isoformat(),
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def join(client, n: int = 0, **fields) -> dict:
    response = client.post("/api/v1/waitlist", json=join_body(n, **fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def free_a_slot(slot=None, **booking_fields):
    """A slot booked and then cancelled: freed, as the booking service records it."""
    result = make_booking(slot or make_slot(), email=booking_fields.pop("email", "owner@example.com"), **booking_fields)
    service.cancel(result.booking.public_id, actor=THE_PATIENT)
    return result.booking.slot


def offer_tokens(email: str | None = None) -> list[str]:
    """The claim tokens in the queued offer emails (to `email`), oldest first."""
    db.session.commit()  # a fresh read: other threads may have written
    query = select(OutboxMessage).where(OutboxMessage.kind == "offer").order_by(OutboxMessage.id)
    if email:
        query = query.where(OutboxMessage.to_address == email)
    tokens = []
    for message in db.session.execute(query).scalars():
        url = (
            json.loads(message.event)["claim_url"]
            if message.event
            else message.body_text.split("/offers/")[1].split()[0]
        )
        tokens.append(url.rsplit("/", 1)[-1])
    return tokens


def offers_by_status() -> Counter:
    db.session.commit()  # a fresh read: other threads may have written
    return Counter(db.session.execute(select(WaitlistOffer.status)).scalars())


# --- joining and managing --------------------------------------------------------------


def test_join_look_up_and_leave_through_the_api(ctx, client):
    made = join(client, weekdays=[5, 1], parts_of_day=["morning"], modes=["video"], locale="es")
    entry = made["entry"]
    assert entry["status"] == "waiting" and entry["weekdays"] == [1, 5] and entry["modes"] == ["video"]
    assert entry["locale"] == "es" and entry["booking_id"] is None
    stored = db.session.execute(select(WaitlistEntry)).scalar_one()
    assert made["token"] not in stored.token_hash and len(made["token"]) >= 32
    assert client.get(f"/api/v1/waitlist/{made['token']}").get_json()["entry"]["id"] == entry["id"]
    left = client.post(f"/api/v1/waitlist/{made['token']}/leave")
    assert left.status_code == 200 and left.get_json()["entry"]["status"] == "left"
    assert client.get("/api/v1/waitlist/" + "x" * 32).status_code == 404
    assert client.post("/api/v1/waitlist/" + "x" * 32 + "/leave").status_code == 404


def test_join_refuses_bad_fields_with_field_errors(ctx, client):
    response = client.post(
        "/api/v1/waitlist",
        json={
            "name": "",
            "email": "not-an-email",
            "phone": "12",
            "consent": False,
            "earliest": "2027-13-01",
            "latest": "tomorrow",
            "weekdays": [0, 8],
            "parts_of_day": ["night"],
            "modes": ["fax"],
            "locale": "fr",
        },
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {
        "name",
        "email",
        "phone",
        "consent",
        "earliest",
        "latest",
        "weekdays",
        "parts_of_day",
        "modes",
        "locale",
    }
    past = (future_day(0) - timedelta(days=2)).isoformat()
    response = client.post("/api/v1/waitlist", json=join_body(latest=past, earliest=past))
    assert response.get_json()["error"]["fields"] == {
        "latest": "The latest date has already passed. Please choose a later one."
    }


def test_the_waitlist_api_refuses_what_its_document_calls_invalid_and_ignores_unknown_fields(ctx, client):
    week_date = client.post("/api/v1/waitlist", json=join_body(earliest="2026-W50-1", weekdays=[True]))
    assert week_date.status_code == 422
    assert set(week_date.get_json()["error"]["fields"]) == {"earliest", "weekdays"}
    entry = join(client, note="ignored")
    ended = client.post(f"/api/v1/waitlist/{entry['token']}/leave")
    assert ended.status_code == 200
    # The body's shape is checked before the entry's state.
    bad_body = client.patch(f"/api/v1/waitlist/{entry['token']}", json={"modes": "phone"})
    assert bad_body.status_code == 422 and set(bad_body.get_json()["error"]["fields"]) == {"modes"}
    assert client.patch(f"/api/v1/waitlist/{entry['token']}", json={"modes": ["phone"]}).status_code == 410


def test_a_change_through_the_api_keeps_the_queue_place_and_the_new_choices_match(ctx, client):
    ctx.config["WAITLIST_OFFERS_PER_SLOT"] = 1
    day = future_day(3)
    other_day = day.isoweekday() % 7 + 1
    first = join(client, 0, weekdays=[other_day], modes=["video"])
    join(client, 1)
    before = db.session.execute(select(WaitlistEntry).where(WaitlistEntry.email == "p0@example.com")).scalar_one()
    joined_at, earliest, latest = before.created_at, before.earliest, before.latest
    changed = client.patch(
        f"/api/v1/waitlist/{first['token']}", json={"weekdays": [day.isoweekday()], "parts_of_day": ["morning"]}
    )
    assert changed.status_code == 200, changed.get_json()
    entry = changed.get_json()["entry"]
    assert entry["weekdays"] == [day.isoweekday()] and entry["parts_of_day"] == ["morning"]
    assert entry["modes"] == ["video"]  # left out: unchanged
    assert entry["earliest"] == earliest.isoformat() and entry["latest"] == latest.isoformat()
    db.session.commit()  # a fresh read
    after = db.session.execute(select(WaitlistEntry).where(WaitlistEntry.email == "p0@example.com")).scalar_one()
    assert after.created_at == joined_at
    free_a_slot(make_slot(local_dt(day, 10)))
    offer_freed_slots()
    # Still first in line, and the new day now fits: the one offer is theirs.
    assert len(offer_tokens("p0@example.com")) == 1 and offer_tokens("p1@example.com") == []


def test_a_change_with_bad_fields_gives_field_errors_and_changes_nothing(ctx, client):
    made = join(client, 0, weekdays=[2], modes=["phone"])
    shown = client.get(f"/api/v1/waitlist/{made['token']}").get_json()["entry"]
    response = client.patch(
        f"/api/v1/waitlist/{made['token']}",
        json={"weekdays": [0, 8], "parts_of_day": "morning", "modes": ["fax"], "earliest": "2027-13-01"},
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"weekdays", "parts_of_day", "modes", "earliest"}
    response = client.patch(
        f"/api/v1/waitlist/{made['token']}",
        json={"earliest": future_day(10).isoformat(), "latest": future_day(5).isoformat()},
    )
    assert response.get_json()["error"]["fields"] == {
        "latest": "The latest date must be on or after the earliest date."
    }
    assert client.get(f"/api/v1/waitlist/{made['token']}").get_json()["entry"] == shown
    assert client.patch(f"/api/v1/waitlist/{made['token']}", data="x").status_code == 415


def test_a_change_keeps_offers_already_out_and_a_left_entry_cannot_change(ctx, client):
    made = join(client, 0)
    free_a_slot()
    offer_freed_slots()
    assert client.patch(f"/api/v1/waitlist/{made['token']}", json={"modes": ["video"]}).status_code == 200
    assert offers_by_status() == Counter({"sent": 1})
    client.post(f"/api/v1/waitlist/{made['token']}/leave")
    ended = client.patch(f"/api/v1/waitlist/{made['token']}", json={"modes": ["phone"]})
    assert ended.status_code == 410 and ended.get_json()["error"]["code"] == "entry_ended"
    entry = client.get(f"/api/v1/waitlist/{made['token']}").get_json()["entry"]
    assert entry["status"] == "left" and entry["modes"] == ["video"]
    assert client.patch("/api/v1/waitlist/" + "x" * 32, json={}).status_code == 404


def test_entries_expire_after_their_days_and_with_their_latest_date(ctx, client):
    ctx.config["WAITLIST_ENTRY_DAYS"] = 2
    short = join(client, 1)["entry"]
    soon = join(client, 2, latest=future_day(0).isoformat())["entry"]
    db.session.commit()  # a fresh read: other threads may have written
    entries = {e.public_id: e for e in db.session.execute(select(WaitlistEntry)).scalars()}
    assert entries[short["id"]].expires_at - entries[short["id"]].created_at == timedelta(days=2)
    assert entries[soon["id"]].expires_at <= local_dt(future_day(1), 0)
    slot = free_a_slot(make_slot(local_dt(future_day(10), 10)))
    offer_freed_slots(utcnow() + timedelta(days=2, minutes=1))
    assert offer_tokens() == []  # both have expired by then
    assert db.session.execute(select(FreedSlot.outcome).where(FreedSlot.slot_id == slot.id)).scalar() == "no_match"


def test_a_manage_token_links_the_entry_to_its_booking(ctx, client):
    held = make_booking()
    entry = join(client, manage_token=held.manage_token)["entry"]
    assert entry["booking_id"] == held.booking.public_id
    response = client.post("/api/v1/waitlist", json=join_body(manage_token="y" * 32))
    assert response.status_code == 422 and "manage_token" in response.get_json()["error"]["fields"]


# --- offering -----------------------------------------------------------------------------


def test_a_cancellation_is_offered_to_the_first_three_who_fit_in_join_order(ctx, client):
    day = future_day(4)
    while day.isoweekday() != 2:
        day += timedelta(days=1)
    for n in range(5):
        join(client, n, weekdays=[3] if n == 1 else None)  # person 1 wants Wednesdays only
    slot = free_a_slot(make_slot(local_dt(day, 10)))
    assert db.session.execute(select(FreedSlot.reason)).scalar_one() == "cancelled"
    report = offer_freed_slots()
    assert report.offered == 3
    offered = (
        db.session.execute(
            select(OutboxMessage.to_address).where(OutboxMessage.kind == "offer").order_by(OutboxMessage.id)
        )
        .scalars()
        .all()
    )
    assert offered == ["p0@example.com", "p2@example.com", "p3@example.com"]
    # While offers are out, nothing more is sent; the slot stays on /book (an offer is not a hold).
    assert offer_freed_slots().offered == 0
    assert service.is_open(slot)


def test_offers_stop_at_the_daily_limit_per_person(ctx, client):
    ctx.config["WAITLIST_MAX_OFFERS_PER_DAY"] = 2
    join(client, 0)
    for hour in (9, 10, 11):
        free_a_slot(make_slot(local_dt(future_day(3), hour)))
    assert offer_freed_slots().offered == 2
    assert len(offer_tokens("p0@example.com")) == 2


def test_offer_emails_carry_the_claim_link_and_no_health_words(ctx, client, smtp_server):
    join(client, 0, name="Ada Lovelace", email="ada@example.com")
    slot = free_a_slot(make_slot(local_dt(future_day(3), 14)))
    offer_freed_slots()
    deliver_due()
    offers = [r.message for r in smtp_server.to("ada@example.com") if "earlier" in str(r.message["Subject"])]
    assert len(offers) == 1
    email = offers[0]
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    token = offer_tokens("ada@example.com")[0]
    assert f"http://localhost/offers/{token}" in text and f"http://localhost/offers/{token}" in html
    assert "2:00 PM" in text and "Hello Ada" in text
    clinic = ctx.config["CLINIC_NAME"].lower()
    for part in (str(email["Subject"]), text, html):
        words = part.lower().replace(clinic, "")
        assert not [w for w in HEALTH_WORDS if w in words], part
    assert slot.public_id


def test_an_offer_never_outlasts_the_booking_window(ctx, client):
    join(client, 0)
    slot = free_a_slot(make_slot(utcnow() + timedelta(hours=13)))
    offer_freed_slots()
    offer = db.session.execute(select(WaitlistOffer)).scalar_one()
    notice = timedelta(hours=ctx.config["BOOKING_MIN_NOTICE_HOURS"])
    assert offer.expires_at <= slot.starts_at - notice


# --- claiming -------------------------------------------------------------------------------


def test_claiming_books_the_slot_ends_the_entry_and_tells_the_others_kindly(ctx, client):
    for n in range(3):
        join(client, n)
    slot = free_a_slot()
    offer_freed_slots()
    first, second, _third = offer_tokens()
    won = client.post(f"/api/v1/offers/{second}/claim")
    assert won.status_code == 201, won.get_json()
    body = won.get_json()
    assert body["moved"] is False and set(body["booking"]) == {"id", "reference", "status", "start", "end", "mode"}
    assert (
        db.session.get(
            Booking,
            db.session.execute(select(Booking.id).where(Booking.public_id == body["booking"]["id"])).scalar_one(),
        ).email
        == "p1@example.com"
    )
    assert body["booking"]["start"] == slot.starts_at.astimezone(DENVER).isoformat()
    lost = client.post(f"/api/v1/offers/{first}/claim")
    assert lost.status_code == 409 and lost.get_json()["error"]["code"] == "slot_taken"
    assert "still on the waiting list" in lost.get_json()["error"]["message"]
    assert offers_by_status() == Counter({"claimed": 1, "taken": 2})
    offer = db.session.execute(select(WaitlistOffer).where(WaitlistOffer.status == "claimed")).scalar_one()
    assert offer.booking.public_id == body["booking"]["id"]
    states = dict(db.session.execute(select(WaitlistEntry.email, WaitlistEntry.status)).all())
    assert states == {"p0@example.com": "waiting", "p1@example.com": "fulfilled", "p2@example.com": "waiting"}
    assert client.post(f"/api/v1/offers/{second}/claim").status_code == 410
    assert client.post("/api/v1/offers/" + "z" * 32 + "/claim").status_code == 404


def test_a_public_booking_of_the_slot_withdraws_its_offers_at_once(ctx, client):
    join(client, 0)
    slot = free_a_slot()
    offer_freed_slots()
    [token] = offer_tokens()
    make_booking(slot, email="walkin@example.com")
    assert offers_by_status() == Counter({"taken": 1})
    response = client.post(f"/api/v1/offers/{token}/claim")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "slot_taken"
    assert db.session.execute(select(WaitlistEntry.status)).scalar_one() == "waiting"


def test_an_offer_whose_slot_staff_blocked_says_it_is_withdrawn(ctx, client):
    """The slot closed without a booking: opening the offer ends it as withdrawn, not taken."""
    from app.core.database import write_transaction
    from app.models import Slot

    join(client, 0)
    slot = free_a_slot()
    offer_freed_slots()
    [token] = offer_tokens()
    with write_transaction() as session:
        session.get_one(Slot, slot.id).is_blocked = True
    assert claims.open_offer(token).status == "withdrawn"
    assert offers_by_status() == Counter({"withdrawn": 1})


def test_expired_offers_give_way_to_the_next_people(ctx, client):
    ctx.config["WAITLIST_OFFERS_PER_SLOT"] = 1
    join(client, 0)
    join(client, 1)
    free_a_slot()
    offer_freed_slots()
    [first] = offer_tokens()
    later = utcnow() + timedelta(hours=3)
    report = offer_freed_slots(later)
    assert report.expired == 1 and report.offered == 1
    assert client.post(f"/api/v1/offers/{first}/claim").status_code == 410
    assert offer_tokens("p1@example.com")


def test_leaving_withdraws_offers_still_out(ctx, client):
    made = join(client, 0)
    free_a_slot()
    offer_freed_slots()
    [token] = offer_tokens()
    client.post(f"/api/v1/waitlist/{made['token']}/leave")
    assert offers_by_status() == Counter({"withdrawn": 1})
    assert client.post(f"/api/v1/offers/{token}/claim").status_code == 410


def test_a_claim_moves_a_linked_booking_and_its_old_slot_is_offered_on(ctx, client, smtp_server):
    """The chain: a cancellation is claimed by someone with a later booking, which moves;
    their old slot is freed, offered on and claimed by the next person."""
    early, late = make_slot(local_dt(future_day(3), 9)), make_slot(local_dt(future_day(5), 9))
    held = make_booking(late, email="mover@example.com", name="Mo Ver")
    join(client, 0, name="Mo Ver", email="mover@example.com", manage_token=held.manage_token)
    join(client, 1, earliest=future_day(4).isoformat())
    free_a_slot(early)
    offer_freed_slots()
    [mover_token] = offer_tokens()  # person 1 wants day 4 onwards: not offered the early slot
    moved = client.post(f"/api/v1/offers/{mover_token}/claim")
    assert moved.status_code == 200 and moved.get_json()["moved"] is True
    booking = db.session.execute(select(Booking).where(Booking.public_id == held.booking.public_id)).scalar_one()
    assert booking.slot_id == early.id and booking.ical_sequence == 1 and booking.status == "confirmed"
    assert db.session.execute(select(FreedSlot.reason).where(FreedSlot.slot_id == late.id)).scalar() == "moved"
    offer_freed_slots()
    [next_token] = offer_tokens("p1@example.com")
    assert client.post(f"/api/v1/offers/{next_token}/claim").status_code == 201
    late_booking = db.session.execute(
        select(Booking).where(Booking.slot_id == late.id, Booking.status == "confirmed")
    ).scalar_one()
    assert late_booking.email == "p1@example.com"
    deliver_due()
    updates = [r.message for r in smtp_server.to("mover@example.com") if "moved" in str(r.message["Subject"])]
    assert len(updates) == 1


def test_twenty_people_race_for_one_offered_slot_and_exactly_one_wins(ctx, client):
    ctx.config["WAITLIST_OFFERS_PER_SLOT"] = 20
    for n in range(20):
        join(client, n)
    slot = free_a_slot()
    offer_freed_slots()
    tokens = offer_tokens()
    assert len(tokens) == 20
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, str]] = []

    def claim(token: str) -> None:
        racer = ctx.test_client()
        with ctx.app_context():
            barrier.wait()
            response = racer.post(f"/api/v1/offers/{token}/claim")
            results.append((response.status_code, (response.get_json() or {}).get("error", {}).get("code", "")))
            db.session.remove()

    threads = [threading.Thread(target=claim, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.commit()
    statuses = Counter(status for status, _ in results)
    print(
        f"\nrace on {db.engine.dialect.name}: {len(results)} claims, {statuses[201]} won, "
        f"{sum(n for s, n in statuses.items() if s >= 500)} 5xx, {dict(statuses)}"
    )
    assert statuses[201] == 1, results
    assert statuses[409] == 19 and {code for status, code in results if status == 409} == {"slot_taken"}
    assert (
        db.session.execute(
            select(func.count(Booking.id)).where(Booking.slot_id == slot.id, Booking.status == "confirmed")
        ).scalar_one()
        == 1
    )
    assert offers_by_status() == Counter({"claimed": 1, "taken": 19})


def test_a_claim_racing_a_public_booking_of_the_same_slot(ctx, client):
    for attempt in range(3):
        join(client, attempt, email=f"claimer{attempt}@example.com")
        slot = free_a_slot(make_slot(local_dt(future_day(3), 9 + attempt)))
        offer_freed_slots()
        [token] = offer_tokens(f"claimer{attempt}@example.com")
        barrier = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def claim(token=token):
            with ctx.app_context():
                barrier.wait()
                try:
                    outcomes["claim"] = claims.claim(token)
                except claims.OfferTaken as error:
                    outcomes["claim"] = error
                db.session.remove()

        def book(slot_id=slot.public_id, attempt=attempt):
            with ctx.app_context():
                barrier.wait()
                try:
                    outcomes["book"] = service.book(
                        slot_id,
                        "phone",
                        service.PatientDetails(
                            name="Walk In", email=f"walkin{attempt}@example.com", phone="+19705550123", interest="tms"
                        ),
                        actor=THE_PATIENT,
                    )
                except service.SlotTaken as error:
                    outcomes["book"] = error
                db.session.remove()

        threads = [threading.Thread(target=claim), threading.Thread(target=book)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [k for k, v in outcomes.items() if not isinstance(v, Exception)]
        assert len(winners) == 1, outcomes
        db.session.commit()  # a fresh read: other threads may have written
        assert (
            db.session.execute(
                select(func.count(Booking.id)).where(Booking.slot_id == slot.id, Booking.status == "confirmed")
            ).scalar_one()
            == 1
        )
        offer = db.session.execute(
            select(WaitlistOffer).where(
                WaitlistOffer.slot_id == slot.id, WaitlistOffer.email == f"claimer{attempt}@example.com"
            )
        ).scalar_one()
        assert offer.status == ("claimed" if winners == ["claim"] else "taken")


def test_a_worker_stopped_between_choosing_and_sending_loses_and_repeats_nothing(ctx, client, smtp_server):
    for n in range(3):
        join(client, n)
    free_a_slot()
    from app.jobs.worker import Worker

    class Killed(Exception):
        pass

    class DiesOnSend:
        def send(self, envelope):
            raise Killed()

        def close(self):
            pass

    offer_freed_slots()
    with pytest.raises(Killed):
        deliver_due(transport=DiesOnSend())  # the offers' transaction had committed
    smtp_server.received.clear()
    # Restarted, after the dead worker's lease: the same offers, each sent once.
    later = utcnow() + timedelta(minutes=10)
    assert offer_freed_slots(later).offered == 0
    deliver_due(later)
    Worker(clock=lambda: 0.0).run_once()
    offers = [r for r in smtp_server.received if "earlier" in str(r.message["Subject"])]
    assert sorted(r.rcpt_tos[0] for r in offers) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert len({r.message_id for r in offers}) == 3
    assert offers_by_status() == Counter({"sent": 3})


def test_times_staff_add_or_unblock_are_offered_too(ctx, client):
    from datetime import time as clock_time

    from app.staff import slots_admin

    join(client, 0)
    join(client, 1)
    added = slots_admin.add_slot(future_day(3), clock_time(15), 30, ("phone",), None)
    blocked = make_slot(local_dt(future_day(3), 16), is_blocked=True)
    slots_admin.set_blocked([blocked.public_id], False, None)
    reasons = dict(db.session.execute(select(FreedSlot.slot_id, FreedSlot.reason)).all())
    assert reasons == {added.id: "added", blocked.id: "unblocked"}
    ctx.config["WAITLIST_OFFERS_PER_SLOT"] = 1
    assert offer_freed_slots().offered == 2


@pytest.mark.parametrize(
    ("locale", "prefix", "words"),
    [
        ("en", "", ("only way to change your choices or leave the list", "You stay on the list until")),
        ("es", "/es", ("única forma de cambiar sus preferencias o salir de la lista", "Seguirá en la lista hasta el")),
    ],
)
def test_joining_emails_the_private_link_in_the_entrys_language(ctx, client, smtp_server, locale, prefix, words):
    made = join(client, 7, locale=locale)
    deliver_due()
    [received] = smtp_server.to("p7@example.com")
    message = received.message
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"{prefix}/waitlist/{made['token']}"
    assert link in text and link in html
    assert all(w in text for w in words), text
    subject = "You are on the waiting list" if locale == "en" else "Está en la lista de espera"
    assert str(message["Subject"]) == subject
    words_said = text.lower().replace(ctx.config["CLINIC_NAME"].lower(), "")
    assert not [w for w in HEALTH_WORDS if w in words_said], text
    # The link in the email is the entry's own page, which works.
    assert client.get(link).status_code == 200


def test_an_entry_linked_to_a_booking_sends_its_link_to_the_booking_address(ctx, client, smtp_server):
    booked = make_booking(make_slot(local_dt(future_day(9), 10)), email="holder@example.com")
    join(client, 8, email="typed@example.com", manage_token=booked.manage_token)
    deliver_due()
    assert [r for r in smtp_server.to("holder@example.com") if "waiting list" in str(r.message["Subject"])]
    assert smtp_server.to("typed@example.com") == []


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_no_thanks_passes_the_offer_on_at_once(ctx, client, smtp_server):
    per_slot = int(ctx.config["WAITLIST_OFFERS_PER_SLOT"])
    for n in range(per_slot + 2):
        join(client, n)
    free_a_slot(make_slot(local_dt(future_day(3), 14)))
    offer_freed_slots()
    [first] = offer_tokens("p0@example.com")
    assert offer_tokens(f"p{per_slot}@example.com") == []
    page = client.get(f"/offers/{first}").get_data(as_text=True)
    assert 'id="no-thanks"' in page and "No thanks" in page
    declined = client.post(f"/offers/{first}/decline", data={"csrf_token": form_token(page)})
    assert declined.status_code == 303
    # The next person in the queue has the offer now, without waiting for the others to end.
    assert len(offer_tokens(f"p{per_slot}@example.com")) == 1
    assert offer_tokens(f"p{per_slot + 1}@example.com") == []
    assert offers_by_status() == Counter({"sent": per_slot, "declined": 1})
    shown = client.get(f"/offers/{first}").get_data(as_text=True)
    assert "offered this time to the next person" in shown and "Take this time" not in shown
    # Declining again changes nothing; the person who declined is still waiting.
    client.post(f"/offers/{first}/decline", data={"csrf_token": form_token(page)})
    assert offers_by_status() == Counter({"sent": per_slot, "declined": 1})
    assert (
        db.session.execute(select(WaitlistEntry.status).where(WaitlistEntry.email == "p0@example.com")).scalar_one()
        == "waiting"
    )
    # The offer email says how to pass it on.
    deliver_due()
    offer_mail = [r.message for r in smtp_server.to("p0@example.com") if "earlier" in str(r.message["Subject"])][0]
    assert "No thanks" in offer_mail.get_body(("plain",)).get_content()
    assert f"/offers/{first}#no-thanks" in offer_mail.get_body(("html",)).get_content()


def test_no_thanks_in_the_api_passes_the_offer_on_as_the_page_does(ctx, client):
    per_slot = int(ctx.config["WAITLIST_OFFERS_PER_SLOT"])
    for n in range(per_slot + 1):
        join(client, n)
    slot = free_a_slot(make_slot(local_dt(future_day(3), 14)))
    offer_freed_slots()
    [first] = offer_tokens("p0@example.com")
    # Not JSON: refused before anything changes.
    assert client.post(f"/api/v1/offers/{first}/decline", data="x", content_type="text/plain").status_code == 415
    assert offers_by_status() == Counter({"sent": per_slot})
    declined = client.post(f"/api/v1/offers/{first}/decline")
    assert declined.status_code == 200, declined.get_json()
    offer = declined.get_json()["offer"]
    assert offer["status"] == "declined"
    assert offer["start"] == slot.starts_at.astimezone(DENVER).isoformat()
    assert len(offer_tokens(f"p{per_slot}@example.com")) == 1
    assert offers_by_status() == Counter({"sent": per_slot, "declined": 1})
    # Again: nothing changes; an offer claimed by someone else answers its own state.
    again = client.post(f"/api/v1/offers/{first}/decline", json={})
    assert again.status_code == 200 and again.get_json()["offer"]["status"] == "declined"
    assert offers_by_status() == Counter({"sent": per_slot, "declined": 1})
    [second] = offer_tokens("p1@example.com")
    assert client.post(f"/api/v1/offers/{second}/claim").status_code == 201
    [third] = offer_tokens("p2@example.com")
    assert client.post(f"/api/v1/offers/{third}/decline").get_json()["offer"]["status"] == "taken"
    unknown = client.post("/api/v1/offers/" + "x" * 32 + "/decline")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    assert (
        db.session.execute(select(WaitlistEntry.status).where(WaitlistEntry.email == "p0@example.com")).scalar_one()
        == "waiting"
    )


def test_an_offer_for_any_way_to_meet_asks_how_on_the_claim_page(ctx, client, smtp_server):
    join(client, 0)  # no way to meet ticked: any way suits
    slot = free_a_slot(make_slot(local_dt(future_day(3), 14), modes="in_person,phone,video"))
    offer_freed_slots()
    [token] = offer_tokens("p0@example.com")
    page = client.get(f"/offers/{token}").get_data(as_text=True)
    assert re.findall(r'type="radio" name="mode" id="mode-(\w+)"', page) == ["in_person", "phone", "video"]
    refused = client.post(f"/offers/{token}", data={"csrf_token": form_token(page), "mode": "fax"})
    assert refused.status_code == 422
    assert "Please choose one of the ways to meet shown." in refused.get_data(as_text=True)
    assert offers_by_status() == Counter({"sent": 1})
    taken = client.post(f"/offers/{token}", data={"csrf_token": form_token(page), "mode": "video"})
    assert taken.status_code == 303
    booking = db.session.execute(
        select(Booking).where(Booking.slot_id == slot.id, Booking.status == "confirmed")
    ).scalar_one()
    assert booking.mode == "video" and booking.email == "p0@example.com"


def test_an_offer_with_one_way_to_meet_asks_nothing(ctx, client, smtp_server):
    join(client, 0, modes=["phone"])
    free_a_slot(make_slot(local_dt(future_day(3), 14), modes="in_person,phone,video"))
    offer_freed_slots()
    [token] = offer_tokens("p0@example.com")
    assert 'name="mode"' not in client.get(f"/offers/{token}").get_data(as_text=True)
