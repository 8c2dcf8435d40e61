"""A caller with no email, on SQLite and PostgreSQL: staff book with a phone number only; the
booking is marked phone only in the lists and on the dashboard (tomorrow's are calls to
make), and no email, invite or reminder is ever queued for the patient, whatever changes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking import service
from app.core.actors import THE_PATIENT, Actor
from app.core.extensions import db
from app.models import Booking, OutboxMessage, utcnow
from app.models.mail import OUTBOX_PENDING
from app.models.staff import StaffUser
from app.schedule.clinic_time import clinic_today, week_start
from app.staff import dashboard, erase
from tests.conftest import local_dt, make_slot, patient
from tests.fixtures_staff import signed_in_client, staff_post

CALLER = {
    "mode": "phone",
    "name": "Rosa Díaz",
    "email": "",
    "phone": "970-555-0142",
    "interest": "tms",
    "note": "",
    "locale": "es",
    "consent": "y",
}


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def desk(ctx):
    return signed_in_client(ctx, "sam@mindset-tms.example", "staff")


def actor() -> StaffUser:
    return db.session.execute(select(StaffUser)).scalar_one()


def slot_in(**delta):
    return make_slot(utcnow().replace(microsecond=0) + timedelta(**delta))


def phone_only(slot, **fields) -> Booking:
    made = service.book(slot.public_id, "phone", patient(email=None, **fields), actor=Actor.staff(actor()))
    return made.booking


def patient_mail(booking_id: int) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.booking_id == booking_id, OutboxMessage.kind != "staff_notice")
        ).scalars()
    )


def test_the_form_speaks_to_the_receptionist_and_books_without_an_email(desk):
    slot = slot_in(days=3)
    form = desk.get(f"/staff/bookings/new?slot={slot.public_id}").get_data(as_text=True)
    assert "Caller&#39;s email (optional)" in form or "Caller's email (optional)" in form
    assert "Caller&#39;s phone number" in form or "Caller's phone number" in form
    response = staff_post(desk, "/staff/bookings/new", dict(CALLER, slot_id=slot.public_id))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.email is None and booking.is_phone_only and booking.phone == "+19705550142"
    assert patient_mail(booking.id) == []  # no confirmation, invite or reminder
    detail = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "phone only" in detail and "call them the day before" in detail
    assert "Phone only" in detail and "Resend confirmation" not in detail
    listing = desk.get("/staff/bookings").get_data(as_text=True)
    assert "Rosa Díaz" in listing and "Phone only" in listing


def test_a_typed_email_is_still_checked(desk):
    slot = slot_in(days=3)
    response = staff_post(desk, "/staff/bookings/new", dict(CALLER, slot_id=slot.public_id, email="rosa@"))
    assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)
    assert db.session.execute(select(Booking)).first() is None


def test_phone_only_bookings_are_not_held_to_the_per_address_limit(ctx):
    limit = int(ctx.config["BOOKING_MAX_ACTIVE_PER_EMAIL"])
    signed_in_client(ctx, "sam@mindset-tms.example", "staff")
    bookings = [phone_only(slot_in(days=3, hours=i), phone=f"+1970555{i:04d}") for i in range(limit + 1)]
    assert len({b.id for b in bookings}) == limit + 1


def test_moving_and_cancelling_send_the_patient_nothing(desk):
    booking = phone_only(slot_in(days=3))
    service.reschedule(booking.public_id, slot_in(days=4).public_id, actor=Actor("staff"))
    service.cancel(booking.public_id, actor=Actor("staff"), message="The clinic is closed.")
    assert patient_mail(booking.id) == []
    staff_notices = (
        db.session.execute(select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking.id)).scalars().all()
    )
    assert sorted(staff_notices) == ["staff_notice"] * 3  # booked, moved, cancelled


def test_resend_is_refused_for_a_phone_only_booking(desk):
    booking = phone_only(slot_in(days=3))
    response = staff_post(desk, f"/staff/bookings/{booking.public_id}/resend")
    assert "no email address" in desk.get(response.headers["Location"]).get_data(as_text=True)
    assert patient_mail(booking.id) == []


def test_the_dashboard_lists_tomorrows_phone_only_consultations_as_calls_to_make(desk):
    tomorrow = clinic_today(utcnow()) + timedelta(days=1)
    call = phone_only(make_slot(local_dt(tomorrow, 10)), name="Rosa Díaz", phone="+19705550142")
    service.book(
        make_slot(local_dt(tomorrow, 11)).public_id, "phone", patient(name="Ada Lovelace"), actor=Actor.staff(actor())
    )
    phone_only(make_slot(local_dt(tomorrow + timedelta(days=1), 10)), name="Later Caller")
    page = desk.get("/staff/").get_data(as_text=True)
    section = page[page.index('id="to-call-heading"') :]
    section = section[: section.index("</section>")]
    assert "Rosa Díaz" in section and "(970) 555-0142" in section
    assert "Ada Lovelace" not in section and "Later Caller" not in section
    assert call.public_id in section


def test_on_a_sunday_the_calls_to_make_are_next_mondays_and_stay_out_of_this_week(desk):
    sunday = week_start(clinic_today(utcnow())) + timedelta(days=13)
    monday_call = phone_only(make_slot(local_dt(sunday + timedelta(days=1), 10)), name="Rosa Díaz")
    sunday_call = phone_only(make_slot(local_dt(sunday, 10)), name="Sunday Caller")
    board = dashboard.summary(actor(), now=local_dt(sunday, 8))
    assert [b.id for b in board.to_call] == [monday_call.id]
    assert [b.id for b in board.this_week] == [b.id for b in board.today] == [sunday_call.id]


def test_adding_an_email_sends_the_confirmation_and_removing_it_stops_the_mail(desk):
    booking = phone_only(slot_in(days=3))
    url = f"/staff/bookings/{booking.public_id}/edit"
    form = {"name": "Ada Lovelace", "phone": "+19705550123", "locale": "en", "mode": "phone"}
    staff_post(desk, url, dict(form, email="ada@example.com"), token_from=url)
    assert sorted((m.kind, m.to_address) for m in patient_mail(booking.id)) == [
        ("confirmation", "ada@example.com"),
        ("reminder", "ada@example.com"),
    ]  # nothing to an old address

    response = staff_post(desk, url, dict(form, email=""), token_from=url)
    assert "now phone only" in desk.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Booking, booking.id)
    assert stored.email is None and stored.ical_sequence == 2
    pending = [m.kind for m in patient_mail(booking.id) if m.status == OUTBOX_PENDING]
    assert pending == []  # the unsent confirmation and the reminder are withdrawn, no notice added


def test_export_leaves_the_email_cell_empty(desk):
    phone_only(slot_in(days=3), name="Rosa Díaz")
    first = clinic_today(utcnow())
    response = desk.get(
        "/staff/export",
        query_string={
            "preset": "custom",
            "first": first.isoformat(),
            "last": (first + timedelta(days=10)).isoformat(),
            "fmt": "csv",
        },
    )
    (row,) = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    assert row["Name"] == "Rosa Díaz" and row["Email"] == ""


def test_erasing_a_phone_only_patient_takes_their_phone_only_bookings(desk):
    mine = phone_only(slot_in(days=3), phone="+19705550142")
    also_mine = phone_only(slot_in(days=4), phone="+19705550142")
    other = phone_only(slot_in(days=5), phone="+19705550199")
    emailed = service.book(slot_in(days=6).public_id, "phone", patient(phone="+19705550142"), actor=THE_PATIENT).booking
    for booking in (mine, also_mine, other, emailed):
        service.cancel(booking.public_id, actor=Actor("staff"))
    assert erase.erase_patient(mine.public_id, actor()) == 2
    db.session.expire_all()
    erased = {b.id for b in db.session.execute(select(Booking).where(Booking.erased_at.is_not(None))).scalars()}
    assert erased == {mine.id, also_mine.id}
