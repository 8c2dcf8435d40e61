"""Races between many processes, on SQLite and PostgreSQL: the database ends consistent and
every answer is truthful."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from app.booking import service
from app.booking.errors import BookingClosed, SlotTaken
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.models import Booking
from tests.conftest import LiveServer, make_booking, make_slot, patient

SLOTS, ATTEMPTS, PROCESSES = 50, 500, 10


def _attempt_batch(args: tuple[list[str], list[str], int]) -> list[tuple[int, str]]:
    """Runs in a separate process: post this process's share of booking attempts concurrently."""
    urls, slot_ids, offset = args

    def one(i: int) -> tuple[int, str]:
        body = {
            "slot_id": slot_ids[i % len(slot_ids)],
            "mode": "phone",
            "name": f"Patient {offset + i}",
            "email": f"p{offset + i}@example.com",
            "phone": "970-555-0123",
            "interest": "tms",
            "consent": True,
        }
        url = urls[(offset + i) % len(urls)]
        response = requests.post(url + "/api/v1/bookings", json=body, timeout=60)
        try:
            code = response.json().get("error", {}).get("code", "")
        except ValueError:
            code = response.text[:200]
        return response.status_code, code

    per_process = ATTEMPTS // PROCESSES
    with ThreadPoolExecutor(per_process) as pool:
        return list(pool.map(one, range(per_process)))


@pytest.mark.slow
def test_500_attempts_over_50_slots_from_separate_processes(any_app, database_url):
    with any_app.app_context():
        slot_ids = [make_slot().public_id for _ in range(SLOTS)]
    # On PostgreSQL two app servers share the database, as two hosts would.
    servers = [
        LiveServer(database_url, workers=3, threads=8).start()
        for _ in range(2 if database_url.startswith("postgresql") else 1)
    ]
    try:
        urls = [s.url for s in servers]
        batches = [(urls, slot_ids[p::PROCESSES] + slot_ids, p * 1000) for p in range(PROCESSES)]
        with ProcessPoolExecutor(PROCESSES) as pool:
            results = [r for batch in pool.map(_attempt_batch, batches) for r in batch]
    finally:
        for server in servers:
            server.stop()
    outcomes = Counter(status for status, _ in results)
    assert outcomes[201] == SLOTS, outcomes
    assert outcomes[409] == ATTEMPTS - SLOTS, outcomes
    assert {code for status, code in results if status == 409} == {"slot_taken"}
    assert not any("locked" in code for _, code in results)
    with any_app.app_context():
        per_slot = db.session.execute(
            select(Booking.slot_id, func.count(Booking.id))
            .where(Booking.status == "confirmed")
            .group_by(Booking.slot_id)
        ).all()
    assert len(per_slot) == SLOTS and all(count == 1 for _, count in per_slot)


def _race(app, calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        with app.app_context():
            barrier.wait()
            try:
                return call()
            except (SlotTaken, BookingClosed) as error:
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_reschedules_into_one_slot(any_app):
    with any_app.app_context():
        bookings = [make_booking(email=f"m{i}@example.com").booking for i in range(12)]
        originals = {b.public_id: b.slot_id for b in bookings}
        target = make_slot()
        target_id, target_pk = target.public_id, target.id
    calls = [lambda pid=pid: service.reschedule(pid, target_id, actor=THE_PATIENT).public_id for pid in originals]
    results = _race(any_app, calls)
    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1, results
    assert all(isinstance(r, SlotTaken) for r in results if r not in winners)
    with any_app.app_context():
        rows = db.session.execute(select(Booking)).scalars().all()
        on_target = [b for b in rows if b.slot_id == target_pk and b.status == "confirmed"]
        assert len(on_target) == 1 and on_target[0].public_id == winners[0]
        for b in rows:
            if b.public_id != winners[0]:
                assert b.slot_id == originals[b.public_id] and b.ical_sequence == 0


@pytest.mark.parametrize("round_", range(3))
def test_cancel_racing_a_reschedule(any_app, round_):
    with any_app.app_context():
        booking = make_booking().booking
        booking_id, original_slot = booking.public_id, booking.slot_id
        target = make_slot()
        target_id, target_pk = target.public_id, target.id
    cancel_result, move_result = _race(
        any_app,
        [
            lambda: service.cancel(booking_id, actor=THE_PATIENT) and "cancelled",
            # What the call answered, not the row read back later (the cancel may follow it).
            lambda: service.reschedule(booking_id, target_id, actor=THE_PATIENT) and "moved",
        ],
    )
    # Cancelling always succeeds; the move either happened first or found the booking cancelled.
    assert cancel_result == "cancelled"
    assert move_result == "moved" or isinstance(move_result, BookingClosed), move_result
    with any_app.app_context():
        final = db.session.execute(select(Booking).where(Booking.public_id == booking_id)).scalar_one()
        assert final.status == "cancelled"
        if move_result == "moved":
            assert final.slot_id == target_pk and final.ical_sequence == 2
        else:
            assert final.slot_id == original_slot and final.ical_sequence == 1
        active = db.session.execute(select(func.count(Booking.id)).where(Booking.status == "confirmed")).scalar_one()
        assert active == 0
        # Both slots are free for others again.
        for slot_id in (target_id,):
            assert service.book(slot_id, "phone", patient(email="after@example.com"), actor=THE_PATIENT).booking
