"""The front desk and the waiting list, on SQLite and PostgreSQL: staff add a caller to the
list by the same rules as joining online (the audit names the dates, not the person), and
see who cancelled a booking: the patient, the clinic (which staff member), or a calendar
reply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.booking import service
from app.core.actors import THE_PATIENT, Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.models import Booking, WaitlistEntry, utcnow
from app.models.staff import AuditLog
from app.schedule.clinic_time import clinic_today
from tests.conftest import make_booking, make_slot
from tests.fixtures_staff import signed_in_client, staff_post


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def desk(ctx):
    return signed_in_client(ctx, "sam@mindset-tms.example", "staff")


def caller(**fields) -> dict:
    on = clinic_today()
    form = {
        "name": "Rosa Díaz",
        "phone": "970-555-0142",
        "email": "rosa@example.com",
        "locale": "es",
        "earliest": (on + timedelta(days=1)).isoformat(),
        "latest": (on + timedelta(days=20)).isoformat(),
        "weekdays": ["1", "3"],
        "parts_of_day": ["morning"],
        "consent": "y",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def test_staff_add_a_caller_to_the_waiting_list(desk):
    assert "/staff/waitlist/add" in desk.get("/staff/waitlist").get_data(as_text=True)
    response = staff_post(desk, "/staff/waitlist/add", caller(), token_from="/staff/waitlist/add")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    entry = db.session.execute(select(WaitlistEntry)).scalar_one()
    assert (entry.name, entry.email, entry.phone, entry.locale) == (
        "Rosa Díaz",
        "rosa@example.com",
        "+19705550142",
        "es",
    )
    assert entry.weekday_list == [1, 3] and entry.part_list == ["morning"] and entry.mode_list == []
    listing = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added Rosa Díaz to the waiting list" in listing and "rosa@example.com" in listing
    (audit,) = db.session.execute(select(AuditLog).where(AuditLog.action == "waitlist.add")).scalars()
    assert audit.actor.email == "sam@mindset-tms.example" and "Rosa" not in audit.details


def test_mistakes_are_shown_at_their_fields_and_nothing_is_added(desk):
    on = clinic_today()
    response = staff_post(
        desk,
        "/staff/waitlist/add",
        caller(
            email="rosa@",
            latest=on.isoformat(),
            earliest=(on + timedelta(days=3)).isoformat(),
            consent=None,
            name="Rosa  Díaz",
        ),
        token_from="/staff/waitlist/add",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in page and 'id="latest-error"' in page and 'id="consent-error"' in page
    assert 'value="Rosa  Díaz"' in page and 'value="rosa@"' in page
    assert db.session.execute(select(WaitlistEntry)).first() is None
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "waitlist.add")).first() is None


def booked(hours: int) -> Booking:
    return make_booking(
        make_slot(utcnow().replace(microsecond=0) + timedelta(days=3, hours=hours)), email=f"p{hours}@example.com"
    ).booking


def test_who_cancelled_is_shown(desk):
    by_patient, by_clinic, by_reply = booked(1), booked(2), booked(3)
    service.cancel(by_patient.public_id, actor=THE_PATIENT)
    staff_post(
        desk,
        f"/staff/bookings/{by_clinic.public_id}/cancel",
        {"message": ""},
        token_from=f"/staff/bookings/{by_clinic.public_id}/cancel",
    )
    service.cancel(by_reply.public_id, actor=Actor("staff"))
    with write_transaction() as session:  # as a declined invite's reply records it
        session.execute(update(Booking).where(Booking.id == by_reply.id).values(cancelled_by="calendar"))

    def status_line(booking) -> str:
        page = desk.get(f"/staff/bookings/{booking.public_id}").get_data(as_text=True)
        start = page.index("<dt>Status</dt>")
        return page[start : page.index("</div>", start)]

    assert "by the patient" in status_line(by_patient)
    assert "by the clinic (Sam)" in status_line(by_clinic)
    assert "by a calendar reply" in status_line(by_reply)
    listing = desk.get("/staff/bookings", query_string={"status": "cancelled"}).get_data(as_text=True)
    assert "Cancelled by the patient" in listing and "Cancelled by the clinic" in listing
    assert "Cancelled by a calendar reply" in listing
