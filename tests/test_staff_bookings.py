"""Bookings in the staff console, on SQLite and PostgreSQL: search and filters, the detail
page, cancel and move (with the patient's emails), attendance, notes, the audit rows each
writes, the dashboard figures, and erasing a patient."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.booking import service
from app.core.actors import THE_PATIENT, Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.mail import rendering
from app.models import Booking, OutboxMessage, Slot, utcnow
from app.models.mail import OUTBOX_CANCELLED, OUTBOX_SENT
from app.models.staff import AuditLog, AuditLogIsAppendOnly
from app.staff import accounts, bookings_admin, dashboard, erase
from tests.conftest import future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import make_staff, signed_in_client, staff_post


@pytest.fixture
def staff(any_app):
    return signed_in_client(any_app, "sam@mindset-tms.example", "staff")


@pytest.fixture
def admin(any_app):
    return signed_in_client(any_app, "alex@mindset-tms.example", "admin")


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def shift_slot(slot_id: int, starts_at) -> None:
    """Put a booked slot at another instant (the booking service rightly refuses past times)."""
    with write_transaction() as session:
        session.execute(
            update(Slot)
            .where(Slot.id == slot_id)
            .values(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30))
        )


def audit_rows(booking_id=None, action=None) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id)
    if booking_id is not None:
        query = query.where(AuditLog.booking_id == booking_id)
    if action:
        query = query.where(AuditLog.action == action)
    db.session.expire_all()
    return list(db.session.execute(query).scalars())


def outbox_for(booking_id: int) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.booking_id == booking_id).order_by(OutboxMessage.id)
        ).scalars()
    )


# --- list, search, filters --------------------------------------------------------------


@pytest.fixture
def three(ctx):
    ada = make_booking(
        make_slot(local_dt(future_day(3), 9)),
        mode="phone",
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+19705550123",
        interest="tms",
    ).booking
    grace = make_booking(
        make_slot(local_dt(future_day(4), 10)),
        mode="video",
        name="Grace Hopper",
        email="grace@navy.example",
        phone="+13035550199",
        interest="ketamine",
    ).booking
    alan = make_booking(
        make_slot(local_dt(future_day(8), 11)),
        mode="in_person",
        name="Alan Turing",
        email="alan@example.org",
        phone="+17205550142",
        interest="not_sure",
    ).booking
    return ada, grace, alan


def listed(client, **params) -> set[str]:
    html = client.get("/staff/bookings", query_string=params).get_data(as_text=True)
    return {name for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing") if name in html}


def test_search_by_name_email_and_phone(three, staff):
    assert listed(staff) == {"Ada Lovelace", "Grace Hopper", "Alan Turing"}
    assert listed(staff, q="hopper") == {"Grace Hopper"}
    assert listed(staff, q="ALAN@example") == {"Alan Turing"}
    assert listed(staff, q="(970) 555-0123") == {"Ada Lovelace"}
    assert listed(staff, q="555") == {"Ada Lovelace", "Grace Hopper", "Alan Turing"}
    assert listed(staff, q="100%_") == set()


def test_filters_by_date_status_mode_and_interest(three, staff):
    ada, grace, alan = three
    assert listed(staff, mode="video") == {"Grace Hopper"}
    assert listed(staff, interest="not_sure") == {"Alan Turing"}
    assert listed(staff, date_from=future_day(4).isoformat(), date_to=future_day(8).isoformat()) == {
        "Grace Hopper",
        "Alan Turing",
    }
    assert listed(staff, date_to=future_day(3).isoformat()) == {"Ada Lovelace"}
    service.cancel(grace.public_id, actor=THE_PATIENT)
    assert listed(staff, status="cancelled") == {"Grace Hopper"}
    assert listed(staff, status="confirmed") == {"Ada Lovelace", "Alan Turing"}
    shift_slot(ada.slot_id, utcnow() - timedelta(days=2))
    assert listed(staff, when="past") == {"Ada Lovelace"}
    assert listed(staff) == {"Grace Hopper", "Alan Turing"}
    assert listed(staff, when="all") == {"Ada Lovelace", "Grace Hopper", "Alan Turing"}


def count_line(client, **params) -> str:
    html = client.get("/staff/bookings", query_string=params).get_data(as_text=True)
    start = html.index('class="result-count"')
    return html[html.index(">", start) + 1 : html.index("</p>", start)]


def test_the_count_says_how_many_listed_bookings_are_cancelled(three, staff):
    ada, grace, alan = three
    assert count_line(staff) == "3 bookings coming up."
    service.cancel(grace.public_id, actor=THE_PATIENT)
    assert count_line(staff) == "3 bookings coming up, 1 of them cancelled."
    assert count_line(staff, status="confirmed") == "2 bookings coming up."
    assert count_line(staff, status="cancelled") == "1 booking coming up."
    assert count_line(staff, q="grace") == "1 booking coming up matching &ldquo;grace&rdquo;, cancelled."
    service.cancel(ada.public_id, actor=THE_PATIENT)
    service.cancel(alan.public_id, actor=THE_PATIENT)
    assert count_line(staff) == "3 bookings coming up, all cancelled."


def test_detail_page_shows_everything_the_patient_gave(ctx, staff):
    answers = {
        "answers": [{"key": "mood", "question": "How has your mood been?", "answer": "Low most days"}],
        "to_discuss": ["Medication history"],
    }
    booking = make_booking(note="I prefer mornings", self_check=answers).booking
    page = staff.get(f"/staff/bookings/{booking.public_id}").get_data(as_text=True)
    for text in (
        "Ada Lovelace",
        "ada@example.com",
        "(970) 555-0123",
        "I prefer mornings",
        "TMS",
        "Phone call",
        "Self-check answers (shared by the patient)",
        "How has your mood been?",
        "Low most days",
        "Medication history",
    ):
        assert text in page, text
    (view,) = audit_rows(booking.id, "booking.view")
    assert view.actor.email == "sam@mindset-tms.example"
    assert staff.get("/staff/bookings/not-a-booking").status_code == 404


# --- cancel and move --------------------------------------------------------------------


def test_cancel_asks_first_then_frees_the_slot_and_emails_the_patient(ctx, staff):
    booking = make_booking().booking
    confirm = staff.get(f"/staff/bookings/{booking.public_id}/cancel")
    assert confirm.status_code == 200 and "Yes, cancel" in confirm.get_data(as_text=True)
    assert fresh(Booking, booking.id).status == "confirmed"
    response = staff_post(
        staff,
        f"/staff/bookings/{booking.public_id}/cancel",
        {"message": "Dr. Reyes is away that day, sorry."},
        token_from=f"/staff/bookings/{booking.public_id}/cancel",
    )
    assert response.status_code == 303
    cancelled = fresh(Booking, booking.id)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "staff")
    assert f"/book/{cancelled.slot.public_id}" in staff.get("/book").get_data(as_text=True)
    mail = [m for m in outbox_for(booking.id) if m.kind == "cancellation"]
    assert len(mail) == 1 and mail[0].to_address == "ada@example.com"
    words = rendering.render(mail[0], utcnow())
    assert "Dr. Reyes is away that day" in words.text and "METHOD:CANCEL" in words.ics
    (entry,) = audit_rows(booking.id, "booking.cancel")
    assert entry.actor.email == "sam@mindset-tms.example"
    assert entry.details == "with a message to the patient" and "Reyes" not in entry.details


def test_cancelling_twice_changes_nothing_and_writes_no_audit_row(ctx, staff):
    booking = make_booking().booking
    url = f"/staff/bookings/{booking.public_id}/cancel"
    staff_post(staff, url, {"message": ""}, token_from=url)
    response = staff_post(staff, url, {"message": ""}, token_from=f"/staff/bookings/{booking.public_id}")
    assert "already cancelled" in staff.get(response.headers["Location"]).get_data(as_text=True)
    assert len(audit_rows(booking.id, "booking.cancel")) == 1
    assert len([m for m in outbox_for(booking.id) if m.kind == "cancellation"]) == 1


def test_audit_row_and_cancel_share_one_transaction(ctx, staff, monkeypatch):
    """If the cancellation's transaction fails at the end, neither it nor its audit row lands."""
    from app.booking import notifications

    booking = make_booking().booking

    def broken(*args, **kwargs):
        raise RuntimeError("mail composition failed")

    monkeypatch.setattr(notifications, "booking_cancelled", broken)
    actor = accounts.find_by_email("sam@mindset-tms.example")
    with pytest.raises(RuntimeError):
        bookings_admin.cancel(booking.public_id, "", actor)
    assert fresh(Booking, booking.id).status == "confirmed"
    assert audit_rows(booking.id, "booking.cancel") == []


def test_move_to_another_free_slot(ctx, staff):
    booking = make_booking(mode="phone").booking
    old_slot_id = booking.slot_id
    target = make_slot(local_dt(future_day(6), 14), modes="in_person,video")
    choices = staff.get(f"/staff/bookings/{booking.public_id}/move").get_data(as_text=True)
    confirm_url = f"/staff/bookings/{booking.public_id}/move/{target.public_id}"
    assert confirm_url in choices
    confirm = staff.get(confirm_url).get_data(as_text=True)
    assert "Yes, move" in confirm and "Phone call" not in confirm  # only the modes that slot offers
    response = staff_post(staff, confirm_url, {"mode": "video"}, token_from=confirm_url)
    assert response.status_code == 303
    moved = fresh(Booking, booking.id)
    assert (moved.slot_id, moved.mode, moved.status) == (target.id, "video", "confirmed")
    assert f"/book/{fresh(Slot, old_slot_id).public_id}" in staff.get("/book").get_data(as_text=True)
    assert [m.kind for m in outbox_for(booking.id)].count("update") == 1
    (entry,) = audit_rows(booking.id, "booking.move")
    assert "to " in entry.details


def test_move_refuses_a_taken_slot(ctx, staff):
    booking = make_booking().booking
    other = make_booking(email="grace@example.com", name="Grace Hopper").booking
    url = f"/staff/bookings/{booking.public_id}/move/{other.slot.public_id}"
    response = staff_post(staff, url, {"mode": "phone"}, token_from=f"/staff/bookings/{booking.public_id}")
    assert response.status_code == 303
    assert "booked by someone else" in staff.get(response.headers["Location"]).get_data(as_text=True)
    assert fresh(Booking, booking.id).slot_id == booking.slot_id
    assert audit_rows(booking.id, "booking.move") == []


# --- attendance and notes ---------------------------------------------------------------


def test_mark_attended_and_no_show_after_the_start(ctx, staff):
    booking = make_booking().booking
    url = f"/staff/bookings/{booking.public_id}/attendance"
    detail = f"/staff/bookings/{booking.public_id}"
    early = staff_post(staff, url, {"attendance": "attended"}, token_from=detail)
    assert "once the consultation has started" in staff.get(early.headers["Location"]).get_data(as_text=True)
    assert fresh(Booking, booking.id).attendance is None
    shift_slot(booking.slot_id, utcnow() - timedelta(hours=1))
    staff_post(staff, url, {"attendance": "no_show"}, token_from=f"/staff/bookings/{booking.public_id}")
    assert fresh(Booking, booking.id).attendance == "no_show"
    staff_post(staff, url, {"attendance": "attended"}, token_from=f"/staff/bookings/{booking.public_id}")
    assert fresh(Booking, booking.id).attendance == "attended"
    staff_post(staff, url, {"attendance": ""}, token_from=f"/staff/bookings/{booking.public_id}")
    assert fresh(Booking, booking.id).attendance is None
    marks = [e.details for e in audit_rows(booking.id, "booking.attendance")]
    assert marks == ["no_show", "attended", "cleared"]


def test_internal_notes_are_added_with_author_and_time(ctx, staff):
    booking = make_booking().booking
    url = f"/staff/bookings/{booking.public_id}/notes"
    detail = f"/staff/bookings/{booking.public_id}"
    staff_post(staff, url, {"note": "Called to confirm parking."}, token_from=detail)
    staff_post(staff, url, {"note": "Prefers a female clinician."}, token_from=detail)
    notes = fresh(Booking, booking.id).staff_notes
    assert notes.index("Called to confirm parking.") < notes.index("Prefers a female clinician.")
    assert notes.count("Sam") == 2
    assert len(audit_rows(booking.id, "booking.note")) == 2
    assert all("parking" not in e.details for e in audit_rows(booking.id, "booking.note"))
    page = staff.get(f"/staff/bookings/{booking.public_id}").get_data(as_text=True)
    assert "Prefers a female clinician." in page


def test_audit_log_cannot_be_changed(ctx, staff):
    booking = make_booking().booking
    staff.get(f"/staff/bookings/{booking.public_id}")
    entry = audit_rows(booking.id)[0]
    entry.details = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.delete(audit_rows(booking.id)[0])
        db.session.flush()
    db.session.rollback()
    assert audit_rows(booking.id)[0].details == ""


def test_admin_sees_the_audit_log(ctx, admin, staff):
    booking = make_booking().booking
    staff.get(f"/staff/bookings/{booking.public_id}")
    page = admin.get("/staff/audit").get_data(as_text=True)
    assert "Viewed a booking" in page and "Sam" in page and booking.public_id in page
    assert staff.get("/staff/audit").status_code == 403


# --- dashboard --------------------------------------------------------------------------


def test_dashboard_figures(ctx):
    # Midday tomorrow in the clinic: "today" is one whole clinic day at any hour the suite
    # runs, and every booking made below was made before it.
    now = local_dt(future_day(1), 12)
    user = make_staff("sam@mindset-tms.example")
    today_booking = make_booking(make_slot(), email="t@example.com").booking
    shift_slot(today_booking.slot_id, now + timedelta(minutes=5))
    for n, attendance in enumerate(["attended", "attended", "attended", "no_show"]):
        past = make_booking(make_slot(), email=f"p{n}@example.com").booking
        shift_slot(past.slot_id, now - timedelta(days=10 + n))
        with write_transaction():
            db.session.get(Booking, past.id).attendance = attendance
    unmarked = make_booking(make_slot(), email="u@example.com").booking
    shift_slot(unmarked.slot_id, now - timedelta(days=3))
    old = make_booking(make_slot(), email="o@example.com").booking
    shift_slot(old.slot_id, now - timedelta(days=120))
    with write_transaction():
        db.session.get(Booking, old.id).attendance = "no_show"
    board = dashboard.summary(user, now=now)
    assert [b.id for b in board.today] == [today_booking.id]
    assert today_booking.id in [b.id for b in board.this_week]
    assert (board.no_show.no_shows, board.no_show.recorded, board.no_show.unrecorded) == (1, 4, 1)
    assert board.no_show.percent == 25
    # "New since last visit" counts from the sign-in before the latest one.
    with write_transaction():
        db.session.get(type(user), user.id).previous_sign_in_at = now + timedelta(seconds=1)
    later = make_booking(make_slot(), email="new@example.com").booking
    with write_transaction():
        db.session.get(Booking, later.id).created_at = now + timedelta(minutes=1)
    board = dashboard.summary(fresh(type(user), user.id), now=now + timedelta(minutes=2))
    assert [b.id for b in board.new_bookings] == [later.id]


def test_dashboard_page(ctx, staff):
    make_booking()
    page = staff.get("/staff/").get_data(as_text=True)
    assert "today" in page and "this week" in page and "no-show" in page.lower()
    assert "Ada Lovelace" in page  # a new booking


# --- erase ------------------------------------------------------------------------------


def test_erase_anonymises_bookings_and_mail_but_keeps_history(ctx, admin):
    first = make_booking(
        note="Anxious about the machine", self_check={"answers": [{"question": "Q", "answer": "A"}]}
    ).booking
    second = make_booking(email="ADA@example.com").booking
    other = make_booking(email="grace@example.com", name="Grace Hopper").booking
    staff_post(
        admin,
        f"/staff/bookings/{first.public_id}/notes",
        {"note": "Has a pacemaker"},
        token_from=f"/staff/bookings/{first.public_id}",
    )
    shift_slot(first.slot_id, utcnow() - timedelta(days=3))
    # One message already went out; the rest are still queued.
    sent_id = outbox_for(first.id)[0].id
    with write_transaction() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == sent_id).values(status=OUTBOX_SENT))
    url = f"/staff/bookings/{first.public_id}/erase"
    blocked = admin.get(url).get_data(as_text=True)
    assert "still has 1 upcoming consultation" in blocked and "Yes, erase" not in blocked
    refused = staff_post(admin, url, token_from=url)
    assert refused.status_code == 200 and "Cancel it first" in refused.get_data(as_text=True)
    assert fresh(Booking, first.id).erased_at is None
    service.cancel(second.public_id, actor=Actor("staff"))
    confirm = admin.get(url).get_data(as_text=True)
    assert "Yes, erase" in confirm and "2 bookings" in confirm
    response = staff_post(admin, url, token_from=url)
    assert response.status_code == 303

    for booking_id in (first.id, second.id):
        b = fresh(Booking, booking_id)
        assert b.name == "Erased patient" and b.email == f"erased-{b.public_id}@invalid"
        assert (b.phone, b.note, b.self_check, b.staff_notes) == ("", "", None, "")
        assert b.erased_at is not None and b.slot is not None
        for message in outbox_for(booking_id):
            blanked = (message.to_address, message.body_text, message.body_html, message.ics)
            assert blanked == ("", "", "", None)
            assert "Ada" not in message.subject
            assert message.status in (OUTBOX_CANCELLED, OUTBOX_SENT, "failed")
    statuses = {m.id: m.status for m in outbox_for(first.id)}
    assert statuses[sent_id] == OUTBOX_SENT
    assert all(s != "pending" for s in statuses.values())
    # Someone else's data is untouched; the slots stay; the audit log says what happened.
    assert fresh(Booking, other.id).name == "Grace Hopper"
    assert any("Grace" in rendering.render(m, utcnow()).text for m in outbox_for(other.id))
    assert fresh(Slot, first.slot_id) is not None
    entries = audit_rows(action="patient.erase")
    assert {e.booking_id for e in entries} == {first.id, second.id}
    assert all("Ada" not in e.details and "ada@" not in e.details for e in audit_rows())
    page = admin.get(f"/staff/bookings/{first.public_id}").get_data(as_text=True)
    assert "Ada" not in page and "pacemaker" not in page and "Anxious" not in page
    assert "personal data was erased" in page


def test_erase_is_refused_twice(ctx, admin):
    booking = make_booking().booking
    service.cancel(booking.public_id, actor=Actor("staff"))
    assert erase.erase_patient(booking.public_id, None) == 1
    with pytest.raises(erase.EraseError, match="already been erased"):
        erase.erase_patient(booking.public_id, None)


def test_self_check_json_is_shown_readably():
    booking = Booking(
        self_check=json.dumps({"answers": [{"question": "Sleep?", "answer": "Poor"}], "to_discuss": ["Sleep"]})
    )
    result = bookings_admin.self_check(booking)
    assert result.answers == [("Sleep?", "Poor")] and result.to_discuss == ["Sleep"]
    assert bookings_admin.self_check(Booking(self_check=None)) is None
    assert bookings_admin.self_check(Booking(self_check="not json")).answers == [("Answers", "not json")]


def test_erase_removes_the_patients_captured_mail_files(database_url, tmp_path):
    """Without MAIL_SERVER the worker writes each message to MAIL_CAPTURE_DIR; erasing the
    patient takes those copies too, and leaves other patients' files alone."""
    from app.mail.delivery import captured_file, deliver_due
    from tests.conftest import build_app, dispose

    mail_dir = tmp_path / "mail"
    app = build_app(database_url, {"MAIL_SERVER": "", "MAIL_CAPTURE_DIR": str(mail_dir)})
    try:
        with app.app_context():
            ada = make_booking().booking
            grace = make_booking(email="grace@example.com", name="Grace Hopper").booking
            deliver_due()
            service.cancel(ada.public_id, actor=Actor("staff"))
            deliver_due()  # the cancellation is captured too
            ada_files = {captured_file(m).name for m in outbox_for(ada.id)}
            grace_files = {captured_file(m).name for m in outbox_for(grace.id) if m.status == OUTBOX_SENT}
            present = {p.name for p in mail_dir.iterdir()}
            assert len(ada_files & present) >= 3 and grace_files <= present

            assert erase.erase_patient(ada.public_id, None) == 1

            left = {p.name for p in mail_dir.iterdir()}
            assert not ada_files & left
            assert grace_files <= left
            assert not any(b"ada@example.com" in (mail_dir / name).read_bytes() for name in left)
    finally:
        dispose(app)


def test_search_by_booking_reference_as_read_aloud(three, staff):
    ada, grace, alan = three
    shown = grace.reference_display
    assert len(shown) == 9 and shown[4] == "-"
    assert listed(staff, q=shown) == {"Grace Hopper"}
    assert listed(staff, q=grace.reference.lower()) == {"Grace Hopper"}
    # Crockford: a 1 read as I or L, a 0 read as O, still finds it.
    typed = grace.reference.replace("1", "l").replace("0", "o")
    assert listed(staff, q=f"{typed[:4]} {typed[4:]}") == {"Grace Hopper"}
    detail = staff.get(f"/staff/bookings/{grace.public_id}").get_data(as_text=True)
    assert shown in detail
