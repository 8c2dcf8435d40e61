"""Pure slot arithmetic, without an app or a database: wall-clock hours across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.schedule.availability import Closure, Hours, local_instant, slot_times, slots_for_hours

DENVER = ZoneInfo("America/Denver")
MORNING = Hours(time(9, 0), time(12, 0), 30)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (date(2026, 10, 30), date(2026, 11, 2)),  # fall back on Sunday 2026-11-01
        (date(2027, 3, 12), date(2027, 3, 15)),  # spring forward on Sunday 2027-03-14
    ],
)
def test_weekly_nine_oclock_stays_nine_local_across_dst(before, after):
    weekly = {before.weekday(): [MORNING], after.weekday(): [MORNING]}
    slots = slot_times(weekly, before, after, DENVER)
    firsts = {
        s.starts_at.astimezone(DENVER).date(): s.starts_at
        for s in slots
        if s.starts_at.astimezone(DENVER).time() == time(9, 0)
    }
    assert firsts[before].astimezone(DENVER).hour == 9
    assert firsts[after].astimezone(DENVER).hour == 9
    # The UTC instant moves by exactly the change in offset.
    offset_change = firsts[before].astimezone(DENVER).utcoffset() - firsts[after].astimezone(DENVER).utcoffset()
    assert (
        firsts[after].astimezone(UTC).hour - firsts[before].astimezone(UTC).hour == offset_change.total_seconds() / 3600
    )


def test_fall_back_day_utc_times_and_durations():
    # 2026-11-01: clocks go from 2:00 MDT back to 1:00 MST.
    hours = Hours(time(0, 30), time(3, 0), 30)
    slots = slots_for_hours(date(2026, 11, 1), hours, DENVER)
    # 1:00 and 1:30 happen twice; the first occurrence (MDT) is used and nothing is doubled,
    # then 2:00 MST follows the wall clock.
    assert [s.starts_at for s in slots] == [
        utc(2026, 11, 1, 6, 30),
        utc(2026, 11, 1, 7, 0),
        utc(2026, 11, 1, 7, 30),
        utc(2026, 11, 1, 9, 0),
        utc(2026, 11, 1, 9, 30),
    ]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)
    assert len({s.starts_at for s in slots}) == len(slots)


def test_spring_forward_day_skips_the_missing_hour():
    # 2027-03-14: 2:00 MST jumps to 3:00 MDT; 2:00 and 2:30 do not exist locally.
    hours = Hours(time(1, 0), time(4, 0), 30)
    slots = slots_for_hours(date(2027, 3, 14), hours, DENVER)
    local_starts = [s.starts_at.astimezone(DENVER).strftime("%H:%M") for s in slots]
    assert local_starts == ["01:00", "01:30", "03:00", "03:30"]
    assert slots[0].starts_at == utc(2027, 3, 14, 8, 0)
    assert slots[2].starts_at == utc(2027, 3, 14, 9, 0)
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in slots)


def test_local_instant_is_none_in_the_gap():
    assert local_instant(date(2027, 3, 14), time(2, 30), DENVER) is None
    assert local_instant(date(2027, 3, 14), time(3, 0), DENVER) == utc(2027, 3, 14, 9, 0)


def test_buffer_spaces_consultations():
    slots = slots_for_hours(date(2026, 12, 1), Hours(time(9), time(11), 30, 15), DENVER)
    assert [s.starts_at.astimezone(DENVER).strftime("%H:%M") for s in slots] == ["09:00", "09:45", "10:30"]


def test_closures_and_extra_hours():
    monday = date(2026, 12, 7)
    weekly = {0: [MORNING]}
    closed = slot_times(weekly, monday, monday, DENVER, closures=[Closure(monday)])
    assert closed == []
    partly = slot_times(weekly, monday, monday, DENVER, closures=[Closure(monday, time(10), time(11))])
    assert [s.starts_at.astimezone(DENVER).strftime("%H:%M") for s in partly] == ["09:00", "09:30", "11:00", "11:30"]
    extra = slot_times(
        weekly, monday, monday, DENVER, extra={monday: [Hours(time(17), time(18), 30)]}, closures=[Closure(monday)]
    )
    assert [s.starts_at.astimezone(DENVER).strftime("%H:%M") for s in extra] == ["17:00", "17:30"]


def test_overlapping_rules_do_not_duplicate_starts():
    monday = date(2026, 12, 7)
    weekly = {0: [MORNING, Hours(time(10), time(13), 30)]}
    slots = slot_times(weekly, monday, monday, DENVER)
    starts = [s.starts_at for s in slots]
    assert len(starts) == len(set(starts)) == 8


def test_invalid_hours_are_refused():
    with pytest.raises(ValueError):
        Hours(time(12), time(9))
    with pytest.raises(ValueError):
        Hours(time(9), time(12), 0)


@given(
    start_minutes=st.integers(0, 20 * 60),
    length=st.integers(5, 240),
    span=st.integers(1, 8 * 60),
    slot_minutes=st.sampled_from([15, 20, 30, 45, 60]),
    buffer_minutes=st.integers(0, 30),
    day=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
)
def test_generated_slots_fit_their_hours(start_minutes, length, span, slot_minutes, buffer_minutes, day):
    start = time(start_minutes // 60, start_minutes % 60)
    end_minutes = min(start_minutes + span, 24 * 60 - 1)
    if end_minutes <= start_minutes:
        return
    end = time(end_minutes // 60, end_minutes % 60)
    hours = Hours(start, end, slot_minutes, buffer_minutes)
    slots = slots_for_hours(day, hours, DENVER)
    for slot in slots:
        local = slot.starts_at.astimezone(DENVER)
        assert slot.ends_at - slot.starts_at == timedelta(minutes=slot_minutes)
        assert local.date() == day
        assert start <= local.time().replace(tzinfo=None) < end
    starts = [s.starts_at for s in slots]
    assert starts == sorted(starts)
    for a, b in zip(starts, starts[1:], strict=False):
        assert b - a >= timedelta(minutes=slot_minutes + buffer_minutes) - timedelta(hours=1)
    # Never more slots than fit in the span.
    assert len(slots) <= (end_minutes - start_minutes) // slot_minutes + 1
