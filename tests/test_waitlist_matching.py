"""The waiting list's matching rules as pure functions: no app, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.waitlist.matching import (
    Preferences,
    entry_expiry,
    fits,
    offer_expiry,
    part_of_day,
    shared_modes,
    under_daily_limit,
)

DENVER = ZoneInfo("America/Denver")
ALL = ("in_person", "phone", "video")


def local(y, m, d, h, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=DENVER).astimezone(UTC)


ANY = Preferences(date(2027, 1, 1), date(2027, 1, 31))


def test_any_preferences_fit_any_slot_in_the_date_range():
    assert fits(ANY, local(2027, 1, 15, 9), ALL, DENVER)
    assert fits(ANY, local(2027, 1, 1, 0, 30), ["phone"], DENVER)
    assert fits(ANY, local(2027, 1, 31, 23, 30), ["phone"], DENVER)


def test_date_range_is_read_on_the_clinics_calendar():
    # 5:30 PM on Jan 31 in Denver is already Feb 1 in UTC: still inside the range.
    evening = local(2027, 1, 31, 17, 30)
    assert evening.date() == date(2027, 2, 1)
    assert fits(ANY, evening, ALL, DENVER)
    assert not fits(ANY, local(2027, 2, 1, 9), ALL, DENVER)
    assert not fits(ANY, local(2026, 12, 31, 16), ALL, DENVER)


def test_weekdays_are_iso_and_local():
    mondays = Preferences(date(2027, 1, 1), date(2027, 1, 31), weekdays=(1,))
    assert fits(mondays, local(2027, 1, 4, 9), ALL, DENVER)  # Monday
    assert not fits(mondays, local(2027, 1, 5, 9), ALL, DENVER)  # Tuesday
    # Monday 6 PM in Denver is Tuesday in UTC.
    assert fits(mondays, local(2027, 1, 4, 18), ALL, DENVER)
    sundays = Preferences(date(2027, 1, 1), date(2027, 1, 31), weekdays=(7,))
    assert fits(sundays, local(2027, 1, 3, 10), ALL, DENVER)


def test_parts_of_day_split_at_local_noon():
    assert part_of_day(datetime(2027, 1, 4, 11, 59)) == "morning"
    assert part_of_day(datetime(2027, 1, 4, 12, 0)) == "afternoon"
    mornings = Preferences(date(2027, 1, 1), date(2027, 1, 31), parts_of_day=("morning",))
    assert fits(mornings, local(2027, 1, 4, 11, 30), ALL, DENVER)
    # 11:30 AM in Denver is 18:30 UTC: a UTC reading would call it afternoon.
    assert not fits(mornings, local(2027, 1, 4, 13), ALL, DENVER)
    afternoons = Preferences(date(2027, 1, 1), date(2027, 1, 31), parts_of_day=("afternoon",))
    assert fits(afternoons, local(2027, 1, 4, 13), ALL, DENVER)


def test_parts_of_day_follow_the_clock_across_dst():
    mornings = Preferences(date(2027, 3, 1), date(2027, 3, 31), parts_of_day=("morning",))
    assert fits(mornings, local(2027, 3, 12, 11), ALL, DENVER)  # MST
    assert fits(mornings, local(2027, 3, 15, 11), ALL, DENVER)  # MDT


def test_modes_must_share_one():
    video = Preferences(date(2027, 1, 1), date(2027, 1, 31), modes=("video",))
    assert fits(video, local(2027, 1, 4, 9), ["phone", "video"], DENVER)
    assert not fits(video, local(2027, 1, 4, 9), ["in_person", "phone"], DENVER)
    assert shared_modes(video, ["phone", "video"]) == ["video"]
    assert shared_modes(ANY, ["phone", "video"]) == ["phone", "video"]


def test_entry_expires_after_its_days_or_at_the_end_of_its_latest_day():
    joined = local(2027, 1, 1, 9)
    assert entry_expiry(joined, date(2027, 6, 1), 30, DENVER) == joined + timedelta(days=30)
    assert entry_expiry(joined, date(2027, 1, 10), 30, DENVER) == datetime(2027, 1, 11, tzinfo=DENVER)


def test_offer_expiry_never_passes_the_booking_window():
    now = local(2027, 1, 4, 9)
    assert offer_expiry(now, now + timedelta(days=3), 2, 12) == now + timedelta(hours=2)
    assert offer_expiry(now, now + timedelta(hours=13), 2, 12) == now + timedelta(hours=1)
    assert offer_expiry(now, now + timedelta(hours=12), 2, 12) is None
    assert offer_expiry(now, now + timedelta(hours=1), 2, 0) == now + timedelta(hours=1)


def test_daily_limit_counts_the_last_24_hours():
    now = local(2027, 1, 4, 9)
    recent = [now - timedelta(hours=h) for h in (1, 5)]
    assert under_daily_limit(recent, now, 3)
    assert not under_daily_limit([*recent, now - timedelta(hours=23)], now, 3)
    assert under_daily_limit([*recent, now - timedelta(hours=25)], now, 3)
