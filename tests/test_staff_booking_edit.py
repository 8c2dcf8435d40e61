"""Correcting a booking's details in the staff console, on SQLite and PostgreSQL: name,
email, phone, language and meeting type in place; a new address gets the confirmation again
(same UID, higher SEQUENCE, a new manage link) and the old one only hears that it changed;
every change is audited, and a refused change writes nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking import notifications, service
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.mail import rendering
from app.models import Booking, OutboxMessage, utcnow
from app.models.mail import OUTBOX_CANCELLED, OUTBOX_PENDING
from app.models.staff import AuditLog, StaffUser
from app.staff import bookings_admin
from tests.conftest import make_booking, make_slot
from tests.fixtures_staff import signed_in_client, staff_post


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def desk(ctx):
    return signed_in_client(ctx, "sam@mindset-tms.example", "staff")


FORM = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "(970) 555-0123", "locale": "en", "mode": "phone"}


def booked(**fields):
    return make_booking(make_slot(utcnow().replace(microsecond=0) + timedelta(days=3)), **fields)


def edit(client, public_id: str, **changes):
    url = f"/staff/bookings/{public_id}/edit"
    return staff_post(client, url, {**FORM, **changes}, token_from=url)


def fresh(booking_id: int) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking_id)


def messages(booking_id: int) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.booking_id == booking_id).order_by(OutboxMessage.id)
        ).scalars()
    )


def pending(booking_id: int) -> list[tuple[str, str]]:
    """The patient's messages still to send (the staff notice of the booking aside)."""
    return [
        (m.kind, m.to_address) for m in messages(booking_id) if m.status == OUTBOX_PENDING and m.kind != "staff_notice"
    ]


def edits(booking_id: int) -> list[AuditLog]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(AuditLog).where(AuditLog.booking_id == booking_id, AuditLog.action == "booking.edit")
        ).scalars()
    )


def test_the_edit_page_shows_the_current_details(desk):
    made = booked(name="Ada Lovelace", phone="+19705550123")
    page = desk.get(f"/staff/bookings/{made.booking.public_id}").get_data(as_text=True)
    assert f"/staff/bookings/{made.booking.public_id}/edit" in page
    form = desk.get(f"/staff/bookings/{made.booking.public_id}/edit").get_data(as_text=True)
    assert 'value="Ada Lovelace"' in form and 'value="ada@example.com"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="phone"|<input[^>]*value="phone"[^>]*checked', form)


def test_a_new_email_gets_the_confirmation_and_the_old_one_only_hears_it_changed(desk):
    made = booked()
    before = fresh(made.booking.id)
    uid, sequence = before.ical_uid, before.ical_sequence
    response = edit(desk, made.booking.public_id, email="ada.lovelace@example.org")
    assert response.status_code == 303
    assert "ada.lovelace@example.org" in desk.get(response.headers["Location"]).get_data(as_text=True)

    booking = fresh(made.booking.id)
    assert booking.email == "ada.lovelace@example.org"
    assert (booking.ical_uid, booking.ical_sequence) == (uid, sequence + 1)
    assert service.find_by_token(made.manage_token) is None  # the old link stops working

    # Nothing more goes to the old address but the notice; the new one gets the confirmation
    # (and, later, the reminder) with the new link.
    assert pending(booking.id) == [
        ("contact_changed", "ada@example.com"),
        ("confirmation", "ada.lovelace@example.org"),
        ("reminder", "ada.lovelace@example.org"),
    ]
    rows = messages(booking.id)
    assert [m.status for m in rows if m.kind == "confirmation"][0] == OUTBOX_CANCELLED
    notice = next(m for m in rows if m.kind == "contact_changed")
    words = rendering.render(notice, utcnow())
    assert notice.to_name == "" and words.ics is None
    for detail in (
        "Ada",
        "Lovelace",
        booking.reference_display,
        "/manage/",
        "ada.lovelace",
        booking.slot.starts_at.astimezone(clinic_zone()).strftime("%A"),
    ):
        assert detail not in words.text and detail not in words.html and detail not in words.subject, detail
    assert "email address" in words.text

    confirmation = [m for m in rows if m.kind == "confirmation"][-1]
    link = re.search(r"/manage/([\w-]+)", json.loads(confirmation.event)["manage_url"]).group(1)
    assert service.find_by_token(link).id == booking.id
    words = rendering.render(confirmation, utcnow())
    assert f"UID:{uid}" in words.ics and f"SEQUENCE:{sequence + 1}" in words.ics
    assert link in words.text

    (entry,) = edits(booking.id)
    assert entry.actor.email == "sam@mindset-tms.example"
    assert entry.details == "changed the email address"  # never the values: entries outlive an erasure


def test_the_notice_to_the_old_address_is_in_the_booking_s_language(desk):
    made = booked(locale="es")
    edit(desk, made.booking.public_id, email="otra@example.com", locale="es")
    notice = next(m for m in messages(made.booking.id) if m.kind == "contact_changed")
    words = rendering.render(notice, utcnow())
    assert "correo electrónico" in words.subject and "La clínica cambió" in words.text


def test_a_phone_change_is_saved_and_audited_without_an_email(desk):
    made = booked()
    queued = pending(made.booking.id)
    response = edit(desk, made.booking.public_id, phone="303 555 0199")
    assert response.status_code == 303
    booking = fresh(made.booking.id)
    assert booking.phone == "+13035550199" and booking.ical_sequence == 0
    assert pending(booking.id) == queued
    assert service.find_by_token(made.manage_token).id == booking.id
    assert [e.details for e in edits(booking.id)] == ["changed the phone number"]


def test_name_language_and_meeting_type_are_changed_together_and_resent(desk):
    made = booked()
    edit(desk, made.booking.public_id, name="Ada King", locale="es", mode="video")
    booking = fresh(made.booking.id)
    assert (booking.name, booking.locale, booking.mode, booking.ical_sequence) == ("Ada King", "es", "video", 1)
    assert ("confirmation", "ada@example.com") in pending(booking.id)
    assert "contact_changed" not in [kind for kind, _to in pending(booking.id)]
    confirmation = [m for m in messages(booking.id) if m.kind == "confirmation"][-1]
    assert "/es/manage/" in confirmation.event
    (entry,) = edits(booking.id)
    assert entry.details == "changed the name, language, meeting type"


def test_saving_without_a_change_writes_nothing(desk):
    made = booked()
    queued = pending(made.booking.id)
    response = edit(desk, made.booking.public_id, phone="970-555-0123")
    assert "Nothing was changed" in desk.get(response.headers["Location"]).get_data(as_text=True)
    assert pending(made.booking.id) == queued and edits(made.booking.id) == []


def test_a_bad_email_is_shown_at_the_field_with_what_was_typed(desk):
    made = booked()
    response = edit(desk, made.booking.public_id, email="ada@example", name="Ada  Byron")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in page and "name@example.com" in page
    assert 'value="ada@example"' in page and 'value="Ada  Byron"' in page
    booking = fresh(made.booking.id)
    assert (booking.email, booking.name) == ("ada@example.com", "Ada Lovelace")
    assert edits(booking.id) == []


def test_a_meeting_type_the_time_does_not_offer_is_refused_at_the_field(desk):
    made = make_booking(make_slot(utcnow().replace(microsecond=0) + timedelta(days=3), modes="phone,video"))
    response = edit(desk, made.booking.public_id, mode="in_person")
    assert response.status_code == 422 and 'id="mode-error"' in response.get_data(as_text=True)
    actor = db.session.execute(select(StaffUser)).scalar_one()
    details = bookings_admin.Details(
        name="Ada Lovelace", email="ada@example.com", phone="+19705550123", locale="en", mode="in_person"
    )
    with pytest.raises(bookings_admin.StaffActionError) as refused:
        bookings_admin.edit_details(made.booking.public_id, details, actor)
    assert refused.value.field == "mode"
    assert fresh(made.booking.id).mode == "phone"


def test_a_cancelled_booking_cannot_be_edited(desk):
    made = booked()
    service.cancel(made.booking.public_id, actor=THE_PATIENT)
    url = f"/staff/bookings/{made.booking.public_id}/edit"
    response = staff_post(
        desk, url, {**FORM, "phone": "303 555 0199"}, token_from=f"/staff/bookings/{made.booking.public_id}"
    )
    assert response.status_code == 303
    assert "can be edited" in desk.get(response.headers["Location"]).get_data(as_text=True)
    assert fresh(made.booking.id).phone == "+19705550123" and edits(made.booking.id) == []


def test_the_change_its_audit_entry_and_its_emails_land_together_or_not_at_all(desk, monkeypatch):
    made = booked()
    queued = pending(made.booking.id)

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox is unreachable")

    monkeypatch.setattr(notifications, "confirmation_resent", broken)
    actor = db.session.execute(select(StaffUser)).scalar_one()
    details = bookings_admin.Details(
        name="Ada Lovelace", email="new@example.com", phone="+19705550123", locale="en", mode="phone"
    )
    with pytest.raises(RuntimeError):
        bookings_admin.edit_details(made.booking.public_id, details, actor)
    assert fresh(made.booking.id).email == "ada@example.com"
    assert pending(made.booking.id) == queued and edits(made.booking.id) == []
    assert service.find_by_token(made.manage_token) is not None


def test_a_resent_confirmation_raises_the_sequence(desk):
    made = booked()
    staff_post(desk, f"/staff/bookings/{made.booking.public_id}/resend")
    booking = fresh(made.booking.id)
    assert booking.ical_sequence == 1
    confirmation = [m for m in messages(booking.id) if m.kind == "confirmation"][-1]
    assert "SEQUENCE:1" in rendering.render(confirmation, utcnow()).ics


# --- every patient email carries the manage link ---------------------------------------------


def test_a_move_with_the_patient_s_link_keeps_it_and_the_update_carries_it(ctx):
    made = booked()
    target = make_slot(utcnow().replace(microsecond=0) + timedelta(days=4))
    service.reschedule(made.booking.public_id, target.public_id, actor=THE_PATIENT, manage_token=made.manage_token)
    update = [m for m in messages(made.booking.id) if m.kind == "update"][-1]
    assert f"/manage/{made.manage_token}" in rendering.render(update, utcnow()).text
    assert service.find_by_token(made.manage_token).id == made.booking.id
    reminder = [m for m in messages(made.booking.id) if m.kind == "reminder"][-1]
    assert made.manage_token in reminder.event


def test_a_move_by_staff_sends_a_new_link_in_the_update_and_reminder(desk):
    made = booked()
    target = make_slot(utcnow().replace(microsecond=0) + timedelta(days=4))
    actor = db.session.execute(select(StaffUser)).scalar_one()
    bookings_admin.move(made.booking.public_id, target.public_id, None, actor)
    update = [m for m in messages(made.booking.id) if m.kind == "update"][-1]
    link = re.search(r"/manage/([\w-]+)", rendering.render(update, utcnow()).text).group(1)
    assert link != made.manage_token and service.find_by_token(made.manage_token) is None
    assert service.find_by_token(link).id == made.booking.id
    reminder = [m for m in messages(made.booking.id) if m.kind == "reminder" and m.status == OUTBOX_PENDING]
    assert len(reminder) == 1 and link in reminder[0].event
