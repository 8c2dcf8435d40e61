"""Staff sign-in: argon2id hashes (rehashed when parameters change), one message for every
refusal, lockout per account and per address, the rate limit, cookie flags, idle expiry,
sessions ended by a password change, and the `flask staff` commands."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import extract_parameters

from app.core.config import load_config
from app.models import utcnow
from app.staff import accounts
from tests.conftest import build_app, dispose
from tests.fixtures_staff import STAFF_PASSWORD, Clock, make_staff, page_csrf, sign_in, signed_in_client

EMAIL = "sam@mindset-tms.example"


def visible_text(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", html)
    return re.sub(r'value="[^"]*"', "", html)


def test_passwords_are_argon2id_and_never_stored_plain(ctx):
    # With the production parameters (the suite's own are light).
    ctx.config.update({name: value for name, value in load_config().items() if name.startswith("STAFF_ARGON2_")})
    user = make_staff(EMAIL)
    assert user.password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in user.password_hash
    params = extract_parameters(user.password_hash)
    assert params.memory_cost >= 19456 and params.time_cost >= 2


def test_hash_is_upgraded_at_sign_in_when_parameters_change(app, client):
    app.config.update(STAFF_ARGON2_TIME_COST=1, STAFF_ARGON2_MEMORY_KIB=8192)
    with app.app_context():
        old_hash = make_staff(EMAIL).password_hash
    assert extract_parameters(old_hash).time_cost == 1
    app.config.update(STAFF_ARGON2_TIME_COST=3, STAFF_ARGON2_MEMORY_KIB=65536)
    assert sign_in(client, EMAIL).status_code == 303
    with app.app_context():
        new_hash = accounts.find_by_email(EMAIL).password_hash
    assert new_hash != old_hash
    params = extract_parameters(new_hash)
    assert (params.time_cost, params.memory_cost) == (3, 65536)
    assert sign_in(app.test_client(), EMAIL).status_code == 303  # the new hash verifies


def test_same_message_for_unknown_email_wrong_password_and_disabled_account(app):
    with app.app_context():
        make_staff(EMAIL)
        make_staff("gone@mindset-tms.example", active=False)
    responses = [
        sign_in(app.test_client(), "nobody@mindset-tms.example", "whatever it is"),
        sign_in(app.test_client(), EMAIL, "not the password"),
        sign_in(app.test_client(), "gone@mindset-tms.example"),
    ]
    assert {r.status_code for r in responses} == {401}
    texts = {visible_text(r) for r in responses}
    assert len(texts) == 1
    assert accounts.WRONG_DETAILS in texts.pop()


def test_sign_in_is_case_insensitive_and_redirects_to_next_page(app, client):
    with app.app_context():
        make_staff(EMAIL)
    client.get("/staff/bookings?when=past")
    token = page_csrf(client, "/staff/sign-in?next=/staff/bookings?when=past")
    response = client.post(
        "/staff/sign-in",
        data={
            "email": "  Sam@Mindset-TMS.example ",
            "password": STAFF_PASSWORD,
            "csrf_token": token,
            "next": "/staff/bookings?when=past",
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/staff/bookings?when=past"


def test_next_never_leaves_the_staff_console(app, client):
    with app.app_context():
        make_staff(EMAIL)
    token = page_csrf(client)
    for target in ("https://evil.example/staff/", "//evil.example/staff/", "/book", "/staff/sign-in"):
        fresh = app.test_client()
        token = page_csrf(fresh)
        response = fresh.post(
            "/staff/sign-in", data={"email": EMAIL, "password": STAFF_PASSWORD, "csrf_token": token, "next": target}
        )
        assert response.headers["Location"] == "/staff/", target


def test_account_locks_after_repeated_failures_even_from_many_addresses(app):
    app.config["STAFF_LOCKOUT_ACCOUNT_FAILURES"] = 5
    with app.app_context():
        make_staff(EMAIL)
        make_staff("other@mindset-tms.example")
    for attempt in range(5):
        response = sign_in(app.test_client(), EMAIL, "wrong password", address=f"10.0.0.{attempt}")
        assert response.status_code == 401
    locked = sign_in(app.test_client(), EMAIL, address="10.0.0.99")  # right password, new address
    assert locked.status_code == 429
    assert "Too many unsuccessful sign-in attempts" in locked.get_data(as_text=True)
    # Other accounts are not affected.
    assert sign_in(app.test_client(), "other@mindset-tms.example", address="10.0.0.1").status_code == 303
    # An unknown email locks the same way, so the lockout does not reveal which emails exist.
    for _ in range(5):
        sign_in(app.test_client(), "ghost@mindset-tms.example", "x" * 12, address="10.0.1.1")
    assert sign_in(app.test_client(), "ghost@mindset-tms.example", "x" * 12, address="10.0.1.2").status_code == 429


def test_address_locks_after_failures_across_accounts(app):
    app.config["STAFF_LOCKOUT_ADDRESS_FAILURES"] = 6
    with app.app_context():
        make_staff(EMAIL)
    for n in range(6):
        assert (
            sign_in(
                app.test_client(), f"guess{n}@mindset-tms.example", "guess guess guess", address="192.0.2.7"
            ).status_code
            == 401
        )
    assert sign_in(app.test_client(), EMAIL, address="192.0.2.7").status_code == 429
    assert sign_in(app.test_client(), EMAIL, address="192.0.2.8").status_code == 303


def test_lockout_ends_after_the_window_and_success_resets_the_count(ctx):
    make_staff(EMAIL)
    now = utcnow()
    for _ in range(4):
        with pytest.raises(accounts.SignInRefused):
            accounts.authenticate(EMAIL, "wrong", "10.1.1.1", now=now)
    accounts.authenticate(EMAIL, STAFF_PASSWORD, "10.1.1.1", now=now)  # 4 < 5: still fine, resets
    for _ in range(5):
        with pytest.raises(accounts.SignInRefused):
            accounts.authenticate(EMAIL, "wrong", "10.1.1.1", now=now)
    with pytest.raises(accounts.SignInRefused) as refused:
        accounts.authenticate(EMAIL, STAFF_PASSWORD, "10.1.1.1", now=now + timedelta(minutes=5))
    assert refused.value.locked
    user = accounts.authenticate(EMAIL, STAFF_PASSWORD, "10.1.1.1", now=now + timedelta(minutes=16))
    assert user.email == EMAIL


def test_sign_in_post_is_rate_limited_with_a_friendly_page(sqlite_url):
    app = build_app(sqlite_url, {"RATELIMIT_ENABLED": True, "STAFF_SIGN_IN_RATE_LIMIT": "3 per minute"})
    try:
        client = app.test_client()
        token = page_csrf(client)
        statuses = [
            client.post(
                "/staff/sign-in", data={"email": f"x{n}@example.com", "password": "nope nope", "csrf_token": token}
            ).status_code
            for n in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        limited = client.post("/staff/sign-in", data={"email": "x@example.com", "password": "n", "csrf_token": token})
        assert limited.status_code == 429 and "Please slow down" in limited.get_data(as_text=True)
        assert client.get("/staff/sign-in").status_code == 200  # only the POST is limited
    finally:
        dispose(app)


def test_session_cookie_flags(app):
    with app.app_context():
        make_staff(EMAIL)
    cookie = sign_in(app.test_client(), EMAIL).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    https = app.test_client()
    token = page_csrf(https)
    response = https.post(
        "/staff/sign-in",
        base_url="https://localhost",
        data={"email": EMAIL, "password": STAFF_PASSWORD, "csrf_token": token},
        headers={"Referer": "https://localhost/staff/sign-in"},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_session_expires_after_idle_time(app):
    clock = Clock()
    app.config["STAFF_CLOCK"] = clock
    client = signed_in_client(app, EMAIL)
    assert client.get("/staff/").status_code == 200
    idle = int(app.permanent_session_lifetime.total_seconds())
    clock.advance(seconds=idle - 60)  # still inside the window
    assert client.get("/staff/").status_code == 200
    clock.advance(seconds=idle + 1)
    expired = client.get("/staff/bookings")
    assert expired.status_code == 302 and "/staff/sign-in" in expired.headers["Location"]
    page = client.get(expired.headers["Location"]).get_data(as_text=True)
    assert "signed out after" in page
    assert client.get("/staff/").status_code == 302  # the session is really gone


def test_sign_out_is_a_post_and_ends_the_session(app):
    client = signed_in_client(app, EMAIL)
    assert client.get("/staff/sign-out").status_code in (302, 405)
    assert client.get("/staff/").status_code == 200
    token = page_csrf(client, "/staff/")
    response = client.post("/staff/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/staff/").status_code == 302


def test_sessions_follow_a_secret_key_rotation(app):
    client = signed_in_client(app, EMAIL)
    assert client.get("/staff/").status_code == 200
    old_key = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "a-new-secret-key-for-the-rotation-test"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get("/staff/").status_code == 200  # the old key still verifies the cookie
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/staff/").status_code == 302  # and once it is retired, it no longer does


def test_a_tampered_session_cookie_is_refused(app):
    client = signed_in_client(app, EMAIL)
    assert client.get("/staff/").status_code == 200
    cookie = client.get_cookie("session").value
    tampered = cookie[:-3] + ("A" if cookie[-3] != "A" else "B") + cookie[-2:]
    client.set_cookie("session", tampered)
    assert client.get("/staff/").status_code == 302


def test_password_change_signs_out_other_sessions(app):
    laptop = signed_in_client(app, EMAIL)
    tablet = app.test_client()
    assert sign_in(tablet, EMAIL).status_code == 303
    token = page_csrf(laptop, "/staff/account/password")
    new = "a brand new long password"
    response = laptop.post(
        "/staff/account/password", data={"current": STAFF_PASSWORD, "new": new, "confirm": new, "csrf_token": token}
    )
    assert response.status_code == 303
    assert laptop.get("/staff/").status_code == 200
    assert tablet.get("/staff/").status_code == 302
    assert sign_in(app.test_client(), EMAIL, new).status_code == 303


def test_short_passwords_are_refused(ctx):
    with pytest.raises(accounts.AccountError, match="at least 12"):
        accounts.create_account(EMAIL, "Sam", "staff", "short")


def test_successful_sign_in_is_audited_and_remembers_the_previous_visit(app):
    from sqlalchemy import select

    from app.core.extensions import db
    from app.models.staff import AuditLog

    with app.app_context():
        make_staff(EMAIL)
    sign_in(app.test_client(), EMAIL)
    sign_in(app.test_client(), EMAIL)
    with app.app_context():
        user = accounts.find_by_email(EMAIL)
        assert user.previous_sign_in_at is not None and user.last_sign_in_at >= user.previous_sign_in_at
        query = select(AuditLog.action).where(AuditLog.actor_id == user.id)
        actions = db.session.execute(query).scalars().all()
        assert actions.count("sign_in") == 2


def test_cli_create_list_disable(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["staff", "create", "--email", "Admin@Mindset-TMS.example", "--name", "Alex Admin", "--role", "admin"],
        input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert STAFF_PASSWORD not in result.output
    result = runner.invoke(args=["staff", "create", "--email", EMAIL, "--password", STAFF_PASSWORD])
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(args=["staff", "create", "--email", EMAIL, "--password", STAFF_PASSWORD])
    assert duplicate.exit_code != 0 and "already an account" in duplicate.output
    listing = runner.invoke(args=["staff", "list"]).output
    assert "admin@mindset-tms.example\tAlex Admin\tadmin\tactive" in listing
    assert f"{EMAIL}\tSam\tstaff\tactive" in listing
    assert runner.invoke(args=["staff", "disable", "--email", EMAIL]).exit_code == 0
    assert f"{EMAIL}\tSam\tstaff\tdisabled" in runner.invoke(args=["staff", "list"]).output
    assert sign_in(app.test_client(), EMAIL).status_code == 401
    assert sign_in(app.test_client(), "admin@mindset-tms.example").status_code == 303
    changed = runner.invoke(
        args=["staff", "set-password", "--email", "admin@mindset-tms.example", "--password", "another long password"]
    )
    assert changed.exit_code == 0
    assert sign_in(app.test_client(), "admin@mindset-tms.example", "another long password").status_code == 303
