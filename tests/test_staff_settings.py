"""Admin pages: staff accounts (add, disable, role, new password) and calendar feeds
(create, shown once, revoke), each recorded in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.core.extensions import db
from app.models import CalendarFeed
from app.models.staff import AuditLog
from app.staff import accounts
from tests.fixtures_staff import sign_in, signed_in_client, staff_post

ADMIN = "alex@mindset-tms.example"


@pytest.fixture
def admin(app):
    return signed_in_client(app, ADMIN, "admin")


def actions(app) -> list[str]:
    with app.app_context():
        return db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()


def test_admin_adds_an_account_who_can_then_sign_in(app, admin):
    response = staff_post(
        admin,
        "/staff/accounts",
        {"name": "Sam Lee", "email": "Sam@Mindset-TMS.example", "role": "staff", "password": "a good long password"},
        token_from="/staff/accounts",
    )
    assert response.status_code == 303
    assert "Sam Lee" in admin.get("/staff/accounts").get_data(as_text=True)
    assert sign_in(app.test_client(), "sam@mindset-tms.example", "a good long password").status_code == 303
    weak = staff_post(
        admin,
        "/staff/accounts",
        {"name": "Kim", "email": "kim@mindset-tms.example", "role": "staff", "password": "short"},
        token_from="/staff/accounts",
    )
    assert weak.status_code == 422 and "at least 12 characters" in weak.get_data(as_text=True)
    assert "account.create" in actions(app)


def test_disable_role_and_password_changes(app, admin):
    with app.app_context():
        sam = accounts.create_account("sam@mindset-tms.example", "Sam Lee", "staff", "a good long password")
        sam_id = sam.id
    sam_client = app.test_client()
    assert sign_in(sam_client, "sam@mindset-tms.example", "a good long password").status_code == 303
    staff_post(admin, f"/staff/accounts/{sam_id}/role", {"role": "admin"}, token_from="/staff/accounts")
    assert sam_client.get("/staff/audit").status_code == 200  # now an admin
    staff_post(
        admin, f"/staff/accounts/{sam_id}/password", {"password": "reset by the admin"}, token_from="/staff/accounts"
    )
    assert sam_client.get("/staff/").status_code == 302  # signed out everywhere
    assert sign_in(sam_client, "sam@mindset-tms.example", "reset by the admin").status_code == 303
    staff_post(admin, f"/staff/accounts/{sam_id}/active", {"active": "0"}, token_from="/staff/accounts")
    assert sam_client.get("/staff/").status_code == 302
    assert sign_in(app.test_client(), "sam@mindset-tms.example", "reset by the admin").status_code == 401
    staff_post(admin, f"/staff/accounts/{sam_id}/active", {"active": "1"}, token_from="/staff/accounts")
    assert sign_in(app.test_client(), "sam@mindset-tms.example", "reset by the admin").status_code == 303
    changes = [a for a in actions(app) if a.startswith("account.") and a != "account.create"]
    assert changes == ["account.role", "account.password", "account.disable", "account.enable"]


def test_the_last_admin_cannot_be_disabled_or_demoted(app, admin):
    with app.app_context():
        me_id = accounts.find_by_email(ADMIN).id
        with pytest.raises(accounts.AccountError, match="only active admin"):
            accounts.set_role(me_id, "staff")
        with pytest.raises(accounts.AccountError, match="only active admin"):
            accounts.set_active(me_id, False)
    response = staff_post(admin, f"/staff/accounts/{me_id}/active", {"active": "0"}, token_from="/staff/accounts")
    assert "cannot disable your own account" in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_calendar_feed_is_shown_once_then_revoked(app, admin):
    page = staff_post(
        admin,
        "/staff/settings/calendar-feeds",
        {"label": "Front desk iPad"},
        token_from="/staff/settings/calendar-feeds",
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    match = re.search(r"(http://localhost/calendar/([A-Za-z0-9_-]+)\.ics)", html)
    assert match and "shown only once" in html
    token = match.group(2)
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 200
    listing = admin.get("/staff/settings/calendar-feeds").get_data(as_text=True)
    assert "Front desk iPad" in listing and token not in listing
    with app.app_context():
        feed_id = db.session.execute(select(CalendarFeed.id)).scalar_one()
    revoked = staff_post(
        admin, f"/staff/settings/calendar-feeds/{feed_id}/revoke", token_from="/staff/settings/calendar-feeds"
    )
    assert revoked.status_code == 303
    assert app.test_client().get(f"/calendar/{token}.ics").status_code == 404
    assert actions(app).count("feed.create") == 1 and actions(app).count("feed.revoke") == 1
