"""The front desk: booking for a caller (same service, no notice period, same emails and
guarantee), resending the confirmation with a new manage link, and the one rule for who is
told about each change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking import notifications, service
from app.booking.errors import SlotTaken, SlotUnavailable
from app.core.actors import THE_PATIENT, Actor
from app.core.extensions import db
from app.models import Booking, OutboxMessage, utcnow
from app.models.mail import OUTBOX_CANCELLED
from app.models.staff import AuditLog, StaffUser
from tests.conftest import DENVER, future_day, local_dt, make_booking, make_slot, patient
from tests.fixtures_staff import make_staff, signed_in_client, staff_post

CALLER = {
    "mode": "phone",
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "phone": "970-555-0142",
    "interest": "tms",
    "note": "",
    "locale": "en",
    "consent": "y",
}


@pytest.fixture
def desk(ctx):
    return signed_in_client(ctx, "sam@mindset-tms.example", "staff")


def staff_user() -> StaffUser:
    return db.session.execute(select(StaffUser).where(StaffUser.email == "sam@mindset-tms.example")).scalar_one()


def outbox(booking_id: int) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(OutboxMessage).where(OutboxMessage.booking_id == booking_id).order_by(OutboxMessage.id)
        ).scalars()
    )


def kinds(booking_id: int, *, pending_only: bool = False) -> list[tuple[str, str]]:
    return [(m.kind, m.to_address) for m in outbox(booking_id) if not (pending_only and m.status == OUTBOX_CANCELLED)]


def soon_slot(hours: float = 2):
    return make_slot(utcnow().replace(microsecond=0) + timedelta(hours=hours))


# --- the service ---------------------------------------------------------------------------


def test_staff_may_book_inside_the_notice_period_and_the_public_may_not(ctx):
    user = make_staff()
    slot = soon_slot(2)
    with pytest.raises(SlotUnavailable, match="hours ahead"):
        service.book(slot.public_id, "phone", patient(), actor=THE_PATIENT)
    made = service.book(slot.public_id, "phone", patient(), actor=Actor.staff(user))
    booking = db.session.get(Booking, made.booking.id)
    assert booking.booked_by == user.name
    assert service.find_by_token(made.manage_token).id == booking.id
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "booking.create")).scalar_one()
    assert entry.booking_id == booking.id and entry.actor_id == user.id
    assert "Ada" not in entry.details  # the audit trail never names the patient


def test_staff_cannot_book_a_time_that_has_started(ctx):
    user = make_staff()
    slot = make_slot(utcnow() - timedelta(minutes=5))
    with pytest.raises(SlotUnavailable, match="already passed"):
        service.book(slot.public_id, "phone", patient(), actor=Actor.staff(user))


def test_a_taken_slot_gives_staff_alternatives_inside_the_notice_period(ctx):
    user = make_staff()
    held, near = soon_slot(2), soon_slot(3)
    service.book(held.public_id, "phone", patient(), actor=Actor.staff(user))
    with pytest.raises(SlotTaken) as taken:
        service.book(held.public_id, "phone", patient(email="b@example.com"), actor=Actor.staff(user))
    assert [s.id for s in taken.value.alternatives] == [near.id]
    later = soon_slot(14)
    make_booking(later)
    with pytest.raises(SlotTaken) as public:
        service.book(later.public_id, "phone", patient(email="b@example.com"), actor=THE_PATIENT)
    assert public.value.alternatives == []  # patients are not offered a time inside the notice


# --- the pages -----------------------------------------------------------------------------


def test_book_for_a_caller_from_the_week_view(desk):
    slot = soon_slot(3)
    week = desk.get("/staff/calendar").get_data(as_text=True)
    assert f"/staff/bookings/new?slot={slot.public_id}" in week
    assert "staff only" in week
    form = desk.get(f"/staff/bookings/new?slot={slot.public_id}").get_data(as_text=True)
    assert "only staff can book it" in form and "The caller agreed to the privacy notice" in form
    assert 'name="website"' not in form  # no bot trap for signed-in staff
    response = staff_post(desk, "/staff/bookings/new", dict(CALLER, slot_id=slot.public_id))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.phone == "+19705550142" and booking.booked_by == "Sam"
    assert sorted(k for k, _ in kinds(booking.id)) == ["confirmation", "staff_notice"]
    detail = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "by staff (Sam) for a caller" in detail
    assert "Booked for a caller" in detail  # the history


def test_a_spanish_speaking_caller_gets_their_emails_in_spanish(desk):
    slot = soon_slot(5)
    form = desk.get(f"/staff/bookings/new?slot={slot.public_id}").get_data(as_text=True)
    assert "Language for their emails" in form and 'value="es"' in form
    response = staff_post(desk, "/staff/bookings/new", dict(CALLER, slot_id=slot.public_id, locale="es"))
    assert response.status_code == 303
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.locale == "es"
    confirmation = next(m for m in outbox(booking.id) if m.kind == "confirmation")
    assert "/es/manage/" in confirmation.event  # the link in the email opens the Spanish pages
    assert "Español" in desk.get(response.headers["Location"]).get_data(as_text=True)


def test_the_caller_form_checks_fields_like_the_public_form(desk):
    slot = soon_slot(30)
    response = staff_post(
        desk, "/staff/bookings/new", dict(CALLER, slot_id=slot.public_id, phone="12", email="nope", consent=None)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "does not look complete" in html and "Check the caller&#39;s email address" in html
    assert "Tick the box once the caller has agreed to the privacy notice." in html
    assert db.session.execute(select(Booking)).first() is None


def test_a_taken_time_keeps_the_callers_details_and_offers_others(desk):
    held, other = soon_slot(3), soon_slot(4)
    service.book(held.public_id, "phone", patient(email="first@example.com"), actor=Actor.staff(staff_user()))
    response = staff_post(desk, "/staff/bookings/new", dict(CALLER, slot_id=held.public_id))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "was just booked by someone else" in html
    assert f'value="{other.public_id}"' in html and 'value="Grace Hopper"' in html
    response = staff_post(desk, "/staff/bookings/new", dict(CALLER, slot_id=other.public_id))
    assert response.status_code == 303


def test_new_booking_without_a_time_lists_free_times_not_started(desk):
    past, free = make_slot(utcnow() - timedelta(hours=1)), soon_slot(1)
    make_slot(utcnow() + timedelta(hours=5), is_blocked=True)
    html = desk.get("/staff/bookings/new").get_data(as_text=True)
    assert free.public_id in html and past.public_id not in html
    assert html.count("?slot=") == 1


def test_the_time_picker_shows_one_day_at_a_time_and_jumps_to_a_date(desk):
    first, later = make_slot(local_dt(future_day(3), 9)), make_slot(local_dt(future_day(5), 15))
    html = desk.get("/staff/bookings/new").get_data(as_text=True)
    assert f"?slot={first.public_id}" in html and later.public_id not in html
    day = future_day(5).isoformat()
    assert f'href="/staff/bookings/new?day={day}"' in html  # the strip, as plain links
    assert 'name="day" value="' + future_day(3).isoformat() in html  # the date to jump from
    other = desk.get(f"/staff/bookings/new?day={day}").get_data(as_text=True)
    assert f"?slot={later.public_id}" in other and first.public_id not in other
    assert "Afternoon" in other and "1 free time<" in other
    for bad, words in (("2026-13-45", "could not be read"), ("2999-01-01", "from today to")):
        page = desk.get(f"/staff/bookings/new?day={bad}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert words in text and f"?slot={first.public_id}" in text


def test_moving_a_booking_picks_the_new_time_one_day_at_a_time(ctx, desk):
    moving = make_booking(make_slot(local_dt(future_day(3), 9))).booking
    near, far = make_slot(local_dt(future_day(3), 10)), make_slot(local_dt(future_day(6), 11))
    page = desk.get(f"/staff/bookings/{moving.public_id}/move").get_data(as_text=True)
    assert f"/move/{near.public_id}" in page and far.public_id not in page
    assert f"/move/{moving.slot.public_id}" not in page  # not its own time
    later = desk.get(f"/staff/bookings/{moving.public_id}/move?day={future_day(6).isoformat()}")
    assert f"/move/{far.public_id}" in later.get_data(as_text=True)


def test_signed_out_people_cannot_book_for_callers(client, ctx):
    assert client.get("/staff/bookings/new").status_code in (302, 303)


# --- resend confirmation ------------------------------------------------------------------


def test_resend_gives_a_new_manage_link_and_the_old_one_stops_working(desk):
    made = make_booking(make_slot(utcnow() + timedelta(days=3)))
    public_id = made.booking.public_id
    response = staff_post(desk, f"/staff/bookings/{public_id}/resend")
    assert response.status_code == 303
    assert "new link" in desk.get(response.headers["Location"]).get_data(as_text=True)
    assert service.find_by_token(made.manage_token) is None
    messages = outbox(made.booking.id)
    confirmations = [m for m in messages if m.kind == "confirmation"]
    assert len(confirmations) == 2
    new_link = re.search(r"/manage/([\w-]+)", confirmations[-1].event).group(1)
    assert new_link != made.manage_token
    assert service.find_by_token(new_link).public_id == public_id
    reminders = [m for m in messages if m.kind == "reminder"]
    assert [m.status for m in reminders][0] == OUTBOX_CANCELLED  # the reminder with the old link
    assert new_link in reminders[-1].event and reminders[-1].status != OUTBOX_CANCELLED
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "booking.resend")).scalar_one()


def test_resend_refuses_a_cancelled_booking(desk):
    made = make_booking()
    service.cancel(made.booking.public_id, actor=THE_PATIENT)
    response = staff_post(desk, f"/staff/bookings/{made.booking.public_id}/resend")
    page = desk.get(response.headers["Location"]).get_data(as_text=True)
    assert "nothing to confirm" in page
    assert service.find_by_token(made.manage_token) is not None


# --- who is told about what: one rule -------------------------------------------------------


@pytest.mark.parametrize(
    "change, patient_told, staff_told",
    [
        ("booked", True, True),
        ("moved", True, True),
        ("cancelled", True, True),
        ("resent", True, False),
        ("note", False, False),
        ("attendance", False, False),
    ],
)
def test_the_notification_rule(change, patient_told, staff_told):
    assert notifications.recipients(change) == (patient_told, staff_told)


@pytest.mark.parametrize("by", ["patient", "staff"])
def test_staff_get_a_notice_of_every_change_whoever_made_it(ctx, by):
    made = make_booking(make_slot(utcnow() + timedelta(days=3)))
    other = make_slot(utcnow() + timedelta(days=4))
    service.reschedule(made.booking.public_id, other.public_id, actor=Actor(by))
    service.cancel(made.booking.public_id, actor=Actor(by))
    staff = ctx.config["STAFF_NOTIFY_EMAIL"]
    sent = kinds(made.booking.id)
    assert [k for k, to in sent if to == staff] == ["staff_notice"] * 3  # booked, moved, cancelled
    assert [k for k, to in sent if to == "ada@example.com"] == [
        "confirmation",
        "reminder",
        "update",
        "reminder",
        "cancellation",
    ]


def test_a_staff_note_tells_nobody(desk):
    made = make_booking()
    before = kinds(made.booking.id)
    staff_post(desk, f"/staff/bookings/{made.booking.public_id}/notes", {"note": "Called back"})
    assert kinds(made.booking.id) == before


# --- the dashboard at 8 a.m. ----------------------------------------------------------------


def _at(booking_id: int, starts_at, attendance=None) -> None:
    from sqlalchemy import update

    from app.core.database import write_transaction
    from app.models import Slot

    with write_transaction() as session:
        booking = session.get(Booking, booking_id)
        session.execute(
            update(Slot)
            .where(Slot.id == booking.slot_id)
            .values(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30))
        )
        booking.attendance = attendance


def test_dashboard_weekly_figures_and_free_times(ctx):
    from app.schedule.clinic_time import clinic_today, week_start
    from app.staff import dashboard

    now = utcnow()
    user = make_staff()
    monday = week_start(clinic_today(now))
    for n, attendance in enumerate(["attended", "no_show", None]):
        booking = make_booking(make_slot(), email=f"p{n}@example.com").booking
        _at(booking.id, now - timedelta(weeks=3, hours=n), attendance)
    cancelled = make_booking(make_slot(), email="c@example.com").booking
    service.cancel(cancelled.public_id, actor=THE_PATIENT)
    _at(cancelled.id, now - timedelta(weeks=3, hours=5))
    board = dashboard.summary(user, now=now)
    assert len(board.weeks) == 12 and board.weeks[-1].monday == monday
    # Three confirmed consultations three weeks ago (the cancelled one does not count).
    around = [w for w in board.weeks if monday - timedelta(weeks=4) <= w.monday <= monday - timedelta(weeks=3)]
    assert sum(w.bookings for w in around) == 3 and sum(w.no_shows for w in around) == 1
    assert sum(w.bookings for w in board.weeks) == 3 and sum(w.no_shows for w in board.weeks) == 1
    free_before = board.free_this_week
    end_of_week = dashboard.day_range(monday, monday + timedelta(days=6))[1]
    if now + timedelta(hours=1) < end_of_week:
        make_slot(now + timedelta(hours=1))
        assert dashboard.summary(user, now=now).free_this_week == free_before + 1


def test_dashboard_today_first_with_one_click_attendance(desk):
    now = utcnow()
    started = service.book(
        soon_slot(1).public_id, "video", patient(name="Grace Hopper"), actor=Actor.staff(staff_user())
    ).booking
    # Started ten minutes ago, or at midnight when the clinic's day began less than ten
    # minutes ago: today and under way at any hour the suite runs.
    _at(started.id, max(now - timedelta(minutes=10), local_dt(future_day(0), 0)))
    later = soon_slot(0.5)
    html = desk.get("/staff/").get_data(as_text=True)
    assert html.index("today-heading") < html.index("stat-row")
    assert "Grace H." in html and "Video call" in html
    assert html.count('name="attendance" value="no_show"') == 1
    assert 'role="img"' in html and '<title id="chart-title">' in html and "<table" in html
    response = staff_post(
        desk, f"/staff/bookings/{started.public_id}/attendance", {"attendance": "no_show", "back": "dashboard"}
    )
    assert response.status_code == 303 and response.headers["Location"].startswith("/staff/")
    assert db.session.get(Booking, started.id).attendance == "no_show"
    assert later  # a free time today, not yet booked, is not listed as a consultation


def test_seed_demo_with_bookings_makes_a_living_console(ctx):
    from app.booking.cli import DEMO_BOOKINGS, seed_demo, seed_demo_bookings
    from app.staff import dashboard

    seed_demo(days=14)
    now = local_dt(future_day(1), 10, 40)
    while now.astimezone(DENVER).weekday() >= 5:  # an open day (tests/test_demo_seed.py: any day)
        now += timedelta(days=1)
    assert seed_demo_bookings(now=now) == len(DEMO_BOOKINGS)
    assert seed_demo_bookings(now=now) == 0  # only into an empty database
    bookings = list(db.session.execute(select(Booking)).scalars())
    assert all(b.manage_token_hash for b in bookings)
    assert {b.attendance for b in bookings} == {None, "attended", "no_show"}
    confirmations = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "confirmation")).all()
    assert len(confirmations) == len(DEMO_BOOKINGS)
    board = dashboard.summary(make_staff(), now=now)
    assert len(board.today) >= 1 and sum(w.no_shows for w in board.weeks) == 1


def test_adding_a_time_inside_the_notice_period_says_it_is_bookable_by_staff_only(desk):
    from app.schedule.clinic_time import local

    soon = local(utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
    later = local(utcnow() + timedelta(days=3))
    for at, expected in ((soon, "bookable by staff only"), (later, "Patients can book it now")):
        response = staff_post(
            desk,
            "/staff/calendar/add",
            {"on_date": at.date().isoformat(), "at": at.strftime("%H:%M"), "minutes": "30", "modes": ["phone"]},
            follow_redirects=True,
        )
        html = response.get_data(as_text=True)
        assert expected in html, html[:3000]
        if expected != "Patients can book it now":
            assert "Patients can book it now" not in html
