"""The course planner without a database: cadence and taper, closures, the nearest free time,
chairs, and wall-clock times across the March and November daylight-saving changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.courses.planning import (
    WEEKDAYS,
    NoTimeFound,
    best_time,
    flag_authorisation,
    phases_from,
    plan,
    session_specs,
)
from app.schedule.availability import Closure, Hours, open_windows
from app.schedule.holds import cells
from app.schedule.seed import COURSE_TEMPLATES

DENVER = ZoneInfo("America/Denver")
WEEKDAY_HOURS = {d: [Hours(time(9), time(17))] for d in range(5)}
FIRST, SESSION = (1, 90), (2, 40)


def cadence(key: str) -> list[dict]:
    return next(t["cadence"] for t in COURSE_TEMPLATES if t["key"] == key)


def specs(key: str = "rtms_36", first=FIRST, session=SESSION):
    return session_specs(phases_from(cadence(key)), first, session)


def windows_for(closures=(), extra=None, weekly=None):
    return lambda on: open_windows(WEEKDAY_HOURS if weekly is None else weekly, on, DENVER, extra, closures)


def free_except(*taken: tuple[int, datetime, datetime]):
    def is_free(chair, start, end):
        return not any(c == chair and s < end and start < e for c, s, e in taken)

    return is_free


def always_free(chair, start, end):
    return True


def local(at: datetime) -> datetime:
    return at.astimezone(DENVER)


def test_standard_course_is_30_weekdays_then_a_taper_of_3_2_1():
    monday = date(2027, 1, 4)
    planned = plan(specs(), monday, time(10), [1], windows_for(), always_free, DENVER)
    assert len(planned) == 36 and [p.number for p in planned] == list(range(1, 37))
    days = [local(p.starts_at).date() for p in planned]
    assert days[:30] == [d for d in (monday + timedelta(days=i) for i in range(42)) if d.weekday() < 5]
    week7 = monday + timedelta(weeks=6)
    assert days[30:33] == [week7, week7 + timedelta(days=2), week7 + timedelta(days=4)]
    assert days[33:35] == [week7 + timedelta(weeks=1), week7 + timedelta(weeks=1, days=3)]
    assert days[35] == week7 + timedelta(weeks=2)
    assert all(local(p.starts_at).time() == time(10) and not p.moved for p in planned)
    assert planned[0].ends_at - planned[0].starts_at == timedelta(minutes=90)
    assert all(p.ends_at - p.starts_at == timedelta(minutes=40) for p in planned[1:])


def test_a_course_started_midweek_tapers_from_the_monday_after_its_30th_session():
    wednesday = date(2027, 1, 6)
    days = [
        local(p.starts_at).date() for p in plan(specs(), wednesday, time(10), [1], windows_for(), always_free, DENVER)
    ]
    assert days[0] == wednesday and days[29].weekday() == 1  # the 30th is a Tuesday
    assert days[30] == days[29] + timedelta(days=6) and days[30].weekday() == 0


def test_three_a_week_and_itbs_and_maintenance():
    monday = date(2027, 1, 4)
    three = plan(specs("rtms_36_three_a_week"), monday, time(9), [1], windows_for(), always_free, DENVER)
    assert len(three) == 36 and {local(p.starts_at).weekday() for p in three} == {0, 2, 4}
    assert local(three[-1].starts_at).date() == monday + timedelta(weeks=11, days=4)
    itbs = plan(specs("itbs_30", session=(3, 10)), monday, time(9), [1], windows_for(), always_free, DENVER)
    assert len(itbs) == 30 and all(p.ends_at - p.starts_at == timedelta(minutes=10) for p in itbs[1:])
    weekly = plan(specs("maintenance_6", first=SESSION), monday, time(9), [1], windows_for(), always_free, DENVER)
    assert [local(p.starts_at).date() for p in weekly] == [monday + timedelta(weeks=i) for i in range(6)]


def test_closed_days_are_skipped_and_the_course_keeps_its_length():
    monday = date(2027, 1, 4)
    closed = [Closure(date(2027, 1, 6)), Closure(date(2027, 1, 18))]
    planned = plan(specs(), monday, time(10), [1], windows_for(closed), always_free, DENVER)
    days = [local(p.starts_at).date() for p in planned]
    assert len(planned) == 36 and not set(days) & {c.on for c in closed}
    assert days[2] == date(2027, 1, 7)


def test_a_partly_closed_day_gives_the_nearest_open_time_flagged_moved():
    closed = [Closure(date(2027, 1, 5), time(10), time(11))]
    planned = plan(specs()[:3], date(2027, 1, 4), time(10), [1], windows_for(closed), always_free, DENVER)
    second = local(planned[1].starts_at)
    # 9:20-10:00 is 40 minutes from 10:00; 11:00 would be 60.
    assert second.time() == time(9, 20) and planned[1].moved
    assert not planned[0].moved and not planned[2].moved


def test_a_held_chair_gives_the_other_chair_at_the_same_time_before_another_time():
    day = date(2027, 1, 4)
    ten = datetime(2027, 1, 4, 10, tzinfo=DENVER)
    held = free_except((1, ten, ten + timedelta(hours=2)))
    chair, start, _ = best_time(day, 40, time(10), [1, 2], windows_for(), held, DENVER)
    assert (chair, local(start).time()) == (2, time(10))
    chair, start, _ = best_time(day, 40, time(10), [1], windows_for(), held, DENVER)
    assert (chair, local(start).time()) == (1, time(9, 20))


def test_the_previous_sessions_chair_is_kept_when_free():
    monday = date(2027, 1, 4)
    ten = datetime(2027, 1, 4, 10, tzinfo=DENVER)
    planned = plan(
        specs()[:5], monday, time(10), [1, 2], windows_for(), free_except((1, ten, ten + timedelta(hours=2))), DENVER
    )
    assert [p.chair_id for p in planned] == [2, 2, 2, 2, 2]


@pytest.mark.parametrize(
    "start, change", [(date(2027, 3, 8), date(2027, 3, 14)), (date(2027, 11, 1), date(2027, 11, 7))]
)
def test_wall_clock_time_holds_across_daylight_saving_changes(start, change):
    planned = plan(specs(), start, time(9), [1], windows_for(), always_free, DENVER)
    assert all(local(p.starts_at).time() == time(9) for p in planned)
    before = [p.starts_at.hour for p in planned if local(p.starts_at).date() < change]
    after = [p.starts_at.hour for p in planned if local(p.starts_at).date() > change]
    assert len(set(before)) == 1 and len(set(after)) == 1 and before[0] != after[0]


def test_no_time_at_all_raises():
    with pytest.raises(NoTimeFound):
        plan(specs()[:2], date(2027, 1, 4), time(10), [1], windows_for(weekly={}), always_free, DENVER)


def test_authorisation_flags_sessions_past_the_count_or_the_date():
    planned = plan(specs(), date(2027, 1, 4), time(10), [1], windows_for(), always_free, DENVER)
    flagged = flag_authorisation(
        planned, DENVER, self_pay=False, authorised_sessions=30, authorised_until=date(2027, 12, 31)
    )
    assert [p.number for p in flagged if p.past_authorisation] == [31, 32, 33, 34, 35, 36]
    by_date = flag_authorisation(
        planned, DENVER, self_pay=False, authorised_sessions=None, authorised_until=date(2027, 1, 29)
    )
    assert all(p.past_authorisation == (local(p.starts_at).date() > date(2027, 1, 29)) for p in by_date)
    assert not any(
        p.past_authorisation
        for p in flag_authorisation(
            planned, DENVER, self_pay=True, authorised_sessions=1, authorised_until=date(2027, 1, 4)
        )
    )


# --- properties ------------------------------------------------------------------------------

held_times = st.lists(
    st.tuples(st.integers(1, 2), st.integers(0, 60), st.integers(0, 95), st.integers(1, 24)), max_size=40
)


@given(
    start_offset=st.integers(0, 400),
    hour=st.integers(7, 18),
    minute=st.sampled_from([0, 15, 30, 45]),
    held=held_times,
    closed=st.lists(st.integers(0, 60), max_size=6),
    key=st.sampled_from([t["key"] for t in COURSE_TEMPLATES]),
    two_chairs=st.booleans(),
)
def test_every_plan_keeps_the_rules(start_offset, hour, minute, held, closed, key, two_chairs):
    start = date(2027, 1, 1) + timedelta(days=start_offset)
    preferred = time(hour, minute)
    taken = []
    for chair, day, cell, length in held:
        begins = datetime.combine(start + timedelta(days=day), time(7), DENVER) + timedelta(minutes=5 * cell)
        taken.append((chair, begins, begins + timedelta(minutes=5 * length)))
    closures = [Closure(start + timedelta(days=d)) for d in closed]
    windows = windows_for(closures)
    is_free = free_except(*taken)
    chairs = [1, 2] if two_chairs else [1]
    course = specs(key)
    planned = plan(course, start, preferred, chairs, windows, is_free, DENVER)

    assert [p.number for p in planned] == [s.number for s in course]
    days = [local(p.starts_at).date() for p in planned]
    assert days == sorted(days) and len(set(days)) == len(days) and days[0] >= start
    used: dict[int, set[datetime]] = {}
    for p, spec, day in zip(planned, course, days, strict=True):
        assert day.weekday() in spec.weekdays and day.weekday() in WEEKDAYS[5]
        assert p.ends_at - p.starts_at == timedelta(minutes=spec.minutes)
        assert any(s <= p.starts_at and p.ends_at <= e for s, e in windows(day))
        assert is_free(p.chair_id, p.starts_at, p.ends_at) and p.chair_id in chairs
        mine = set(cells(p.starts_at, p.ends_at))
        assert not mine & used.setdefault(p.chair_id, set())
        used[p.chair_id] |= mine
        assert p.moved == (local(p.starts_at).time() != preferred)
        # Nothing free that day is nearer the preferred time than what was chosen.
        wanted = preferred.hour * 60 + preferred.minute
        distance = abs(local(p.starts_at).hour * 60 + local(p.starts_at).minute - wanted)
        for s, e in windows(day):
            cursor = s
            while cursor + timedelta(minutes=spec.minutes) <= e:
                near = abs(local(cursor).hour * 60 + local(cursor).minute - wanted)
                if near < distance:
                    assert not any(is_free(c, cursor, cursor + timedelta(minutes=spec.minutes)) for c in chairs)
                cursor += timedelta(minutes=5)
