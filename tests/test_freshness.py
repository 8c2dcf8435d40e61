"""Availability is never stale: the time pickers, the slots API and the opening hours read
the database on every request. One app ("this worker") shows; another app on the same
database ("another worker") books, cancels, moves, changes the hours and records busy
times; this worker shows each change on its very next request (SQLite and PostgreSQL).
Then the same across two gunicorn hosts of two workers each on one PostgreSQL."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import requests

from app.booking import service
from app.busy import service as busy
from app.core.actors import THE_PATIENT
from app.core.database import write_transaction
from app.core.extensions import db
from app.models import BusyInterval, BusySource, Slot
from app.staff import availability_admin
from tests.conftest import LiveServer, build_app, dispose, future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import signed_in_client

SETTINGS = {"BOOKING_MIN_NOTICE_HOURS": 0}


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def app_settings():
    return SETTINGS


@pytest.fixture
def other(app):
    """Another worker process: its own app, engine and connections on the same database."""
    other = build_app(app.config["SQLALCHEMY_DATABASE_URI"], SETTINGS)
    yield other
    dispose(other)


def offered(client, staff, slot_id: str, day) -> dict[str, bool]:
    """Whether each place a time is chosen from offers the slot on its day."""
    api = client.get(f"/api/v1/slots?start={day}&end={day}").get_json()
    return {
        "/book": f"/book/{slot_id}" in client.get(f"/book?day={day}").get_data(as_text=True),
        "/es/book": f"/es/book/{slot_id}" in client.get(f"/es/book?day={day}").get_data(as_text=True),
        "slots API": slot_id in {s["id"] for s in api["slots"]},
        "staff picker": f"slot={slot_id}" in staff.get(f"/staff/bookings/new?day={day}").get_data(as_text=True),
    }


PLACES = ("/book", "/es/book", "slots API", "staff picker")
EVERYWHERE, NOWHERE = dict.fromkeys(PLACES, True), dict.fromkeys(PLACES, False)


def test_a_booking_and_a_cancellation_by_another_worker_show_at_once(app, other):
    client, staff = app.test_client(), signed_in_client(app, "sam@mindset-tms.example")
    day = future_day(3)
    with other.app_context():
        slot_id = make_slot(local_dt(day, 10)).public_id
    assert offered(client, staff, slot_id, day) == EVERYWHERE
    with other.app_context():
        slot = db.session.execute(db.select(Slot).filter_by(public_id=slot_id)).scalar_one()
        booking_id = make_booking(slot).booking.public_id
    assert offered(client, staff, slot_id, day) == NOWHERE
    with other.app_context():
        service.cancel(booking_id, actor=THE_PATIENT)
    assert offered(client, staff, slot_id, day) == EVERYWHERE


def test_a_move_by_another_worker_frees_the_old_time_and_takes_the_new_one(app, other):
    client, staff = app.test_client(), signed_in_client(app, "sam@mindset-tms.example")
    day = future_day(4)
    with other.app_context():
        old, new = make_slot(local_dt(day, 9)), make_slot(local_dt(day, 14))
        old_id, new_id = old.public_id, new.public_id
        booking_id = make_booking(old).booking.public_id
    assert offered(client, staff, old_id, day) == NOWHERE
    assert offered(client, staff, new_id, day) == EVERYWHERE
    with other.app_context():
        service.reschedule(booking_id, new_id, actor=THE_PATIENT)
    assert offered(client, staff, old_id, day) == EVERYWHERE
    assert offered(client, staff, new_id, day) == NOWHERE


def test_busy_times_recorded_by_another_worker_hide_and_free_a_time_at_once(app, other):
    client, staff = app.test_client(), signed_in_client(app, "sam@mindset-tms.example")
    day = future_day(5)
    with other.app_context():
        slot = make_slot(local_dt(day, 11))
        slot_id = slot.public_id
        busy.add_source("https://calendar.example.org/lee.ics", "Dr Lee")
        with write_transaction() as session:  # what a busy sync commits
            source = session.execute(db.select(BusySource)).scalar_one()
            session.add(
                BusyInterval(source_id=source.id, starts_at=local_dt(day, 10, 45), ends_at=local_dt(day, 11, 15))
            )
    assert offered(client, staff, slot_id, day) == NOWHERE
    with other.app_context(), write_transaction() as session:  # the next sync finds it gone
        session.execute(db.delete(BusyInterval))
    assert offered(client, staff, slot_id, day) == EVERYWHERE


def test_hours_changed_by_another_worker_show_on_the_next_page(app, other):
    client, staff = app.test_client(), signed_in_client(app, "sam@mindset-tms.example")
    assert "By appointment (please call us)" in client.get("/about").get_data(as_text=True)
    with other.app_context():
        rules = availability_admin.add_hours([0, 1, 2, 3, 4], availability_admin.HoursInput(time(9), time(12)), None)
        rule_id = rules[0].id
    assert "Monday to Friday 9:00 a.m.\u201312:00 p.m." in client.get("/about").get_data(as_text=True)
    assert "de lunes a viernes 9:00" in client.get("/es/about").get_data(as_text=True)
    day = future_day(8)
    while day.weekday() != 0:
        day += timedelta(days=1)
    api = client.get(f"/api/v1/slots?start={day}&end={day}").get_json()["slots"]
    assert len(api) == 6  # 9:00 to 12:00 in half hours, generated by the other worker
    with other.app_context():
        availability_admin.remove_hours(rule_id, None)
    page = client.get("/about").get_data(as_text=True)
    assert "Tuesday to Friday 9:00 a.m.\u201312:00 p.m." in page and "Monday to Friday" not in page
    assert client.get(f"/api/v1/slots?start={day}&end={day}").get_json()["slots"] == []
    assert "no free times" in staff.get(f"/staff/bookings/new?day={day}").get_data(as_text=True)


@pytest.mark.slow
def test_four_workers_on_two_hosts_never_offer_a_booked_time(postgres_url):
    """Book through the API on one host, then read availability 20 times across both
    hosts' workers: the time is never offered. Cancel it: every worker offers it at once."""
    app = build_app(postgres_url, SETTINGS)
    day = future_day(3)
    with app.app_context():
        slot_id = make_slot(local_dt(day, 10)).public_id
        make_slot(local_dt(day, 11))  # another free time, so the day is never empty
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    hosts = [LiveServer(url, workers=2, threads=1, env={"BOOKING_MIN_NOTICE_HOURS": "0"}).start() for _ in range(2)]

    def offered_by(number: int) -> bool:
        host = hosts[number % 2].url
        if number % 4 < 2:
            slots = requests.get(f"{host}/api/v1/slots?start={day}&end={day}", timeout=30).json()["slots"]
            return slot_id in {s["id"] for s in slots}
        page = requests.get(f"{host}/book?day={day}", timeout=30)
        assert page.status_code == 200
        return f"/book/{slot_id}" in page.text

    try:
        assert [offered_by(n) for n in range(8)] == [True] * 8  # every host and both kinds of read
        body = {
            "slot_id": slot_id,
            "mode": "video",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "970-555-0123",
            "interest": "tms",
            "consent": True,
        }
        booked = requests.post(f"{hosts[0].url}/api/v1/bookings", json=body, timeout=30)
        assert booked.status_code == 201, booked.text
        assert [offered_by(n) for n in range(20)] == [False] * 20
        token = booked.json()["manage_token"]
        cancelled = requests.post(f"{hosts[1].url}/api/v1/bookings/{token}/cancel", timeout=30)
        assert cancelled.status_code == 200, cancelled.text
        assert [offered_by(n) for n in range(8)] == [True] * 8
    finally:
        for host in hosts:
            host.stop()
        dispose(app)
