"""The public page cache (app.core.page_cache): kept for PAGE_CACHE_SECONDS per process,
dropped by any change this process commits, and never holding one visitor's state."""

from __future__ import annotations

from datetime import timedelta

from app.core.extensions import db
from app.core.page_cache import PageCache
from app.models import Slot
from tests.conftest import build_app, csrf_token, dispose, future_day, local_dt, make_booking, make_slot


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def slots_url() -> str:
    day = future_day(3)
    return f"/api/v1/slots?start={day}&end={day + timedelta(days=6)}"


def cached_app(url: str, clock: Clock):
    app = build_app(url, {"PAGE_CACHE_SECONDS": 5})
    app.extensions["page_cache"] = PageCache(5, clock=clock)
    return app


def listed(response) -> set[str]:
    return {slot["id"] for slot in response.get_json()["slots"]}


def test_a_change_from_another_process_shows_once_the_seconds_have_passed(sqlite_url):
    clock = Clock()
    app, other = cached_app(sqlite_url, clock), build_app(sqlite_url)
    try:
        client = app.test_client()
        first = listed(client.get(slots_url()))
        with other.app_context():  # another worker process adds a time
            added = make_slot(local_dt(future_day(3), 10)).public_id
        assert listed(client.get(slots_url())) == first
        clock.now += 5
        assert listed(client.get(slots_url())) == first | {added}
    finally:
        dispose(app)
        dispose(other)


def test_a_change_this_process_commits_empties_the_cache_at_once(sqlite_url):
    clock = Clock()
    app = cached_app(sqlite_url, clock)
    try:
        client = app.test_client()
        with app.app_context():
            slot = make_slot(local_dt(future_day(3), 11))
            slot_id = slot.public_id
        assert slot_id in listed(client.get(slots_url()))
        with app.app_context():
            make_booking(db.session.execute(db.select(Slot).filter_by(public_id=slot_id)).scalar_one())
        assert slot_id not in listed(client.get(slots_url()))
        assert b"Not for emergencies" in client.get("/").data
    finally:
        dispose(app)


def test_pages_with_a_visitors_state_are_never_kept(sqlite_url):
    clock = Clock()
    app = cached_app(sqlite_url, clock)
    try:
        client = app.test_client()
        cache = app.extensions["page_cache"]
        with client.session_transaction() as state:
            state["_flashes"] = [("info", "A message for this visitor only")]
        assert client.get("/").status_code == 200
        assert cache.get("localhost/?") is None
        other = app.test_client()
        assert other.get("/").status_code == 200
        assert cache.get("localhost/?") is not None
        # The self-check carries a form with this visitor's CSRF token: it is not cached.
        assert app.view_functions["public.self_check"].__name__ == "self_check_page"
        first = client.get("/self-check").get_data(as_text=True)
        second = other.get("/self-check").get_data(as_text=True)
        assert first != second
    finally:
        dispose(app)


def test_entries_expire_and_the_oldest_go_first():
    clock = Clock()
    cache = PageCache(5, size=2, clock=clock)
    cache.put("a", (200, b"a", []))
    cache.put("b", (200, b"b", []))
    cache.put("c", (200, b"c", []))
    assert cache.get("a") is None and cache.get("b") == (200, b"b", [])
    clock.now += 5
    assert cache.get("b") is None and cache.get("c") is None


def test_a_signed_in_list_is_kept_for_its_own_session_only(sqlite_url):
    from tests.fixtures_staff import signed_in_client

    clock = Clock()
    app, other = cached_app(sqlite_url, clock), build_app(sqlite_url)
    try:
        alex = signed_in_client(app, "alex@mindset-tms.example", "admin")
        sam = signed_in_client(app, "sam@mindset-tms.example")
        with other.app_context():  # another worker process books a consultation
            make_booking(make_slot(), name="Grace Hopper")
        alex.get("/staff/bookings")  # the first page view puts a CSRF secret in the session
        first = alex.get("/staff/bookings").get_data(as_text=True)
        assert "Grace Hopper" in first
        with other.app_context():
            make_booking(make_slot(), name="Alan Turing", email="alan@example.com")
        assert "Alan Turing" not in alex.get("/staff/bookings").get_data(as_text=True)  # kept
        assert "Alan Turing" in sam.get("/staff/bookings").get_data(as_text=True)  # not shared
        clock.now += 5
        assert "Alan Turing" in alex.get("/staff/bookings").get_data(as_text=True)
        # Signed out, the same cookie gets the sign-in page, never the kept list.
        sign_out = alex.get("/staff/").get_data(as_text=True)
        assert alex.post("/staff/sign-out", data={"csrf_token": csrf_token(sign_out)}).status_code in (302, 303)
        assert alex.get("/staff/bookings").status_code == 302
    finally:
        dispose(app)
        dispose(other)
