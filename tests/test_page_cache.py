"""Caching of busy pages: the slot listings follow every committed calendar change at once,
even one made by another process; nothing is bumped for a change that rolled back."""

from __future__ import annotations

import time as clock
from datetime import time

import pytest

from app.booking import calendar_version, service
from app.booking.errors import SlotTaken
from app.page_cache import RenderCache
from tests.conftest import build_app, dispose, make_slot, patient


def test_render_cache_is_lru_with_expiry():
    cache = RenderCache(size=2, ttl=0.2)
    calls = []
    make = lambda key: cache.get_or_make(key, lambda: calls.append(key) or key)  # noqa: E731
    assert [make("a"), make("a"), make("b"), make("c"), make("a")] == ["a", "a", "b", "c", "a"]
    assert calls == ["a", "b", "c", "a"]  # "a" was evicted by "c", then made again
    clock.sleep(0.25)
    make("a")
    assert calls[-1] == "a" and len(calls) == 5


def test_version_moves_after_commits_not_rollbacks(any_app):
    with any_app.app_context():
        start = calendar_version.current()
        slot = make_slot()
        after_slot = calendar_version.current()
        assert after_slot > start
        result = service.book(slot.public_id, "phone", patient())
        after_booking = calendar_version.current()
        assert after_booking > after_slot
        with pytest.raises(SlotTaken):
            service.book(slot.public_id, "phone", patient(email="x@example.com"))
        assert calendar_version.current() == after_booking
        service.cancel(result.booking.public_id)
        assert calendar_version.current() > after_booking


def test_bulk_slot_removal_moves_the_version(app):
    from app.booking.slots import regenerate_slots
    from app.database import write_transaction
    from app.models import AvailabilityRule, DateOverride
    from tests.conftest import future_day

    with app.app_context():
        with write_transaction() as session:
            session.add(AvailabilityRule(weekday=future_day(3).weekday(), start_time=time(9), end_time=time(10)))
        regenerate_slots(days=7)
        before = calendar_version.current()
        with write_transaction() as session:
            session.add(DateOverride(on_date=future_day(3), kind="closed"))
        report = regenerate_slots(days=7)
        assert report.removed == 2 and calendar_version.current() > before


def test_book_page_of_one_process_follows_a_booking_made_in_another(sqlite_url):
    reader, writer = build_app(sqlite_url), build_app(sqlite_url)
    try:
        with writer.app_context():
            slot_id = make_slot().public_id
        client = reader.test_client()
        assert f"/book/{slot_id}" in client.get("/book").get_data(as_text=True)
        assert f"/book/{slot_id}" in client.get("/book").get_data(as_text=True)  # now from the cache
        with writer.app_context():
            service.book(slot_id, "phone", patient())
        assert f"/book/{slot_id}" not in client.get("/book").get_data(as_text=True)
        api = client.get("/api/v1/slots").get_json()
        assert slot_id not in [s["id"] for s in api["slots"]]
    finally:
        dispose(reader)
        dispose(writer)


def test_on_postgresql_advancing_the_version_never_waits_for_another_change(postgres_url):
    """Every change advances the version after it commits; with a row, each would queue
    behind the others' commits. A change still open must not hold up the next one."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from app.extensions import db

    url = make_url(postgres_url)
    # Every connection gives up on a lock after a second, so a wait fails the test.
    url = url.update_query_dict({"options": f"{url.query['options']} -clock_timeout=1000"})
    app = build_app(url.render_as_string(hide_password=False))
    try:
        with app.app_context():
            before = calendar_version.current()
            with db.engine.connect() as other:
                other.exec_driver_sql("BEGIN")
                other.execute(calendar_version._ADVANCE)  # an advance in a transaction left open
                started = clock.monotonic()
                calendar_version.bump(db.engine)  # fails with a lock timeout if it must wait
                assert clock.monotonic() - started < 1
                other.execute(text("ROLLBACK"))
            # Both advances count, rolled back or not: the version only ever goes up.
            assert calendar_version.current() == before + 2
    finally:
        dispose(app)
