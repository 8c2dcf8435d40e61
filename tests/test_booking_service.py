"""The booking service against a real database: SQLite file and PostgreSQL (each test runs on both)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.booking import service
from app.booking.cli import seed_demo
from app.booking.errors import (
    BookingClosed,
    ModeNotOffered,
    SlotNotFound,
    SlotTaken,
    SlotUnavailable,
    TooManyBookings,
)
from app.booking.slots import free_slots, regenerate_slots
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.core.tokens import hash_token
from app.models import AvailabilityRule, Booking, DateOverride, Slot
from tests.conftest import DENVER, future_day, local_dt, make_booking, make_slot, patient


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


def test_book_stores_hashed_token_and_ical_identity(ctx):
    slot = make_slot()
    result = service.book(slot.public_id, "video", patient(name="Grace Hopper"), actor=THE_PATIENT)
    booking = db.session.execute(select(Booking)).scalar_one()
    assert booking.manage_token_hash == hash_token(result.manage_token)
    assert result.manage_token not in booking.manage_token_hash
    assert len(result.manage_token) >= 32  # 24 random bytes, base64url
    assert booking.ical_sequence == 0 and booking.ical_uid == f"{booking.public_id}@mindset-tms.example"
    assert booking.status == "confirmed" and booking.mode == "video"
    assert service.find_by_token(result.manage_token).id == booking.id
    other_last = "x" if result.manage_token[-1] != "x" else "y"
    assert service.find_by_token(result.manage_token[:-1] + other_last) is None


def test_second_booking_of_a_slot_is_refused_with_alternatives(ctx):
    slot = make_slot()
    other = make_slot(slot.starts_at + timedelta(hours=2))
    service.book(slot.public_id, "phone", patient(), actor=THE_PATIENT)
    with pytest.raises(SlotTaken) as taken:
        service.book(slot.public_id, "phone", patient(email="someone@example.com"), actor=THE_PATIENT)
    assert [s.public_id for s in taken.value.alternatives] == [other.public_id]
    assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 1


def test_database_refuses_a_second_active_booking_even_without_the_check(ctx):
    from sqlalchemy.exc import IntegrityError

    first = make_booking()
    booking = db.session.get(Booking, 1)
    duplicate = Booking(
        slot_id=booking.slot_id,
        mode="phone",
        name="X",
        email="x@example.com",
        phone="+19705550123",
        interest="tms",
        consent_at=booking.consent_at,
        manage_token_hash="f" * 64,
        ical_uid="dup@example",
        status="confirmed",
        reference="ZZZZZZZZ",
    )
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert first.booking.public_id


@pytest.mark.parametrize(
    ("hours_ahead", "message"), [(-1, "already passed"), (6, "at least 12 hours"), (24 * 61, "too far ahead")]
)
def test_slots_outside_the_booking_window_cannot_be_booked(ctx, hours_ahead, message):
    now = datetime.now(UTC)
    slot = make_slot(now.replace(microsecond=0) + timedelta(hours=hours_ahead))
    with pytest.raises(SlotUnavailable, match=message):
        service.book(slot.public_id, "phone", patient(), actor=THE_PATIENT)
    assert slot.public_id not in [s.public_id for s in free_slots(now - timedelta(days=1), now + timedelta(days=90))]


def test_blocked_slot_and_unoffered_mode_and_unknown_slot(ctx):
    blocked = make_slot(is_blocked=True)
    with pytest.raises(SlotUnavailable):
        service.book(blocked.public_id, "phone", patient(), actor=THE_PATIENT)
    phone_only = make_slot(modes="phone")
    with pytest.raises(ModeNotOffered):
        service.book(phone_only.public_id, "in_person", patient(), actor=THE_PATIENT)
    with pytest.raises(SlotNotFound):
        service.book("no-such-slot", "phone", patient(), actor=THE_PATIENT)
    assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 0


def test_active_bookings_per_email_are_limited(ctx):
    for _ in range(3):
        make_booking(email="busy@example.com")
    with pytest.raises(TooManyBookings):
        make_booking(email="BUSY@example.com")
    make_booking(email="other@example.com")


def test_cancel_frees_the_slot_and_bumps_sequence(ctx):
    result = make_booking()
    slot_id = result.booking.slot.public_id
    cancelled = service.cancel(result.booking.public_id, actor=THE_PATIENT)
    assert cancelled.status == "cancelled" and cancelled.ical_sequence == 1
    assert cancelled.cancelled_by == "patient"
    with pytest.raises(BookingClosed):
        service.cancel(result.booking.public_id, actor=THE_PATIENT)
    again = service.book(slot_id, "phone", patient(email="next@example.com"), actor=THE_PATIENT)
    assert again.booking.slot.public_id == slot_id


def test_reschedule_moves_keeping_uid_and_frees_old_slot(ctx):
    result = make_booking()
    old_slot = result.booking.slot
    uid = result.booking.ical_uid
    new_slot = make_slot()
    moved = service.reschedule(result.booking.public_id, new_slot.public_id, "video", actor=THE_PATIENT)
    assert moved.slot.public_id == new_slot.public_id and moved.mode == "video"
    assert moved.ical_uid == uid and moved.ical_sequence == 1
    assert old_slot.public_id in [
        s.public_id
        for s in free_slots(old_slot.starts_at - timedelta(minutes=1), old_slot.starts_at + timedelta(minutes=1))
    ]


def test_reschedule_into_a_taken_slot_leaves_the_booking_as_it_was(ctx):
    mine = make_booking(email="me@example.com")
    theirs = make_booking(email="them@example.com")
    with pytest.raises(SlotTaken):
        service.reschedule(mine.booking.public_id, theirs.booking.slot.public_id, actor=THE_PATIENT)
    db.session.expire_all()
    booking = db.session.execute(select(Booking).where(Booking.public_id == mine.booking.public_id)).scalar_one()
    assert booking.slot_id == mine.booking.slot_id and booking.ical_sequence == 0
    assert booking.status == "confirmed"


def test_cancelled_or_started_bookings_cannot_be_moved(ctx):
    result = make_booking()
    target = make_slot()
    service.cancel(result.booking.public_id, actor=THE_PATIENT)
    with pytest.raises(BookingClosed):
        service.reschedule(result.booking.public_id, target.public_id, actor=THE_PATIENT)
    started = make_booking(email="late@example.com")
    with pytest.raises(BookingClosed, match="started"):
        service.reschedule(
            started.booking.public_id,
            target.public_id,
            now=started.booking.slot.starts_at + timedelta(minutes=1),
            actor=THE_PATIENT,
        )


def _rules(weekdays=range(5), start=time(9), end=time(12)):
    from app.core.database import write_transaction

    with write_transaction() as session:
        for weekday in weekdays:
            session.add(AvailabilityRule(weekday=weekday, start_time=start, end_time=end, slot_minutes=30))


@pytest.mark.parametrize("around", [date(2026, 11, 1), date(2027, 3, 14)])
def test_weekly_nine_oclock_is_nine_local_in_the_database_across_dst(ctx, around):
    _rules()
    now = datetime.combine(around - timedelta(days=6), time(0), DENVER).astimezone(UTC)
    regenerate_slots(now=now, days=14)
    starts = db.session.execute(select(Slot.starts_at).order_by(Slot.starts_at)).scalars().all()
    by_day: dict[date, list[datetime]] = {}
    for start in starts:
        by_day.setdefault(start.astimezone(DENVER).date(), []).append(start)
    before = max(d for d in by_day if d < around)
    after = min(d for d in by_day if d > around)
    for day in (before, after):
        first = by_day[day][0].astimezone(DENVER)
        assert (first.hour, first.minute) == (9, 0)
        assert len(by_day[day]) == 6
    assert by_day[before][0].astimezone(UTC).hour != by_day[after][0].astimezone(UTC).hour


def test_regeneration_is_idempotent_and_respects_bookings(ctx):
    _rules(weekdays=range(7))
    first = regenerate_slots(days=7)
    assert first.added > 0
    again = regenerate_slots(days=7)
    assert (again.added, again.removed, again.updated) == (0, 0, 0)
    total = db.session.execute(select(func.count(Slot.id))).scalar_one()
    assert total == first.added

    booked_day = future_day(3)
    booked_slot = db.session.execute(select(Slot).where(Slot.starts_at == local_dt(booked_day, 10))).scalar_one()
    service.book(booked_slot.public_id, "phone", patient(), actor=THE_PATIENT)
    # Close that whole day: its free slots go, the booked one stays untouched.
    from app.core.database import write_transaction

    with write_transaction() as session:
        session.add(DateOverride(on_date=booked_day, kind="closed", reason="Holiday"))
    report = regenerate_slots(days=7)
    assert report.removed == 5
    remaining = (
        db.session.execute(
            select(Slot).where(Slot.starts_at >= local_dt(booked_day, 0), Slot.starts_at < local_dt(booked_day, 23))
        )
        .scalars()
        .all()
    )
    assert [s.public_id for s in remaining] == [booked_slot.public_id]


def test_seed_demo_is_idempotent(ctx):
    created, added = seed_demo(days=14)
    assert created and added >= 9 * 14
    created_again, added_again = seed_demo(days=14)
    assert not created_again and added_again == 0
    modes = {s.modes for s in db.session.execute(select(Slot)).scalars()}
    assert modes == {"in_person,phone,video"}
