"""Staff console fixtures: a staff-account factory, a sign-in helper, signed-in clients."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

STAFF_PASSWORD = "correct horse battery staple"


class Clock:
    """A settable clock for the STAFF_CLOCK setting (app.staff.sessions): tests move
    staff-session time with it instead of sleeping."""

    def __init__(self) -> None:
        from app.models import utcnow

        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def make_staff(
    email: str = "sam@mindset-tms.example",
    role: str = "staff",
    password: str = STAFF_PASSWORD,
    name: str | None = None,
    active: bool = True,
):
    """A staff account (in its own committed transaction). Needs an app context."""
    from app.staff import accounts

    user = accounts.create_account(email, name or email.split("@")[0].title(), role, password)
    if not active:
        accounts.set_active(user.id, False)
    return user


def page_csrf(client, path: str = "/staff/sign-in") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if not client.application.config.get("WTF_CSRF_ENABLED", True):
        return match.group(1) if match else ""
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, email: str, password: str = STAFF_PASSWORD, address: str | None = None):
    """Sign in through the form, as a browser would. Returns the POST's response."""
    token = page_csrf(client)
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post(
        "/staff/sign-in", data={"email": email, "password": password, "csrf_token": token}, environ_base=environ
    )


def signed_in_client(app, email: str, role: str = "staff"):
    """A new test client on `app`, signed in to a new account with `role`."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app._get_current_object() is app:
        # Inside a test's own app context: use its session, so later reads see the account.
        make_staff(email, role)
    else:
        with app.app_context():
            make_staff(email, role)
    client = app.test_client()
    response = sign_in(client, email)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def staff_client(app):
    """A test client signed in with the `staff` role (sam@mindset-tms.example)."""
    return signed_in_client(app, "sam@mindset-tms.example", "staff")


@pytest.fixture
def admin_client(app):
    """A test client signed in with the `admin` role (alex@mindset-tms.example)."""
    return signed_in_client(app, "alex@mindset-tms.example", "admin")


def staff_post(client, url: str, data: dict | None = None, token_from: str = "/staff/", **kwargs):
    """POST a staff form with a CSRF token taken from a staff page, as the browser would."""
    payload = dict(data or {})
    payload["csrf_token"] = page_csrf(client, token_from)
    return client.post(url, data=payload, **kwargs)
