"""No double booking, ever: many simultaneous attempts at one slot, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from app.booking import service
from app.booking.errors import SlotTaken
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.models import Booking
from tests.conftest import LiveServer, make_slot, patient

ATTEMPTS = 50


def test_threads_racing_for_one_slot_yield_exactly_one_booking(any_app):
    with any_app.app_context():
        slot = make_slot()
        slot_id = slot.public_id
    barrier = threading.Barrier(ATTEMPTS)

    def attempt(i: int) -> str:
        with any_app.app_context():
            barrier.wait()
            try:
                service.book(slot_id, "phone", patient(email=f"p{i}@example.com"), actor=THE_PATIENT)
                return "booked"
            except SlotTaken:
                return "taken"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        outcomes = Counter(pool.map(attempt, range(ATTEMPTS)))
    assert outcomes == {"booked": 1, "taken": ATTEMPTS - 1}
    with any_app.app_context():
        assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 1


@pytest.mark.slow
def test_http_requests_racing_for_one_slot_through_gunicorn(any_app, database_url):
    with any_app.app_context():
        slot_id = make_slot().public_id
    server = LiveServer(database_url, workers=4, threads=8).start()
    try:
        barrier = threading.Barrier(ATTEMPTS)

        def attempt(i: int) -> tuple[int, str]:
            body = {
                "slot_id": slot_id,
                "mode": "video",
                "name": f"Patient {i}",
                "email": f"p{i}@example.com",
                "phone": "970-555-0123",
                "interest": "tms",
                "consent": True,
            }
            with requests.Session() as http:
                barrier.wait()
                response = http.post(server.url + "/api/v1/bookings", json=body, timeout=60)
            return response.status_code, response.json().get("error", {}).get("code", "")

        with ThreadPoolExecutor(ATTEMPTS) as pool:
            outcomes = Counter(pool.map(attempt, range(ATTEMPTS)))
    finally:
        server.stop()
    assert outcomes == {(201, ""): 1, (409, "slot_taken"): ATTEMPTS - 1}, outcomes
    with any_app.app_context():
        assert db.session.execute(select(func.count(Booking.id)).where(Booking.status == "confirmed")).scalar_one() == 1
