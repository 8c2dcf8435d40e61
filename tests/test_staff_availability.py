"""Opening hours, holidays and the week view, through the staff pages, on SQLite and
PostgreSQL: rules make slots at once, changes never touch booked slots, /book follows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.booking.slots import regenerate_slots
from app.core.actors import THE_PATIENT
from app.core.extensions import db
from app.models import AvailabilityRule, Booking, DateOverride, Slot
from app.models.staff import AuditLog
from app.schedule.clinic_time import day_range
from app.staff import availability_admin
from tests.conftest import DENVER, future_day, local_dt, make_booking, make_slot
from tests.fixtures_staff import signed_in_client, staff_post

HOURS = {
    "start": "09:00",
    "end": "12:00",
    "slot_minutes": "30",
    "buffer_minutes": "0",
    "modes": ["in_person", "phone", "video"],
}


@pytest.fixture
def admin(any_app):
    return signed_in_client(any_app, "alex@mindset-tms.example", "admin")


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


def slots_on(day: date) -> list[Slot]:
    start, end = day_range(day, day)
    db.session.expire_all()
    return list(
        db.session.execute(
            select(Slot).where(Slot.starts_at >= start, Slot.starts_at < end).order_by(Slot.starts_at)
        ).scalars()
    )


def local_clock(slot: Slot) -> str:
    return slot.starts_at.astimezone(DENVER).strftime("%H:%M")


def audit_actions() -> list[str]:
    return db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()


def add_weekly(admin, day: date, **changes):
    data = dict(HOURS, weekdays=[str(day.weekday())], **changes)
    return staff_post(admin, "/staff/hours/weekly", data, token_from="/staff/hours")


def test_weekly_hours_make_slots_and_book_page_shows_them_at_once(ctx, admin):
    day = future_day(5)
    response = add_weekly(admin, day)
    assert response.status_code == 303
    slots = slots_on(day)
    assert [local_clock(s) for s in slots] == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert all(s.source == "rule" and s.modes == "in_person,phone,video" for s in slots)
    book_page = admin.get("/book").get_data(as_text=True)
    assert all(f"/book/{s.public_id}" in book_page for s in slots)
    # The same weekday next week too, and only that weekday.
    assert len(slots_on(day + timedelta(days=7))) == 6
    assert slots_on(day + timedelta(days=1)) == []
    assert "hours.add" in audit_actions()
    page = admin.get("/staff/hours").get_data(as_text=True)
    assert "9:00 AM to 12:00 PM, 30-minute consultations" in page


def test_length_buffer_and_modes_are_respected(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day, slot_minutes="45", buffer_minutes="15", modes=["phone"])
    slots = slots_on(day)
    assert [local_clock(s) for s in slots] == ["09:00", "10:00", "11:00"]
    assert all(s.modes == "phone" and (s.ends_at - s.starts_at) == timedelta(minutes=45) for s in slots)


def test_overlapping_and_invalid_hours_are_refused_with_a_message(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    overlap = add_weekly(admin, day, start="11:00", end="13:00")
    assert overlap.status_code == 422 and "overlap" in overlap.get_data(as_text=True)
    backwards = add_weekly(admin, day, start="13:00", end="12:00")
    assert backwards.status_code == 422 and "closing time must be after" in backwards.get_data(as_text=True)
    no_day = staff_post(admin, "/staff/hours/weekly", dict(HOURS), token_from="/staff/hours")
    assert no_day.status_code == 422 and "at least one day" in no_day.get_data(as_text=True)
    assert db.session.execute(select(func.count(AvailabilityRule.id))).scalar_one() == 1


def test_regeneration_is_idempotent(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    count = db.session.execute(select(func.count(Slot.id))).scalar_one()
    report = regenerate_slots()
    assert (report.added, report.removed) == (0, 0)
    assert db.session.execute(select(func.count(Slot.id))).scalar_one() == count


def test_removing_hours_asks_first_then_keeps_booked_slots(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    booked = slots_on(day)[0]
    booking = make_booking(booked).booking
    rule = db.session.execute(select(AvailabilityRule)).scalar_one()
    confirm = admin.get(f"/staff/hours/weekly/{rule.id}/remove")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "1 booked consultation" in text and "Yes, remove" in text
    assert len(slots_on(day)) == 6  # nothing changed by looking
    remove_url = f"/staff/hours/weekly/{rule.id}/remove"
    staff_post(admin, remove_url, token_from=remove_url)
    remaining = slots_on(day)
    assert [s.id for s in remaining] == [booked.id]
    assert db.session.get(Booking, booking.id).status == "confirmed"


def test_holiday_removes_free_slots_but_not_booked_ones(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    booked = slots_on(day)[1]
    booking = make_booking(booked).booking
    response = staff_post(
        admin, "/staff/hours/closed", {"first": day.isoformat(), "reason": "Staff training"}, token_from="/staff/hours"
    )
    assert response.status_code == 303
    # The booked consultation is kept, and staff are sent to it.
    assert "status=confirmed" in response.headers["Location"]
    assert [s.id for s in slots_on(day)] == [booked.id]
    assert db.session.get(Booking, booking.id).status == "confirmed"
    book_page = admin.get("/book").get_data(as_text=True)
    assert f"day-{day.isoformat()}" not in book_page
    assert len(slots_on(day + timedelta(days=7))) == 6  # only that date
    override = db.session.execute(select(DateOverride)).scalar_one()
    assert (override.on_date, override.kind, override.reason) == (day, "closed", "Staff training")
    assert regenerate_slots().added == 0  # stays closed
    # Reopening brings the free times back.
    staff_post(admin, f"/staff/hours/dates/{override.id}/remove", token_from="/staff/hours")
    assert len(slots_on(day)) == 6
    assert audit_actions()[-2:] == ["override.closed", "override.remove"]


def test_bulk_close_a_date_range(ctx, admin):
    first = future_day(5)
    for offset in range(3):
        add_weekly(admin, first + timedelta(days=offset))
    one_off = make_slot(local_dt(first + timedelta(days=1), 15))
    after = first + timedelta(days=3)
    add_weekly(admin, after)
    booked = slots_on(first + timedelta(days=2))[0]
    make_booking(booked)
    response = staff_post(
        admin,
        "/staff/hours/closed",
        {"first": first.isoformat(), "last": (first + timedelta(days=2)).isoformat(), "back": "calendar"},
        token_from="/staff/calendar",
    )
    assert response.status_code == 303
    for offset in range(3):
        free = [s for s in slots_on(first + timedelta(days=offset)) if not s.is_blocked and s.id != booked.id]
        assert free == [], offset
    assert db.session.get(Slot, one_off.id).is_blocked
    assert db.session.get(Slot, booked.id) is not None
    assert len(slots_on(after)) == 6
    assert db.session.execute(select(func.count(DateOverride.id))).scalar_one() == 3


def test_extra_hours_on_a_date(ctx, admin):
    day = future_day(6)
    response = staff_post(
        admin,
        "/staff/hours/extra",
        dict(HOURS, on_date=day.isoformat(), start="18:00", end="19:00", modes=["video"]),
        token_from="/staff/hours",
    )
    assert response.status_code == 303
    assert [(local_clock(s), s.modes) for s in slots_on(day)] == [("18:00", "video"), ("18:30", "video")]


def test_one_off_slot_appears_on_book_page(ctx, admin):
    day = future_day(4)
    response = staff_post(
        admin,
        "/staff/calendar/add",
        {"on_date": day.isoformat(), "at": "16:15", "minutes": "45", "modes": ["phone"]},
        token_from="/staff/calendar",
    )
    assert response.status_code == 303
    (slot,) = slots_on(day)
    assert (local_clock(slot), slot.source, slot.modes) == ("16:15", "manual", "phone")
    assert slot.ends_at - slot.starts_at == timedelta(minutes=45)
    assert f"/book/{slot.public_id}" in admin.get("/book").get_data(as_text=True)
    week = admin.get(f"/staff/calendar?week={day.isoformat()}").get_data(as_text=True)
    assert "4:15 PM" in week and "one-off" in week
    overlap = staff_post(
        admin,
        "/staff/calendar/add",
        {"on_date": day.isoformat(), "at": "16:30", "minutes": "30", "modes": ["phone"]},
        token_from="/staff/calendar",
    )
    assert overlap.status_code == 422 and "overlaps" in overlap.get_data(as_text=True)
    past = staff_post(
        admin,
        "/staff/calendar/add",
        {"on_date": (day - timedelta(days=10)).isoformat(), "at": "10:00", "minutes": "30", "modes": ["phone"]},
        token_from="/staff/calendar",
    )
    assert past.status_code == 422 and "already passed" in past.get_data(as_text=True)


def test_week_view_shows_free_booked_and_blocked(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    slots = slots_on(day)
    make_booking(slots[0], name="Grace Hopper")
    availability_admin_block = staff_post(
        admin,
        f"/staff/calendar/slots?week={day.isoformat()}",
        {"slot": [slots[1].public_id], "action": "block"},
        token_from="/staff/calendar",
    )
    assert availability_admin_block.status_code == 303
    page = admin.get(f"/staff/calendar?week={day.isoformat()}").get_data(as_text=True)
    assert "Booked: Grace H." in page
    assert page.count("state-blocked") >= 2 and page.count("state-free") >= 5
    assert f'value="{slots[0].public_id}"' not in page  # booked: no checkbox, a link instead


def test_block_and_unblock_free_slots(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    first, second = slots_on(day)[:2]
    url = f"/staff/calendar/slots?week={day.isoformat()}"
    staff_post(
        admin, url, {"slot": [first.public_id, second.public_id], "action": "block"}, token_from="/staff/calendar"
    )
    assert all(s.is_blocked for s in slots_on(day)[:2])
    book_page = admin.get("/book").get_data(as_text=True)
    assert f"/book/{first.public_id}" not in book_page and f"/book/{second.public_id}" not in book_page
    assert regenerate_slots().added == 0 and slots_on(day)[0].is_blocked  # regeneration keeps the block
    staff_post(admin, url, {"slot": [first.public_id], "action": "unblock"}, token_from="/staff/calendar")
    assert not slots_on(day)[0].is_blocked
    assert f"/book/{first.public_id}" in admin.get("/book").get_data(as_text=True)
    assert audit_actions()[-2:] == ["slot.block", "slot.unblock"]


def test_delete_free_slots_after_confirming(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    doomed = slots_on(day)[:2]
    one_off = make_slot(local_dt(day, 15))
    url = f"/staff/calendar/slots?week={day.isoformat()}"
    ids = [s.public_id for s in doomed] + [one_off.public_id]
    confirm = staff_post(admin, url, {"slot": ids, "action": "delete"}, token_from="/staff/calendar")
    assert confirm.status_code == 200 and "Yes, delete 3 times" in confirm.get_data(as_text=True)
    assert len(slots_on(day)) == 7  # nothing deleted yet
    done = staff_post(admin, url, {"slot": ids, "action": "delete_confirmed"}, token_from="/staff/calendar")
    assert done.status_code == 303
    assert [local_clock(s) for s in slots_on(day)] == ["10:00", "10:30", "11:00", "11:30"]
    regenerate_slots()
    assert len(slots_on(day)) == 4  # generated times stay deleted
    assert "slot.delete" in audit_actions()


def test_a_booked_slot_cannot_be_deleted_or_blocked(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    booked, free = slots_on(day)[:2]
    booking = make_booking(booked).booking
    url = f"/staff/calendar/slots?week={day.isoformat()}"
    refused = staff_post(
        admin,
        url,
        {"slot": [free.public_id, booked.public_id], "action": "delete_confirmed"},
        token_from="/staff/calendar",
    )
    assert refused.status_code == 303
    assert refused.headers["Location"].endswith(f"/staff/bookings/{booking.public_id}")
    message = admin.get(refused.headers["Location"]).get_data(as_text=True)
    assert "cannot be deleted" in message and "Cancel or move that booking first" in message
    assert len(slots_on(day)) == 6  # nothing deleted, not even the free one
    staff_post(admin, url, {"slot": [booked.public_id], "action": "block"}, token_from="/staff/calendar")
    assert not db.session.get(Slot, booked.id).is_blocked
    assert "slot.delete" not in audit_actions()


def test_slot_with_cancelled_history_is_kept_blocked_when_deleted(ctx, admin):
    from app.booking import service

    slot = make_slot()
    booking = make_booking(slot).booking
    service.cancel(booking.public_id, actor=THE_PATIENT)
    staff_post(
        admin,
        "/staff/calendar/slots",
        {"slot": [slot.public_id], "action": "delete_confirmed"},
        token_from="/staff/calendar",
    )
    db.session.expire_all()
    kept = db.session.get(Slot, slot.id)
    assert kept is not None and kept.is_blocked
    assert db.session.get(Booking, booking.id).slot_id == slot.id


def test_closing_dates_validates_range(ctx):
    today = future_day(0)
    with pytest.raises(availability_admin.HoursError, match="on or after"):
        availability_admin.close_dates(today + timedelta(days=3), today + timedelta(days=1), "", None)
    with pytest.raises(availability_admin.HoursError, match="today or a later"):
        availability_admin.close_dates(today - timedelta(days=2), None, "", None)


# --- changing weekly hours in place ------------------------------------------------------------


def edit(admin, rule_id: int, action: str, **changes):
    data = dict(HOURS, action=action, **changes)
    return staff_post(admin, f"/staff/hours/weekly/{rule_id}/edit", data, token_from="/staff/hours")


def _weekly_with_a_booking_at_eleven(admin):
    day = future_day(5)
    assert add_weekly(admin, day).status_code == 303
    rule = db.session.execute(select(AvailabilityRule)).scalar_one()
    eleven = next(s for s in slots_on(day) if local_clock(s) == "11:00")
    booking = make_booking(eleven).booking
    return day, rule, booking


def test_editing_hours_previews_then_keeps_booked_ones_as_one_off_times(ctx, admin):
    day, rule, booking = _weekly_with_a_booking_at_eleven(admin)
    weeks = sum(1 for s in db.session.execute(select(Slot)).scalars() if local_clock(s) == "09:00")
    page = edit(admin, rule.id, "preview", start="08:00", end="10:30")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "What changes" in html and "would fall outside the new hours" in html
    assert booking.public_id in html and 'name="booked"' in html
    preview = availability_admin.preview_edit_hours(
        rule.id,
        availability_admin.HoursInput(
            start=local_dt(day, 8).astimezone(DENVER).time(), end=local_dt(day, 10, 30).astimezone(DENVER).time()
        ),
    )
    assert preview.appear == 2 * weeks  # 8:00 and 8:30, every week of the horizon
    assert preview.go == 3 * weeks - 1  # 10:30, 11:00 and 11:30, less the booked 11:00
    assert [b.id for b in preview.booked_outside] == [booking.id]
    assert slots_on(day) and db.session.get(AvailabilityRule, rule.id).start_time.hour == 9  # nothing saved

    refused = edit(admin, rule.id, "save", start="08:00", end="10:30")
    assert refused.status_code == 422 and "Please choose what happens" in refused.get_data(as_text=True)

    saved = edit(admin, rule.id, "save", start="08:00", end="10:30", booked="keep")
    assert saved.status_code == 303
    assert [local_clock(s) for s in slots_on(day)] == ["08:00", "08:30", "09:00", "09:30", "10:00", "11:00"]
    kept = db.session.get(Booking, booking.id)
    assert kept.status == "confirmed" and kept.slot.source == "manual"
    assert "hours.edit" in audit_actions()


def test_editing_hours_and_moving_the_booked_ones(ctx, admin):
    day, rule, booking = _weekly_with_a_booking_at_eleven(admin)
    saved = edit(admin, rule.id, "save", start="09:00", end="10:00", booked="move")
    assert saved.status_code == 303 and "/staff/hours/to-move" in saved.headers["Location"]
    page = admin.get(saved.headers["Location"]).get_data(as_text=True)
    assert f"/staff/bookings/{booking.public_id}/move" in page
    assert db.session.get(Booking, booking.id).status == "confirmed"  # never cancelled silently


def test_an_edit_that_overlaps_other_hours_is_refused(ctx, admin):
    day = future_day(5)
    add_weekly(admin, day)
    add_weekly(admin, day, start="13:00", end="17:00")
    morning = db.session.execute(select(AvailabilityRule).order_by(AvailabilityRule.start_time)).scalars().first()
    response = edit(admin, morning.id, "preview", start="09:00", end="14:00")
    assert response.status_code == 422 and "which overlap" in response.get_data(as_text=True)


def test_public_holidays_close_as_ordinary_closures_once(ctx):
    """One click closes the coming year's public holidays (each a closure named after it, so
    both planners skip it and staff can remove it); a second click adds nothing."""
    from app.models import DateOverride
    from app.schedule.holidays import public_holidays
    from app.staff.availability_admin import close_public_holidays

    now = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    added = close_public_holidays(None, now=now)
    names = {name for _day, name in added}
    assert {"Christmas Day", "New Year's Day", "Thanksgiving Day", "Independence Day"} <= names
    assert "Columbus Day" not in names and "Veterans Day" not in names
    assert (date(2026, 12, 25), "Christmas Day") in added and all(day >= date(2026, 12, 7) for day, _ in added)
    closed = {o.on_date: o.reason for o in db.session.execute(select(DateOverride)).scalars()}
    assert closed[date(2026, 12, 25)] == "Christmas Day" and closed[date(2027, 11, 25)] == "Thanksgiving Day"
    assert close_public_holidays(None, now=now) == []
    # A holiday on a weekend brings its observed weekday with it (Independence Day 2027 is a Sunday).
    assert (date(2027, 7, 5), "Independence Day (observed)") in public_holidays(date(2027, 7, 1), date(2027, 7, 31))


def test_the_hours_page_closes_public_holidays_and_lists_them(ctx, admin):
    page = admin.get("/staff/hours").get_data(as_text=True)
    assert "Close on public holidays" in page
    answer = staff_post(admin, "/staff/hours/holidays", token_from="/staff/hours", follow_redirects=True)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Christmas Day" in text and "public holiday(s)" in text
    again = staff_post(admin, "/staff/hours/holidays", token_from="/staff/hours", follow_redirects=True)
    assert "already closed" in again.get_data(as_text=True)
    assert db.session.execute(select(func.count(AuditLog.id)).where(AuditLog.action == "override.closed")).scalar() >= 6
