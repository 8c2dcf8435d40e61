"""A revoked link revokes everything made with it: a waiting-list entry joined with a
booking's manage token ends, with its offers, when that token is replaced or ends; such an
entry is offered only to the booking's own address; and no waiting-list or offer answer
(page, JSON, email) carries the booking's interest or note. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import select

from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.mail.delivery import deliver_due
from app.models import Booking, OutboxMessage, WaitlistEntry, WaitlistOffer
from app.staff import erase
from app.waitlist.offering import offer_freed_slots
from tests.conftest import future_day, local_dt, make_booking, make_slot
from tests.test_waitlist import free_a_slot, join, offer_tokens, offers_by_status

NOTE = "Taking sertraline 50 mg since March"
VICTIM = {
    "name": "Vera Victim",
    "email": "vera@example.com",
    "phone": "+19705550999",
    "interest": "ketamine",
    "note": NOTE,
}


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_TIMEOUT_SECONDS": 5}


def held_booking():
    """Vera's booking on day 5, and a slot on day 3 that a claim could move it to."""
    early = make_slot(local_dt(future_day(3), 9))
    held = make_booking(make_slot(local_dt(future_day(5), 9)), **VICTIM)
    return early, held


def join_with(client, manage_token: str) -> dict:
    """Someone who holds Vera's manage link joins the list with it, giving their own address."""
    return join(client, 0, name="Mallory Joiner", email="mallory@example.com", manage_token=manage_token)


def entry_states() -> list[str]:
    db.session.commit()
    return list(db.session.execute(select(WaitlistEntry.status)).scalars())


def booking_slot(public_id: str) -> int:
    db.session.commit()
    return db.session.execute(select(Booking.slot_id).where(Booking.public_id == public_id)).scalar_one()


def test_a_new_manage_link_ends_the_entries_and_offers_made_with_the_old_one(ctx, client):
    early, held = held_booking()
    made = join_with(client, held.manage_token)
    free_a_slot(early)
    offer_freed_slots()
    [offer] = offer_tokens()
    service.resend_confirmation(held.booking.public_id, actor=THE_PATIENT)  # staff's "Resend confirmation"
    assert entry_states() == ["revoked"]
    assert offers_by_status() == Counter({"withdrawn": 1})
    refused = client.post(f"/api/v1/offers/{offer}/claim")
    assert refused.status_code == 410
    assert booking_slot(held.booking.public_id) == held.booking.slot_id
    assert client.get(f"/api/v1/waitlist/{made['token']}").get_json()["entry"]["status"] == "revoked"
    assert client.patch(f"/api/v1/waitlist/{made['token']}", json={"weekdays": [1]}).status_code == 410
    # A time freed later is not offered to the ended entry.
    free_a_slot(make_slot(local_dt(future_day(4), 9)))
    offer_freed_slots()
    assert len(offer_tokens()) == 1


def test_cancelling_or_erasing_the_booking_ends_the_entries_made_with_its_link(ctx, client):
    _early, held = held_booking()
    join_with(client, held.manage_token)
    service.cancel(held.booking.public_id, actor=THE_PATIENT)
    assert entry_states() == ["revoked"]
    other = make_booking(make_slot(local_dt(future_day(6), 9)), email="pat@example.com")
    join(client, 1, manage_token=other.manage_token)
    service.cancel(other.booking.public_id, actor=THE_PATIENT)
    erase.erase_patient(other.booking.public_id, None)
    assert sorted(entry_states()) == ["revoked", "revoked"]


def test_the_join_page_entry_ends_when_the_link_is_replaced(ctx, client):
    _early, held = held_booking()
    page = client.get(f"/manage/{held.manage_token}/waitlist")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    html = page.get_data(as_text=True)
    from tests.test_waitlist_pages import form

    joined = client.post("/waitlist", data=form(html, manage_token=held.manage_token, latest=future_day(5).isoformat()))
    assert joined.status_code == 303
    entry_page = joined.headers["Location"]
    service.resend_confirmation(held.booking.public_id, actor=THE_PATIENT)
    assert entry_states() == ["revoked"]
    shown = client.get(entry_page).get_data(as_text=True)
    assert "Your place on the list has ended" in shown and "Change your choices" not in shown
    assert "your consultation on" not in shown  # the booking's time is no longer shown
    # The old link no longer opens the join form either.
    assert client.get(f"/manage/{held.manage_token}/waitlist").status_code == 404


def test_an_entry_linked_to_a_booking_is_offered_only_to_the_bookings_own_address(ctx, client):
    early, held = held_booking()
    made = join_with(client, held.manage_token)
    page = client.get(f"/waitlist/{made['token']}").get_data(as_text=True)
    assert f"We will email {VICTIM['email']} when" in page  # where the offers go, as they do
    free_a_slot(early)
    offer_freed_slots()
    assert offer_tokens("mallory@example.com") == []
    [message] = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "offer")).scalars()
    assert message.to_address == VICTIM["email"]
    assert db.session.execute(select(WaitlistOffer.email)).scalar_one() == VICTIM["email"]
    assert json.loads(message.event)["name"] == VICTIM["name"]


def test_no_waiting_list_or_offer_answer_carries_interest_note_or_contact_details(ctx, client, smtp_server):
    early, held = held_booking()
    made = join_with(client, held.manage_token)
    free_a_slot(early)
    offer_freed_slots()
    [offer] = offer_tokens()
    answers = [
        client.get(f"/api/v1/waitlist/{made['token']}").get_data(as_text=True),
        client.get(f"/waitlist/{made['token']}").get_data(as_text=True),
        client.get(f"/offers/{offer}").get_data(as_text=True),
    ]
    claimed = client.post(f"/api/v1/offers/{offer}/claim")
    assert claimed.status_code == 200
    body = claimed.get_json()
    assert body["moved"] is True
    assert set(body["booking"]) == {"id", "reference", "status", "start", "end", "mode"}
    answers.append(claimed.get_data(as_text=True))
    deliver_due()
    answers += [
        r.message.as_string() for r in smtp_server.to(VICTIM["email"]) if "earlier" in str(r.message["Subject"])
    ]
    assert len(answers) == 5
    for answer in answers:
        assert NOTE not in answer and VICTIM["phone"] not in answer
    for answer in (answers[0], answers[3]):  # the JSON answers
        assert '"interest"' not in answer and '"note"' not in answer
    assert "ketamine" not in answers[4].lower()  # the offer email
    assert VICTIM["email"] not in answers[3] and VICTIM["name"] not in answers[3]
    assert booking_slot(held.booking.public_id) == early.id


def test_a_link_replaced_while_someone_joins_with_it_ends_that_entry_too(postgres_url, monkeypatch):
    """PostgreSQL, two connections: joining has read the booking by its manage token when
    staff send a new link. Joining locks the booking it read, so the new link waits for the
    entry to be written and then ends it (without the lock, the new link would commit first
    and the entry, written after, would keep the old link's power)."""
    import threading

    from sqlalchemy import text

    from app.waitlist import service as waitlist_service
    from app.waitlist.validation import JoinRequest
    from tests.conftest import build_app, dispose
    from tests.test_mail_worker import wait_until

    app = build_app(postgres_url)
    try:
        with app.app_context():
            _early, held = held_booking()
        read, go = threading.Event(), threading.Event()
        real_can_change = service.can_change

        def can_change_then_wait(booking, now=None, actor=THE_PATIENT):
            read.set()  # the booking has been read (and, with the fix, locked) by its token
            assert go.wait(20)
            return real_can_change(booking, now, actor)

        monkeypatch.setattr(service, "can_change", can_change_then_wait)
        outcomes: dict[str, object] = {}

        def joining() -> None:
            with app.app_context():
                try:
                    waitlist_service.join(
                        JoinRequest(
                            name="Mallory Joiner",
                            email="mallory@example.com",
                            phone="+19705550123",
                            locale="en",
                            earliest=future_day(0),
                            latest=future_day(5),
                            manage_token=held.manage_token,
                        )
                    )
                    outcomes["join"] = "joined"
                except Exception as error:  # noqa: BLE001 - refused is a right outcome too
                    outcomes["join"] = type(error).__name__
                db.session.remove()

        def resending() -> None:
            with app.app_context():
                service.resend_confirmation(held.booking.public_id, actor=THE_PATIENT)
                db.session.remove()

        joiner = threading.Thread(target=joining)
        joiner.start()
        assert read.wait(20)
        resender = threading.Thread(target=resending)
        resender.start()
        with app.app_context():

            def resend_waits_or_is_done() -> bool:
                if not resender.is_alive():
                    return True
                waiting = db.session.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                ).scalar_one()
                db.session.rollback()
                return waiting > 0

            wait_until(resend_waits_or_is_done, 20, "the new link to wait for the booking or finish")
            go.set()
            joiner.join(30)
            resender.join(30)
            assert not joiner.is_alive() and not resender.is_alive()
            states = list(db.session.execute(select(WaitlistEntry.status)).scalars())
        assert "waiting" not in states, (outcomes, states)
    finally:
        go.set()
        dispose(app)
