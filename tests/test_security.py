"""Hardening: headers, rate limits (in memory and shared through Redis), proxies, static analysis."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT, LiveServer, build_app, dispose, make_booking, make_slot

API_BODY = {"mode": "phone", "name": "Ada Lovelace", "email": "ada@example.com",
            "phone": "970-555-0123", "interest": "tms", "consent": True}


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


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
    for name in ("X-Content-Type-Options", "X-Frame-Options", "Permissions-Policy",
                 "Strict-Transport-Security"):
        assert len(headers.getlist(name)) == 1, name
    page = client.get("/book").headers
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "X-Frame-Options", "Permissions-Policy"):
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
    app = build_app(sqlite_url, {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                 "RATELIMIT_BOOKING": "3 per minute"})
    yield app
    dispose(app)


def test_booking_rate_limit_gives_friendly_429(limited_app):
    client = limited_app.test_client()
    with limited_app.app_context():
        slot_id = make_slot().public_id
    statuses = [client.post("/api/v1/bookings", json={**API_BODY, "slot_id": slot_id,
                                                      "email": f"p{i}@example.com"}).status_code
                for i in range(4)]
    assert statuses[:1] == [201] and statuses[1:3] == [409, 409] and statuses[3] == 429
    json_429 = client.post("/api/v1/bookings", json=API_BODY)
    assert json_429.status_code == 429 and json_429.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in json_429.headers
    form_statuses = [client.post(f"/book/{slot_id}", data={}).status_code for _ in range(4)]
    assert form_statuses == [422, 422, 422, 429]
    page = client.post(f"/book/{slot_id}", data={})
    assert "Please slow down" in page.get_data(as_text=True)
    # Reading pages is not limited by the booking limit.
    assert client.get("/book").status_code == 200


def test_proxy_fix_uses_forwarded_address_for_limits(sqlite_url):
    app = build_app(sqlite_url, {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                                 "RATELIMIT_BOOKING": "1 per minute", "PROXY_FIX_HOPS": 1})
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
    server = LiveServer(sqlite_url, workers=2, threads=1, env={
        "RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": uri,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}", "RATELIMIT_TOKEN_LOOKUP": "4 per minute"}).start()
    try:
        statuses = []
        for _ in range(16):
            # A fresh connection each time, so both workers answer.
            statuses.append(requests.get(f"{server.url}/api/v1/bookings/{'x' * 32}",
                                         headers={"Connection": "close"}, timeout=10).status_code)
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
    result = subprocess.run([sys.executable, "-m", "bandit", "-r", "app", "-ll", "-q", "-f", "txt"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
