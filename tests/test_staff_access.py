"""Every /staff route, walked signed out and as a disabled account: a redirect to sign-in
(or 401/403), never data, and nothing changed. The staff role cannot reach admin pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.courses import service as courses
from app.models import AvailabilityRule, Booking, CalendarFeed, DateOverride, Slot
from app.models.staff import ApiToken, AuditLog, StaffUser
from app.staff import api_tokens
from tests.conftest import make_booking, make_slot
from tests.course_helpers import next_monday, template_id
from tests.fixtures_staff import make_staff, signed_in_client

PATIENT_NAME = "Ada Lovelace"
PATIENT_EMAIL = "ada@example.com"
ADMIN_ENDPOINTS = {
    "staff.audit_log",
    "staff.accounts",
    "staff.account_active",
    "staff.account_role",
    "staff.account_password",
    "staff.calendar_feeds",
    "staff.revoke_calendar_feed",
    "staff.erase_patient",
    "staff.add_busy_calendar",
    "staff.remove_busy_calendar",
    "staff.schedule_admin",
    "staff.edit_chair",
    "staff.edit_appointment_type",
    "staff.edit_course_template",
    "staff.new_chair",
    "staff.new_appointment_type",
    "staff.new_course_template",
}


@pytest.fixture
def app_settings():
    # Without CSRF the sign-in wall is the only thing between a request and the view.
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture
def world(app):
    """One of everything a staff URL can point at, with real ids."""
    from datetime import time

    from app.core.database import write_transaction

    with app.app_context():
        admin = make_staff("alex@mindset-tms.example", "admin")
        booking = make_booking(make_slot(), name=PATIENT_NAME, email=PATIENT_EMAIL).booking
        free = make_slot()
        with write_transaction() as session:
            rule = AvailabilityRule(weekday=0, start_time=time(9), end_time=time(10))
            override = DateOverride(on_date=free.starts_at.date(), kind="closed")
            feed = CalendarFeed(token_hash="0" * 64, label="Front desk")
            session.add_all([rule, override, feed])
        course = courses.plan_course(
            courses.PatientDetails(PATIENT_NAME, PATIENT_EMAIL),
            courses.PlanRequest(template_id("maintenance_6"), next_monday(), time(9)),
        )
        token = api_tokens.create(admin.id).record
        return {
            "public_id": booking.public_id,
            "slot_id": free.public_id,
            "rule_id": rule.id,
            "override_id": override.id,
            "user_id": admin.id,
            "feed_id": feed.id,
            "course_id": course.public_id,
            "number": 1,
            "item_id": 1,
            "token_id": token.id,
        }


def staff_routes(app):
    """(endpoint, rule) for every /staff rule except the sign-in page itself."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint in ("staff.sign_in", "static"):
            continue
        routes.append((rule.endpoint, rule))
    assert len(routes) >= 20, "the staff blueprint seems not to be registered"
    return routes


def url_for_rule(rule, values: dict) -> str:
    missing = rule.arguments - values.keys()
    assert not missing, f"{rule.rule}: add a value for {missing} to the `world` fixture"
    return rule.build({k: values[k] for k in rule.arguments})[1]


def snapshot(app) -> dict:
    with app.app_context():
        count = lambda model: db.session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
        booking = db.session.execute(select(Booking)).scalar_one()
        return {
            "slots": count(Slot),
            "rules": count(AvailabilityRule),
            "overrides": count(DateOverride),
            "audit": count(AuditLog),
            "staff": count(StaffUser),
            "feeds_active": db.session.execute(
                select(func.count()).where(CalendarFeed.revoked_at.is_(None))
            ).scalar_one(),
            "tokens_active": db.session.execute(select(func.count()).where(ApiToken.revoked_at.is_(None))).scalar_one(),
            "booking": (booking.status, booking.name, booking.staff_notes, booking.attendance),
        }


def assert_refused(response, where: str) -> None:
    body = response.get_data(as_text=True)
    assert PATIENT_NAME not in body and PATIENT_EMAIL not in body, f"{where} leaked patient data"
    if response.status_code in (301, 302, 303, 307, 308):
        assert "/staff/sign-in" in response.headers["Location"], where
    else:
        assert response.status_code in (401, 403), f"{where} answered {response.status_code}"


def sweep(app, client, values) -> int:
    checked = 0
    for endpoint, rule in staff_routes(app):
        url = url_for_rule(rule, values)
        for method in sorted(rule.methods & {"GET", "POST"}):
            form = {
                "slot": values["slot_id"],
                "action": "delete_confirmed",
                "message": "x",
                "note": "x",
                "attendance": "no_show",
                "active": "0",
                "role": "staff",
                "password": "p" * 20,
                "label": "x",
                "first": "2030-01-01",
                "weekdays": "0",
                "start": "09:00",
                "end": "10:00",
            }
            response = client.open(url, method=method, data=form if method == "POST" else None)
            assert_refused(response, f"{method} {url} ({endpoint})")
            checked += 1
    return checked


def test_every_staff_route_signed_out_redirects_to_sign_in(app, world):
    before = snapshot(app)
    checked = sweep(app, app.test_client(), world)
    assert checked >= 30
    assert snapshot(app) == before


def test_signed_out_redirect_remembers_the_page_but_only_inside_staff(app, world):
    client = app.test_client()
    response = client.get("/staff/bookings?q=ada")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/sign-in?next=")
    page = client.get("/staff/sign-in?next=https://evil.example/").get_data(as_text=True)
    assert "evil.example" not in page


def test_every_staff_route_refuses_a_disabled_account(app, world):
    from app.staff import accounts

    client = signed_in_client(app, "dana@mindset-tms.example", "admin")
    assert client.get("/staff/bookings").status_code == 200
    with app.app_context():
        accounts.set_active(accounts.find_by_email("dana@mindset-tms.example").id, False)
    before = snapshot(app)
    sweep(app, client, world)
    assert snapshot(app) == before


def test_staff_role_gets_403_on_every_admin_page(app, world):
    marked = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "admin_only", False)}
    assert marked == ADMIN_ENDPOINTS
    client = signed_in_client(app, "sam@mindset-tms.example", "staff")
    before = snapshot(app)
    for endpoint, rule in staff_routes(app):
        if endpoint not in ADMIN_ENDPOINTS:
            continue
        url = url_for_rule(rule, world)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(url, method=method, data={"active": "0", "role": "staff"})
            assert response.status_code == 403, f"{method} {url}"
    assert snapshot(app)["staff"] == before["staff"]
    assert snapshot(app)["booking"] == before["booking"]


def test_admin_can_open_every_staff_page(app, world):
    """Signed in, every GET answers without a server error, and never gets cached."""
    client = signed_in_client(app, "dana@mindset-tms.example", "admin")
    for _endpoint, rule in staff_routes(app):
        if "GET" not in rule.methods:
            continue
        response = client.get(url_for_rule(rule, world))
        assert response.status_code in (200, 302, 303), f"{rule.rule}: {response.status_code}"
        assert response.headers["Cache-Control"] == "no-store", rule.rule
