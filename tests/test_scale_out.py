"""How the service scales past one machine: two app servers and two mail workers on one
PostgreSQL. Patients race for slots through both servers while both workers deliver: no slot
is booked twice and no message is sent twice."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Booking, OutboxMessage
from tests.conftest import LiveServer, build_app, dispose, make_slot
from tests.test_mail_worker import start_worker, stop, wait_until

SLOTS, ATTEMPTS = 20, 200


@pytest.mark.slow
def test_two_app_servers_and_two_workers_on_one_postgres(postgres_url, smtp_server):
    app = build_app(postgres_url)
    with app.app_context():
        slot_ids = [make_slot().public_id for _ in range(SLOTS)]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    servers = [LiveServer(url, workers=2, threads=4).start() for _ in range(2)]
    workers = [start_worker(url, smtp_server.port, "--interval", "0.2", "--batch-size", "5") for _ in range(2)]
    barrier = threading.Barrier(40)

    def attempt(i: int) -> int:
        body = {
            "slot_id": slot_ids[i % SLOTS],
            "mode": "video",
            "name": f"Patient {i}",
            "email": f"p{i}@example.com",
            "phone": "970-555-0123",
            "interest": "tms",
            "consent": True,
        }
        if i < 40:
            barrier.wait()
        return requests.post(servers[i % 2].url + "/api/v1/bookings", json=body, timeout=60).status_code

    try:
        with ThreadPoolExecutor(40) as pool:
            statuses = Counter(pool.map(attempt, range(ATTEMPTS)))
        assert statuses == {201: SLOTS, 409: ATTEMPTS - SLOTS}, statuses
        with app.app_context():
            expected = set(
                db.session.execute(select(OutboxMessage.message_id).where(OutboxMessage.kind != "reminder")).scalars()
            )
        assert len(expected) == 2 * SLOTS  # a confirmation and a staff notice per booking
        wait_until(
            lambda: {r.message_id for r in list(smtp_server.received)} >= expected, 60, "every message to arrive"
        )
    finally:
        results = [stop(worker) for worker in workers]
        for server in servers:
            server.stop()
        dispose(app)
    counts = Counter(r.message_id for r in smtp_server.received)
    assert max(counts.values()) == 1, "a message was sent twice"
    assert [code for code, _ in results] == [0, 0]
    app = build_app(postgres_url)
    with app.app_context():
        per_slot = db.session.execute(
            select(Booking.slot_id, func.count()).where(Booking.status == "confirmed").group_by(Booking.slot_id)
        ).all()
    dispose(app)
    assert len(per_slot) == SLOTS and {n for _, n in per_slot} == {1}
