"""The staff console's busy-calendars page: everyone sees each calendar's last sync, busy
count and last error and may ask for a sync (the worker reads the calendars); only admins
add and remove; credentials are never shown again."""

from __future__ import annotations

import pytest

from app.busy import service as busy
from app.jobs.worker import Worker
from tests.busy_helpers import Route, google_feed, vevent
from tests.conftest import future_day, local_dt
from tests.fixtures_staff import staff_post


@pytest.fixture
def app_settings():
    return {"BUSY_ALLOW_PRIVATE_ADDRESSES": True, "BUSY_FETCH_TIMEOUT_SECONDS": 5}


def test_an_admin_adds_syncs_and_removes_a_calendar_and_never_sees_its_secrets_again(app, admin_client, feeds):
    day = future_day(4)
    feeds.routes["/secret-token-xyz.ics"] = Route(
        google_feed(vevent("a@google.com", local_dt(day, 9), local_dt(day, 10)))
    )
    added = staff_post(
        admin_client,
        "/staff/busy-calendars",
        {
            "label": "Dr Lee (Google)",
            "url": feeds.url + "/secret-token-xyz.ics",
            "kind": "ics",
            "username": "",
            "password": "pw-never-shown",
            "email": "",
        },
        token_from="/staff/busy-calendars",
    )
    assert added.status_code == 303
    queued = staff_post(
        admin_client, "/staff/busy-calendars/sync", token_from="/staff/busy-calendars", follow_redirects=True
    ).get_data(as_text=True)
    assert "Sync queued for 1 calendar" in queued and "<td>0</td>" in queued
    with app.app_context():
        Worker().sync_busy_calendars()
    page = admin_client.get("/staff/busy-calendars").get_data(as_text=True)
    assert "Dr Lee (Google)" in page and "<td>1</td>" in page
    assert "secret-token-xyz" not in page and "pw-never-shown" not in page
    feeds.routes["/secret-token-xyz.ics"] = Route(status=500)
    staff_post(admin_client, "/staff/busy-calendars/sync", token_from="/staff/busy-calendars")
    with app.app_context():
        Worker().sync_busy_calendars()
    failed = admin_client.get("/staff/busy-calendars").get_data(as_text=True)
    assert "the server answered HTTP 500" in failed and "<td>1</td>" in failed
    removed = staff_post(
        admin_client,
        "/staff/busy-calendars/remove",
        {"label": "Dr Lee (Google)"},
        token_from="/staff/busy-calendars",
        follow_redirects=True,
    )
    assert "No busy calendars yet." in removed.get_data(as_text=True)


def test_a_bad_address_is_shown_as_a_form_error(app, admin_client):
    response = staff_post(
        admin_client,
        "/staff/busy-calendars",
        {"label": "X", "url": "file:///etc/passwd", "kind": "ics"},
        token_from="/staff/busy-calendars",
    )
    assert response.status_code == 422
    assert "full http or https address" in response.get_data(as_text=True)


def test_staff_see_the_list_and_may_sync_but_not_add_or_remove(app, staff_client, feeds):
    with app.app_context():
        feeds.routes["/f.ics"] = Route(google_feed())
        busy.add_source(feeds.url + "/f.ics", "Dr Lee")
    page = staff_client.get("/staff/busy-calendars").get_data(as_text=True)
    assert "Dr Lee" in page and "Add a calendar" not in page and "Remove" not in page
    assert staff_post(staff_client, "/staff/busy-calendars/sync", token_from="/staff/busy-calendars").status_code == 303
    assert (
        staff_post(
            staff_client,
            "/staff/busy-calendars",
            {"label": "Y", "url": "http://x.example/"},
            token_from="/staff/busy-calendars",
        ).status_code
        == 403
    )
    assert (
        staff_post(
            staff_client, "/staff/busy-calendars/remove", {"label": "Dr Lee"}, token_from="/staff/busy-calendars"
        ).status_code
        == 403
    )
    with app.app_context():
        assert [s.label for s in busy.list_sources()] == ["Dr Lee"]
