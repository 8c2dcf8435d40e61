"""Choosing a time one day at a time: the pure picker (which days, how many free, which
times) and /book and the manage page's "choose a new time" through the test client."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from app.booking.slots import build_picker, parse_day, parse_mode
from tests.conftest import DENVER, csrf_token, future_day, local_dt, make_booking, make_slot

D0 = date(2027, 3, 1)


def fake(day: date, hour: int, minute: int = 0):
    return SimpleNamespace(starts_at=local_dt(day, hour, minute))


def picker(slots, requested=None, mode=None, last=D0 + timedelta(days=59)):
    """The picker from free slots as the database would give them: counts per day, and one
    day's times when asked for (the test fails if a day without free times is asked for)."""
    by_day: dict[date, list] = {}
    for slot in sorted(slots, key=lambda s: s.starts_at):
        by_day.setdefault(slot.starts_at.astimezone(DENVER).date(), []).append(slot)
    return build_picker(
        {day: len(times) for day, times in by_day.items()}, D0, last, requested, mode, DENVER, by_day.__getitem__
    )


def test_first_day_with_a_free_time_is_selected_and_counted():
    slots = [fake(D0 + timedelta(days=2), h) for h in (9, 10, 13)] + [fake(D0 + timedelta(days=4), 9)]
    result = picker(slots)
    assert result.selected == D0 + timedelta(days=2)
    assert [(c.day, c.free) for c in result.days][:5] == [
        (D0, 0),
        (D0 + timedelta(days=1), 0),
        (D0 + timedelta(days=2), 3),
        (D0 + timedelta(days=3), 0),
        (D0 + timedelta(days=4), 1),
    ]
    assert len(result.days) == 7
    assert [s.starts_at.astimezone(DENVER).hour for s in result.morning] == [9, 10]
    assert [s.starts_at.astimezone(DENVER).hour for s in result.afternoon] == [13]
    assert result.next_free == D0 + timedelta(days=4)
    assert result.previous_strip is None and result.next_strip == D0 + timedelta(days=7)
    assert result.total_free == 4 and result.notice is None


def test_requested_day_picks_its_strip_and_next_available_jumps_ahead():
    slots = [fake(D0 + timedelta(days=1), 9), fake(D0 + timedelta(days=20), 15)]
    result = picker(slots, requested=D0 + timedelta(days=9))
    assert result.days[0].day == D0 + timedelta(days=7)
    assert result.selected_free == 0 and result.next_free == D0 + timedelta(days=20)
    assert result.previous_strip == D0 + timedelta(days=1)  # the first free day of that strip
    assert result.next_strip == D0 + timedelta(days=20)  # its first free day


def test_out_of_range_day_falls_back_with_a_notice_and_nothing_free_is_empty():
    result = picker([fake(D0 + timedelta(days=3), 9)], requested=D0 - timedelta(days=5))
    assert result.selected == D0 + timedelta(days=3) and "cannot be booked" in result.notice
    empty = picker([])
    assert empty.total_free == 0 and empty.selected == D0 and empty.next_free is None


def test_last_strip_is_cut_at_the_horizon():
    result = picker([fake(D0 + timedelta(days=8), 9)], requested=D0 + timedelta(days=8), last=D0 + timedelta(days=9))
    assert [c.day for c in result.days] == [D0 + timedelta(days=7), D0 + timedelta(days=8), D0 + timedelta(days=9)]
    assert result.next_strip is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, (None, False)),
        ("", (None, False)),
        ("2027-03-04", (date(2027, 3, 4), False)),
        ("2027-02-30", (None, True)),
        ("tomorrow", (None, True)),
        ("<script>", (None, True)),
    ],
)
def test_parse_day(text, expected):
    assert parse_day(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, (None, False)),
        ("any", (None, False)),
        ("phone", ("phone", False)),
        ("in_person", ("in_person", False)),
        ("pigeon", (None, True)),
    ],
)
def test_parse_mode(text, expected):
    assert parse_mode(text) == expected


# --- through the client ---------------------------------------------------------------------


def test_book_shows_one_day_and_links_other_days(ctx, client):
    first = make_slot(local_dt(future_day(3), 9))
    later = make_slot(local_dt(future_day(4), 14), modes="phone")
    html = client.get("/book").get_data(as_text=True)
    assert f"/book/{first.public_id}" in html and f"/book/{later.public_id}" not in html
    day_link = f"/book?day={future_day(4).isoformat()}"
    assert day_link in html and "1 free time" in html
    assert 'aria-current="true"' in html
    other = client.get(day_link).get_data(as_text=True)
    assert f"/book/{later.public_id}" in other and "Afternoon" in other and "Morning" not in other


def test_mode_filter_carries_into_the_form(ctx, client):
    both = make_slot(local_dt(future_day(3), 9))
    video_only = make_slot(local_dt(future_day(3), 10), modes="video")
    html = client.get("/book?mode=phone").get_data(as_text=True)
    assert f"/book/{both.public_id}?mode=phone" in html
    assert video_only.public_id not in html
    form = client.get(f"/book/{both.public_id}?mode=phone").get_data(as_text=True)
    assert re.search(r'<input checked id="mode-\d" name="mode" (?:required )?type="radio" value="phone"', form), form


@pytest.mark.parametrize(
    "query",
    [
        "?day=2026-02-30",
        "?day=nonsense",
        "?day=1999-01-01",
        "?mode=pigeon",
        "?day=2999-12-31&mode=",
        "?mode=phone&day=2026-13-01",
    ],
)
def test_bad_query_values_fall_back_to_a_friendly_page(ctx, client, query):
    slot = make_slot()
    response = client.get("/book" + query)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert f"/book/{slot.public_id}" in body
    assert 'class="notice" role="status"' in body


@pytest.mark.parametrize("query", ["?day=9999-12-31", "?day=%00"])
def test_values_no_page_accepts_get_the_error_page_not_a_crash(ctx, client, query):
    """A NUL or a year no calendar needs is turned away at the edge (app.core.security)."""
    response = client.get("/book" + query)
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)


def test_nothing_free_gives_the_phone_number(ctx, client):
    make_slot(modes="video")
    body = client.get("/book?mode=in_person").get_data(as_text=True)
    assert "No free in person at the clinic times online right now" in body
    assert 'href="tel:+1970-555-0100"' in body and "See times for every way to meet" in body


def test_reschedule_uses_the_same_picker_and_keeps_the_mode(ctx, client):
    result = make_booking(make_slot(local_dt(future_day(3), 9)))
    target = make_slot(local_dt(future_day(5), 11))
    token = result.manage_token
    html = client.get(f"/manage/{token}/reschedule").get_data(as_text=True)
    assert 'id="slot-picker"' in html and f"/manage/{token}/reschedule/{target.public_id}" in html
    html = client.get(f"/manage/{token}/reschedule?mode=video").get_data(as_text=True)
    assert f"/manage/{token}/reschedule/{target.public_id}?mode=video" in html
    confirm = client.get(f"/manage/{token}/reschedule/{target.public_id}?mode=video").get_data(as_text=True)
    assert re.search(r'checked[^>]*value="video"', confirm)
    response = client.post(
        f"/manage/{token}/reschedule/{target.public_id}", data={"csrf_token": csrf_token(confirm), "mode": "video"}
    )
    assert response.status_code == 303


@pytest.mark.parametrize("first_day", [date(2027, 3, 1), date(2027, 10, 25)], ids=["march", "november"])
def test_counts_per_day_match_each_start_on_the_clinics_clock_across_dst(any_app, first_day):
    """The database counts free slots per clinic day (on SQLite by the zone's offset between
    the DST changes, on PostgreSQL by the zone itself): slots at the very start and end of
    each day, either side of the change, land on the day a clinic clock shows."""
    from app.booking.slots import FreeFilter, free_per_day
    from app.core.extensions import db

    last_day = first_day + timedelta(days=20)
    starts = []
    with any_app.app_context():
        for n in range(21):
            day = first_day + timedelta(days=n)
            times = [(12, 0)] + [(0, 0)] * (n % 2 == 0) + [(23, 30)] * (n % 3 == 0) + [(1, 30), (3, 0)] * (n % 4 == 0)
            for hour, minute in times:
                starts.append(make_slot(local_dt(day, hour, minute), minutes=30).starts_at)
        make_slot(local_dt(last_day + timedelta(days=1), 0, 0), minutes=30)  # the day after: not counted
        db.session.commit()
        free = FreeFilter(local_dt(first_day, 0), local_dt(last_day + timedelta(days=2), 0))
        counts = free_per_day(free, first_day, last_day, DENVER)
    expected: dict[date, int] = {}
    for start in starts:
        expected[start.astimezone(DENVER).date()] = expected.get(start.astimezone(DENVER).date(), 0) + 1
    assert counts == expected
    assert len(set(counts.values())) > 2 and sum(counts.values()) == len(starts)


def test_per_day_count_is_compiled_once_per_shape_and_never_shared_between_shapes(any_app):
    """The count per day is a statement SQLAlchemy can cache: the second request reuses the
    compiled SQL, and a range with a different number of DST changes (other SQL on SQLite)
    gets its own, with the right counts on each side."""
    from sqlalchemy import event
    from sqlalchemy.engine.interfaces import CacheStats

    from app.booking.slots import FreeFilter, _LocalDate, free_per_day
    from app.core.extensions import db
    from app.models import Slot

    assert _LocalDate(Slot.starts_at, 0)._generate_cache_key() == _LocalDate(Slot.starts_at, 0)._generate_cache_key()
    assert _LocalDate(Slot.starts_at, 0)._generate_cache_key() != _LocalDate(Slot.starts_at, 2)._generate_cache_key()
    with any_app.app_context():
        summer, winter = date(2027, 10, 25), date(2027, 12, 1)  # 2027's autumn change is on Nov 7
        for day in (summer, summer + timedelta(days=20), winter):
            make_slot(local_dt(day, 0, 0), minutes=30)
        db.session.commit()
        hits: list[bool] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            if "count(" in statement.lower():
                hits.append(context.cache_hit is CacheStats.CACHE_HIT)

        event.listen(db.engine, "after_cursor_execute", record)
        try:
            across = FreeFilter(local_dt(summer, 0), local_dt(summer + timedelta(days=30), 0))
            within = FreeFilter(local_dt(winter, 0), local_dt(winter + timedelta(days=7), 0))
            counted = [
                free_per_day(across, summer, summer + timedelta(days=29), DENVER),
                free_per_day(within, winter, winter + timedelta(days=6), DENVER),
                free_per_day(within, winter, winter + timedelta(days=6), DENVER),
                free_per_day(across, summer, summer + timedelta(days=29), DENVER),
            ]
        finally:
            event.remove(db.engine, "after_cursor_execute", record)
    assert counted[0] == counted[3] == {summer: 1, summer + timedelta(days=20): 1}
    assert counted[1] == counted[2] == {winter: 1}
    assert hits[2:] == [True, True]
