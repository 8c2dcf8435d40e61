"""Hardening: headers, rate limits (in memory and shared through Redis), proxies, static analysis."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid

import pytest

from app.core.actors import THE_PATIENT
from tests.conftest import ROOT, LiveServer, booking_form, build_app, dispose, make_booking, make_slot

API_BODY = {
    "mode": "phone",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "970-555-0123",
    "interest": "tms",
    "consent": True,
}


def test_security_headers_on_every_page(ctx, client):
    for path in ("/", "/book", "/api/v1/slots", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
            assert directive in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in headers


def test_a_view_keeps_its_own_security_headers_and_none_is_sent_twice(app):
    from flask import Response

    def own_headers(token):
        response = Response("ok")
        response.headers["Content-Security-Policy"] = "default-src 'none'"
        response.headers["Cache-Control"] = "private, max-age=60"
        return response

    app.add_url_rule("/own-headers/<token>", "own_headers", own_headers)
    client = app.test_client()
    headers = client.get("/own-headers/abc", base_url="https://clinic.example").headers
    assert headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert headers.getlist("Cache-Control") == ["private, max-age=60"]
    assert headers.getlist("Referrer-Policy") == ["no-referrer"]
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Permissions-Policy", "Strict-Transport-Security"):
        assert len(headers.getlist(name)) == 1, name
    page = client.get("/book").headers
    for name in (
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Frame-Options",
        "Permissions-Policy",
    ):
        assert len(page.getlist(name)) == 1, name


def test_hsts_only_over_https(ctx, client):
    response = client.get("/", base_url="https://clinic.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_with_a_manage_token_send_no_referrer(ctx, client):
    token = make_booking().manage_token
    for path in (f"/manage/{token}", f"/manage/{token}/confirmed", f"/manage/{token}/reschedule"):
        response = client.get(path)
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert "no-store" in response.headers["Cache-Control"]
    api = client.get(f"/api/v1/bookings/{token}")
    assert api.headers["Referrer-Policy"] == "no-referrer"


def test_session_cookie_flags(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.fixture
def limited_app(sqlite_url):
    app = build_app(
        sqlite_url,
        {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_BOOKING": "3 per minute"},
    )
    yield app
    dispose(app)


def test_booking_rate_limit_gives_friendly_429(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        slot_id = make_slot().public_id
    statuses = [
        client.post("/api/v1/bookings", json={**API_BODY, "slot_id": slot_id, "email": f"p{i}@example.com"}).status_code
        for i in range(4)
    ]
    assert statuses[:1] == [201] and statuses[1:3] == [409, 409] and statuses[3] == 429
    json_429 = client.post("/api/v1/bookings", json=API_BODY)
    assert json_429.status_code == 429 and json_429.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in json_429.headers
    # The booking form shares the API's budget: this address has used it up.
    page = client.post(f"/book/{slot_id}", data={})
    assert page.status_code == 429
    assert "Please slow down" in page.get_data(as_text=True)
    # Reading pages is not limited by the booking limit.
    assert client.get("/book").status_code == 200


def test_booking_form_and_api_share_one_booking_limit(sqlite_url):
    """One address's bookings count together, whichever way they arrive: 4 allowed a
    minute, spent 2 through the form and 2 through the API, then both refuse."""
    app = build_app(
        sqlite_url,
        {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_BOOKING": "4 per minute"},
    )
    try:
        client = app.test_client()
        with app.app_context():
            slot_ids = [make_slot().public_id for _ in range(5)]
        statuses = []
        for n, slot_id in enumerate(slot_ids[:4]):
            if n % 2:
                response = client.post(
                    "/api/v1/bookings", json={**API_BODY, "slot_id": slot_id, "email": f"p{n}@example.com"}
                )
            else:
                page = client.get(f"/book/{slot_id}").get_data(as_text=True)
                response = client.post(f"/book/{slot_id}", data=booking_form(page, email=f"p{n}@example.com"))
            statuses.append(response.status_code)
        assert statuses == [303, 201, 303, 201]
        assert client.post("/api/v1/bookings", json={**API_BODY, "slot_id": slot_ids[4]}).status_code == 429
        assert client.post(f"/book/{slot_ids[4]}", data={}).status_code == 429
        # Another address has its own budget.
        other = client.post(
            "/api/v1/bookings", json={**API_BODY, "slot_id": slot_ids[4]}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
        )
        assert other.status_code == 201
    finally:
        dispose(app)


def token_rules(app) -> list:
    """Every route whose URL carries a secret token (what `flask routes` lists)."""
    return [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]


def test_every_token_route_is_rate_limited(sqlite_url):
    """Guessing tokens is throttled on every route that takes one, reads included, and all
    of them draw on one budget per address."""
    from app.core.extensions import limiter

    app = build_app(
        sqlite_url,
        {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_TOKEN_LOOKUP": "3 per minute",
            "RATELIMIT_MANAGE": "100 per minute",
            "WTF_CSRF_ENABLED": False,
        },
    )
    try:
        client = app.test_client()
        with app.app_context():
            slot_id = make_slot().public_id
        rules = token_rules(app)
        assert {rule.endpoint for rule in rules} >= {
            "manage.show",
            "manage.confirmed",
            "manage.cancel",
            "manage.choose_new_slot",
            "manage.confirm_new_slot",
            "manage.invite",
            "manage.confirm_cancel",
            "calendar.staff_feed",
            "api.show_booking",
            "api.cancel_booking",
            "api.reschedule_booking",
            "api.show_entry",
            "api.leave_waitlist",
            "api.claim_offer",
            "api.decline_offer",
            "waitlist.entry",
            "waitlist.leave",
            "waitlist.offer",
            "waitlist.claim",
            "waitlist.change",
            "api.change_entry",
            "waitlist.join_for_booking",
            "sms.short_link",
            "course.show",
            "course.calendar",
            "course.choose_time",
        }
        checked = 0
        for rule in rules:
            path = rule.rule.replace("<token>", "x" * 32).replace("<slot_id>", slot_id).replace("<int:number>", "1")
            for method in sorted(rule.methods & {"GET", "POST", "PATCH"}):
                with app.app_context():
                    limiter.reset()
                statuses = [client.open(path, method=method, json={}).status_code for _ in range(4)]
                assert 429 not in statuses[:3] and statuses[3] == 429, (method, rule.rule, statuses)
                checked += 1
        assert checked == 29  # every method of the routes above
        # One budget: three guesses on one route leave none for another.
        with app.app_context():
            limiter.reset()
        for _ in range(3):
            client.get("/manage/" + "y" * 32)
        assert client.get(f"/api/v1/bookings/{'y' * 32}").status_code == 429
    finally:
        dispose(app)


def test_api_hides_interest_and_note_of_cancelled_and_past_bookings(any_app):
    from datetime import timedelta

    from sqlalchemy import update

    from app.booking import service
    from app.core.database import write_transaction
    from app.models import Slot, utcnow

    client = any_app.test_client()
    with any_app.app_context():
        upcoming = make_booking(note="Worried about side effects")
        cancelled = make_booking(note="Has had seizures", email="c@example.com")
        service.cancel(cancelled.booking.public_id, actor=THE_PATIENT)
        past = make_booking(note="Tried three medications", email="p@example.com")
        starts = utcnow() - timedelta(days=2)
        with write_transaction() as session:
            session.execute(
                update(Slot)
                .where(Slot.id == past.booking.slot_id)
                .values(starts_at=starts, ends_at=starts + timedelta(minutes=30))
            )
        public_ids = {result.manage_token: result.booking.public_id for result in (cancelled, past)}
    shown = client.get(f"/api/v1/bookings/{upcoming.manage_token}").get_json()["booking"]
    assert shown["interest"] == "tms" and shown["note"] == "Worried about side effects"
    for result in (cancelled, past):
        response = client.get(f"/api/v1/bookings/{result.manage_token}")
        assert response.status_code == 200
        booking = response.get_json()["booking"]
        assert "interest" not in booking and "note" not in booking
        assert booking["id"] == public_ids[result.manage_token]
        text = response.get_data(as_text=True)
        assert "seizures" not in text and "medications" not in text
    after_cancel = client.post(f"/api/v1/bookings/{upcoming.manage_token}/cancel").get_json()["booking"]
    assert after_cancel["status"] == "cancelled" and "note" not in after_cancel


def test_access_log_lines_escape_control_characters(sqlite_url, app, tmp_path):
    """A path with %0A, %0D and %00 (decoded into PATH_INFO) gives one access-log line with
    the characters escaped, through the production gunicorn.conf.py."""
    import socket

    access_log = tmp_path / "access.log"
    server = LiveServer(
        sqlite_url,
        env={"ACCESS_LOG": str(access_log), "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"},
        production_config=True,
    )
    server.start()
    try:
        forged = "/nothing%0A127.0.0.1%20-%20-%20%22GET%20/staff/%22%20200%0D%00end"
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(f"GET {forged} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            while sock.recv(65536):
                pass
    finally:
        server.stop(graceful=True)  # the worker writes its last access-log line
    raw = access_log.read_bytes()
    assert b"\x00" not in raw and b"\r" not in raw
    lines = [line for line in raw.decode().splitlines() if "/healthz" not in line]
    assert len(lines) == 1, lines
    assert r'"GET /nothing\x0a127.0.0.1 - - \"GET /staff/\" 200\x0d\x00end HTTP/1.1" 400' in lines[0]


def test_text_log_lines_escape_control_characters():
    import logging

    from app.core.logs import TextFormatter

    record = logging.LogRecord("app", logging.WARNING, __file__, 1, "not found: %s", ("/a\nFORGED\r\x00b",), None)
    line = TextFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert line.endswith("not found: /a\\x0aFORGED\\x0d\\x00b")


def test_text_log_lines_leave_out_colour_codes_and_escape_other_escapes():
    import logging

    from app.core.logs import TextFormatter

    banner = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "\x1b[31m\x1b[1mWARNING: This is a development server.\x1b[0m", (), None
    )
    assert TextFormatter().format(banner).endswith("werkzeug: WARNING: This is a development server.")
    cursor = logging.LogRecord("app", logging.INFO, __file__, 1, "a\x1b[2Jb\x1b]0;title\x07", (), None)
    assert TextFormatter().format(cursor).endswith("app: a\\x1b[2Jb\\x1b]0;title\\x07")


def test_the_dev_server_banner_is_readable_lines_and_nothing_else_splits():
    import logging

    from app.core.logs import TextFormatter

    banner = (
        "\x1b[31m\x1b[1mWARNING: This is a development server. Do not use it in a production deployment."
        "\x1b[0m\n * Running on http://127.0.0.1:5000"
    )
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, banner, (), None)
    lines = TextFormatter().format(record).split("\n")
    assert len(lines) == 2 and "\\x" not in "".join(lines)
    assert lines[0].endswith(
        "werkzeug: WARNING: This is a development server. Do not use it in a production deployment."
    )
    assert lines[1].endswith("werkzeug:  * Running on http://127.0.0.1:5000")
    # The same words from anywhere else, or with arguments filled in, stay on one line.
    for name, message, args in (
        ("app", banner, ()),
        ("werkzeug", "WARNING: This is a development server.%s", ("\nFORGED",)),
    ):
        line = TextFormatter().format(logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None))
        assert "\n" not in line and "\\x0a" in line


def test_proxy_fix_uses_forwarded_address_for_limits(sqlite_url):
    app = build_app(
        sqlite_url,
        {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_BOOKING": "1 per minute",
            "PROXY_FIX_HOPS": 1,
        },
    )
    try:
        from app.core.security import register  # noqa: F401  (ProxyFix is applied in create_app)

        client = app.test_client()
        first = client.post("/api/v1/bookings", json=API_BODY, headers={"X-Forwarded-For": "203.0.113.1"})
        second = client.post("/api/v1/bookings", json=API_BODY, headers={"X-Forwarded-For": "203.0.113.1"})
        other = client.post("/api/v1/bookings", json=API_BODY, headers={"X-Forwarded-For": "203.0.113.2"})
        assert first.status_code != 429 and second.status_code == 429 and other.status_code != 429
    finally:
        dispose(app)


def _redis_reason() -> str | None:
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except Exception as error:  # noqa: BLE001
        return f"Redis not reachable at 127.0.0.1:6379: {type(error).__name__}"
    return None


@pytest.mark.parametrize(("storage", "max_allowed"), [("redis", 4), ("memory", None)])
def test_limits_hold_across_gunicorn_workers_only_with_redis(app, sqlite_url, storage, max_allowed):
    import requests

    if storage == "redis":
        reason = _redis_reason()
        if reason:
            pytest.skip(reason)
    uri = "redis://127.0.0.1:6379/0" if storage == "redis" else "memory://"
    server = LiveServer(
        sqlite_url,
        workers=2,
        threads=1,
        env={
            "RATELIMIT_ENABLED": "true",
            "RATELIMIT_STORAGE_URI": uri,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "RATELIMIT_TOKEN_LOOKUP": "4 per minute",
        },
    ).start()
    try:
        statuses = []
        for _ in range(16):
            # A fresh connection each time, so both workers answer.
            statuses.append(
                requests.get(
                    f"{server.url}/api/v1/bookings/{'x' * 32}", headers={"Connection": "close"}, timeout=10
                ).status_code
            )
    finally:
        server.stop()
    allowed = statuses.count(404)
    assert allowed + statuses.count(429) == 16
    if max_allowed is not None:
        assert allowed == max_allowed, statuses
    else:
        assert allowed >= 4  # each worker counts alone: the in-memory store is per process


def test_bandit_finds_no_medium_or_high_issues():
    if shutil.which("bandit", path=str(ROOT / ".venv" / "bin")) is None and not _has_module("bandit"):
        pytest.skip("bandit is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "app", "-ll", "-q", "-f", "txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
