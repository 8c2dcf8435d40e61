"""Server-side staff sessions: a session cookie copied from a browser stops working as soon
as its session ends (sign-out, a password change, the account disabled, idle time), on
every app process, and the cookie itself carries only the session's token.

Time is moved with the STAFF_CLOCK hook (see app.staff.sessions), never slept through."""

from __future__ import annotations

import pytest

from app.staff import accounts
from tests.conftest import build_app, dispose, future_day
from tests.fixtures_staff import STAFF_PASSWORD, Clock, make_staff, page_csrf, sign_in, signed_in_client, staff_post

SAM = "sam@mindset-tms.example"
ALEX = "alex@mindset-tms.example"
DAY = future_day(3).isoformat()
EXPORT = f"/staff/export?preset=custom&first={DAY}&last={DAY}&fmt=csv"


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock()
    app.config["STAFF_CLOCK"] = clock
    return clock


def copy_of(client, app):
    """A second browser carrying a copy of this client's session cookie."""
    return carrying(client.get_cookie("session").value, app)


def carrying(cookie: str, app):
    """A browser sending this session cookie."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def refused(response) -> bool:
    return response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]


def works(client) -> bool:
    """The session is accepted: the list opens and the export answers (its file, or the page
    saying the range is empty), instead of a redirect to sign in."""
    return client.get("/staff/bookings").status_code == 200 and client.get(EXPORT).status_code == 200


def account_id(app, email: str) -> int:
    with app.app_context():
        return accounts.find_by_email(email).id


def test_a_copied_cookie_is_refused_after_sign_out_even_for_the_csv_export(app):
    browser = signed_in_client(app, SAM)
    stolen = browser.get_cookie("session").value
    copy = carrying(stolen, app)
    assert works(copy)
    signed_out = staff_post(browser, "/staff/sign-out")
    assert signed_out.status_code == 303 and signed_out.headers["Location"] == "/staff/sign-in"
    assert refused(copy.get(EXPORT))
    assert refused(copy.get("/staff/bookings"))
    assert refused(copy.get("/staff/"))
    # Signing in again starts a new session; the copied one stays ended.
    assert sign_in(browser, SAM).status_code == 303 and works(browser)
    assert refused(carrying(stolen, app).get(EXPORT))


def test_a_copied_cookie_is_refused_after_a_password_change(app):
    browser = signed_in_client(app, SAM)
    copy = copy_of(browser, app)
    assert works(copy)
    token = page_csrf(browser, "/staff/account/password")
    new = "a brand new long password"
    changed = browser.post(
        "/staff/account/password", data={"current": STAFF_PASSWORD, "new": new, "confirm": new, "csrf_token": token}
    )
    assert changed.status_code == 303
    assert works(browser)  # this device goes on in a fresh session
    assert refused(copy.get(EXPORT))


def test_a_copied_cookie_is_refused_after_an_admin_sets_a_new_password(app):
    admin = signed_in_client(app, ALEX, "admin")
    browser = signed_in_client(app, SAM)
    copy = copy_of(browser, app)
    assert works(copy)
    response = staff_post(
        admin,
        f"/staff/accounts/{account_id(app, SAM)}/password",
        {"password": "set by the admin today"},
        token_from="/staff/accounts",
    )
    assert response.status_code == 303
    assert refused(copy.get(EXPORT))
    assert refused(browser.get("/staff/bookings"))


def test_a_copied_cookie_is_refused_after_the_account_is_disabled(app):
    admin = signed_in_client(app, ALEX, "admin")
    browser = signed_in_client(app, SAM)
    copy = copy_of(browser, app)
    assert works(copy)
    sam_id = account_id(app, SAM)
    response = staff_post(admin, f"/staff/accounts/{sam_id}/active", {"active": "0"}, token_from="/staff/accounts")
    assert response.status_code == 303
    assert refused(copy.get(EXPORT))
    # Enabling the account again does not bring its old sessions back.
    staff_post(admin, f"/staff/accounts/{sam_id}/active", {"active": "1"}, token_from="/staff/accounts")
    assert refused(copy_of(browser, app).get(EXPORT))


def test_a_copied_cookie_is_refused_after_the_idle_time(app, clock):
    idle = int(app.permanent_session_lifetime.total_seconds())
    browser = signed_in_client(app, SAM)
    copy = copy_of(browser, app)
    clock.advance(seconds=idle - 30)
    assert works(copy)  # still inside the window (and it starts again from here)
    clock.advance(seconds=idle - 30)
    assert works(browser)
    clock.advance(seconds=idle + 1)
    expired = browser.get("/staff/bookings?when=past")
    assert refused(expired) and "next=" in expired.headers["Location"]
    assert "signed out after" in browser.get(expired.headers["Location"]).get_data(as_text=True)
    # The session ended on the server: the copy is refused even with the clock set back.
    clock.advance(seconds=-(idle + 1))
    assert refused(copy.get(EXPORT))


def test_the_server_stamp_moves_on_at_most_once_a_minute(app, clock):
    """The idle check uses the server's stamp; it is written (and the cookie re-signed, so
    its signature stays within the idle time too) once a minute, not on every page."""
    from sqlalchemy import select

    from app.core.extensions import db
    from app.models.staff import StaffSession

    def last_seen():
        with app.app_context():
            return db.session.execute(select(StaffSession.last_seen_at)).scalar_one()

    browser = signed_in_client(app, SAM)
    browser.get("/staff/")  # the first page gives the session its CSRF secret
    started = last_seen()
    clock.advance(seconds=30)
    response = browser.get("/staff/bookings")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert last_seen() == started
    clock.advance(seconds=31)
    response = browser.get("/staff/bookings")
    assert response.status_code == 200 and "Set-Cookie" in response.headers
    assert last_seen() == clock.now
    assert "Set-Cookie" not in browser.get("/staff/").headers


def test_the_cookie_carries_only_the_session_token(app):
    from flask.sessions import SecureCookieSessionInterface

    browser = signed_in_client(app, SAM)
    browser.get("/staff/")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    values = serializer.loads(browser.get_cookie("session").value)
    assert set(values) <= {"staff_session", "csrf_token", "_permanent"}, values
    assert len(values["staff_session"]) >= 22  # at least 128 random bits, URL-safe base64
    with app.app_context():
        from sqlalchemy import select

        from app.core.extensions import db
        from app.models.staff import StaffSession

        stored = db.session.execute(select(StaffSession.token_hash)).scalar_one()
    assert values["staff_session"] not in stored and len(stored) == 64  # only its SHA-256


def test_a_session_ended_in_one_app_process_is_refused_by_another(database_url):
    """Two app instances on one database, as two gunicorn workers or two hosts would be."""
    first = build_app(database_url)
    second = build_app(database_url)
    try:
        with first.app_context():
            make_staff(SAM)
        browser = first.test_client()
        assert sign_in(browser, SAM).status_code == 303
        other = copy_of(browser, second)
        assert works(other)
        assert staff_post(browser, "/staff/sign-out").status_code == 303
        assert refused(other.get(EXPORT))
        assert refused(other.get("/staff/"))
    finally:
        dispose(second)
        dispose(first)
