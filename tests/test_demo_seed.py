"""`flask seed-demo --with-bookings`: the demo bookings fall inside the demo opening hours
on open days, whatever the hour it is run, and past ones never have their emails sent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.booking.cli import DEMO_BOOKINGS, DEMO_HOURS, DEMO_WEEKDAYS, seed_demo, seed_demo_bookings
from app.core.extensions import db
from app.mail.delivery import deliver_due
from app.models import Booking, OutboxMessage, Slot
from app.staff import dashboard
from tests.conftest import DENVER, future_day
from tests.fixtures_staff import make_staff


def next_weekday(weekday: int, hour: int, minute: int = 0) -> datetime:
    """The next such local time at least two days ahead (so the test does not depend on today)."""
    day = future_day(2)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DENVER)


RUN_AT = {
    "wednesday mid-morning": (2, 10, 40),
    "monday before opening": (0, 7, 0),
    "friday after closing": (4, 17, 30),
    "saturday night": (5, 3, 0),
    "sunday before midnight": (6, 23, 59),
    "thursday lunch": (3, 12, 15),
}


@pytest.mark.parametrize("when", sorted(RUN_AT))
def test_demo_bookings_are_in_opening_hours_and_past_ones_send_nothing(ctx, when):
    now = next_weekday(*RUN_AT[when])
    seed_demo(days=14)
    assert seed_demo_bookings(now=now) == len(DEMO_BOOKINGS)
    bookings = db.session.execute(select(Booking).join(Slot).order_by(Slot.starts_at)).scalars().all()
    assert len({b.slot_id for b in bookings}) == len(DEMO_BOOKINGS)
    for booking in bookings:
        start = booking.slot.starts_at.astimezone(DENVER)
        end = booking.slot.ends_at.astimezone(DENVER)
        assert start.weekday() in DEMO_WEEKDAYS, (when, start)
        assert any(opens <= start.time() and end.time() <= closes for opens, closes in DEMO_HOURS), (when, start)
    past = [b for b in bookings if b.slot.starts_at < now]
    coming = [b for b in bookings if b.slot.starts_at > now]
    assert len(past) == 4 and len(coming) == 3  # as DEMO_BOOKINGS has them: none moved across now

    deliver_due(now=now)  # the worker's first round
    db.session.expire_all()
    for booking in past:
        statuses = set(
            db.session.execute(select(OutboxMessage.status).where(OutboxMessage.booking_id == booking.id)).scalars()
        )
        assert statuses == {"cancelled"}, (when, booking.slot.starts_at)
    sent = set(db.session.execute(select(OutboxMessage.booking_id).where(OutboxMessage.status == "sent")).scalars())
    assert sent == {b.id for b in coming}


def test_on_an_open_day_two_are_today_and_one_has_started(ctx):
    now = next_weekday(2, 10, 40)
    seed_demo(days=14)
    seed_demo_bookings(now=now)
    board = dashboard.summary(make_staff(), now=now)
    assert [b.slot.starts_at.astimezone(DENVER).strftime("%H:%M") for b in board.today] == ["09:30", "13:00"]
    assert sum(w.no_shows for w in board.weeks) == 1


def test_demo_courses_are_in_progress_with_a_missed_session_and_sessions_today(ctx):
    from app.courses import queries
    from app.courses import service as courses
    from app.courses.demo import seed_demo_courses
    from app.schedule.clinic_time import clinic_today
    from tests.course_helpers import holds_match_sessions, overlapping_sessions

    seed_demo(days=14)
    seed_demo_bookings()
    assert seed_demo_courses() == 2
    assert seed_demo_courses() == 0  # once only
    linda, tom = sorted(queries.courses_in_progress(), key=lambda c: c.name)
    assert linda.booking_id is not None and len(courses.ordinals(linda)) == 36
    statuses = {s.number: s.status for s in linda.sessions}
    assert statuses[4] == "missed" and statuses[36] == "planned"
    assert {statuses[n] for n in (1, 2, 3, 5)} == {"attended"}
    assert not overlapping_sessions() and holds_match_sessions()
    sheet = dict((chair.name, rows) for chair, rows in queries.day_sheet(clinic_today()))
    if clinic_today().weekday() < 5:
        assert [r.short_name for r in sheet["Chair 1"]] == ["Linda P."]
        assert [r.short_name for r in sheet["Chair 2"]] == ["Tom R."]
