"""The JSON API: slots, booking, taken-slot answers, validation, manage by token."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import Booking
from tests.conftest import DENVER, make_booking, make_slot

BODY = {
    "mode": "phone",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "970-555-0123",
    "interest": "not_sure",
    "consent": True,
}


def test_slots_lists_free_slots_with_offsets(ctx, client):
    slot = make_slot()
    booked = make_slot()
    make_booking(booked)
    day = slot.starts_at.astimezone(DENVER).date()
    response = client.get(f"/api/v1/slots?start={day}&end={day}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["timezone"] == "America/Denver"
    ids = [s["id"] for s in body["slots"]]
    assert slot.public_id in ids and booked.public_id not in ids
    first = next(s for s in body["slots"] if s["id"] == slot.public_id)
    start = datetime.fromisoformat(first["start"])
    assert start.utcoffset() is not None and start == slot.starts_at
    assert set(first["modes"]) == {"in_person", "phone", "video"}


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-13-01",
        "start=tomorrow",
        "start=2026-12-10&end=2026-12-01",
        "start=2026-12-01&end=2027-12-01",
        "end=20261201",
    ],
)
def test_bad_slot_ranges_are_400_json(ctx, client, query):
    response = client.get(f"/api/v1/slots?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_booking_lifecycle(ctx, client):
    slot = make_slot()
    other = make_slot()
    response = client.post("/api/v1/bookings", json={**BODY, "slot_id": slot.public_id, "note": "hi"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    token = body["manage_token"]
    assert body["booking"]["status"] == "confirmed" and body["booking"]["phone"] == "+19705550123"
    assert body["manage_url"].endswith(f"/manage/{token}")
    assert "slot_id" not in body["booking"] and not str(body["booking"]["id"]).isdigit()

    assert client.get(f"/api/v1/bookings/{token}").get_json()["booking"]["id"] == body["booking"]["id"]
    moved = client.post(f"/api/v1/bookings/{token}/reschedule", json={"slot_id": other.public_id})
    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.get_json()["booking"]["start"]) == other.starts_at
    cancelled = client.post(f"/api/v1/bookings/{token}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["booking"]["status"] == "cancelled"
    again = client.post(f"/api/v1/bookings/{token}/cancel")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "booking_closed"


def test_taken_slot_is_409_with_alternatives(ctx, client):
    slot = make_slot()
    alternative = make_slot()
    make_booking(slot)
    response = client.post("/api/v1/bookings", json={**BODY, "slot_id": slot.public_id})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "slot_taken"
    assert [a["id"] for a in error["alternatives"]] == [alternative.public_id]


def test_reschedule_into_taken_slot_is_409_and_keeps_booking(ctx, client):
    mine = make_booking(email="me@example.com")
    theirs = make_booking(email="them@example.com")
    response = client.post(
        f"/api/v1/bookings/{mine.manage_token}/reschedule", json={"slot_id": theirs.booking.slot.public_id}
    )
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "slot_taken"
    current = client.get(f"/api/v1/bookings/{mine.manage_token}").get_json()["booking"]
    assert datetime.fromisoformat(current["start"]) == mine.booking.slot.starts_at


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"phone": "123"}, "phone"),
        ({"consent": False}, "consent"),
        ({"name": "A\r\nB"}, "name"),
        ({"interest": "surgery"}, "interest"),
        ({"mode": 5}, "mode"),
        ({"name": None}, "name"),
        ({"consent": "yes"}, "consent"),
        ({"slot_id": None}, "slot_id"),
    ],
)
def test_invalid_fields_are_422_per_field(ctx, client, change, field):
    slot = make_slot()
    body = {**BODY, "slot_id": slot.public_id, **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 0


def test_every_field_to_fix_is_reported_at_once(ctx, client):
    slot = make_slot()
    body = {**BODY, "slot_id": slot.public_id, "email": "ada@", "phone": "12", "mode": "pigeon", "note": "x" * 1001}
    del body["interest"], body["consent"]
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"email", "phone", "mode", "note", "interest", "consent"}
    assert "choose what you would like to talk about" in fields["interest"]
    assert "in_person, phone, video" in fields["mode"]
    assert "1000 characters or fewer" in fields["note"]
    assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 0


def test_booking_stores_the_cleaned_values(ctx, client):
    slot = make_slot()
    body = {
        **BODY,
        "slot_id": slot.public_id,
        "name": "  Ada   Lovelace ",
        "email": "Ada@Example.COM",
        "phone": "(970) 555-0123",
        "note": "  Evenings\r\nare best  ",
    }
    response = client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201
    booking = response.get_json()["booking"]
    assert booking["phone"] == "+19705550123"
    assert booking["email"] == "Ada@example.com"  # the domain is normalised, the local part kept
    assert booking["note"] == "Evenings\nare best"
    assert booking["name"].startswith("Ada") and booking["name"] == booking["name"].strip()


def test_only_json_bodies_are_accepted(ctx, client):
    slot = make_slot()
    form = client.post("/api/v1/bookings", data={**BODY, "slot_id": slot.public_id, "consent": "y"})
    assert form.status_code == 415
    not_object = client.post("/api/v1/bookings", json=[1, 2])
    assert not_object.status_code == 400
    broken = client.post("/api/v1/bookings", data="{", content_type="application/json")
    assert broken.status_code == 400


def test_unknown_token_is_404(ctx, client):
    assert client.get("/api/v1/bookings/" + "x" * 32).status_code == 404
    assert client.post("/api/v1/bookings/" + "x" * 32 + "/cancel").status_code == 404


def test_openapi_document_describes_every_route(ctx, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/slots",
        "/bookings",
        "/bookings/{token}",
        "/bookings/{token}/cancel",
        "/bookings/{token}/reschedule",
        "/waitlist",
        "/waitlist/{token}",
        "/waitlist/{token}/leave",
        "/offers/{token}/claim",
        "/offers/{token}/decline",
        "/course-templates",
        "/courses",
        "/courses/{course_id}",
        "/courses/{course_id}/sessions/{number}",
        "/courses/{course_id}/sessions/{number}/attendance",
    }
    api_rules = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule), method)
        for r in ctx.url_map.iter_rules()
        if r.rule.startswith("/api/v1/")
        for method in r.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        ("/api/v1" + path, method.upper()) for path, methods in spec["paths"].items() for method in methods
    } | {("/api/v1/openapi.json", "GET")}
    assert api_rules == documented


def test_booking_window_applies_to_api(ctx, client):
    soon = make_slot(datetime.now(DENVER) + timedelta(hours=2))
    response = client.post("/api/v1/bookings", json={**BODY, "slot_id": soon.public_id})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "slot_unavailable"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("TRACE", "/api/v1/slots"),
        ("PUT", "/api/v1/bookings"),
        ("DELETE", "/api/v1/bookings/" + "x" * 32),
        ("GET", "/api/v1/offers/" + "x" * 32 + "/claim"),
        ("DELETE", "/api/v1/waitlist/" + "x" * 32),
    ],
)
def test_an_undeclared_method_is_405_with_allow(ctx, client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert method not in allowed and "OPTIONS" in allowed
    assert client.options(path).status_code == 200


@pytest.mark.parametrize("query", ["start=", "end=", "start=2026-W50-1", "start=%EF%BC%92026-12-01"])
def test_an_empty_or_other_iso_date_in_slots_is_400(ctx, client, query):
    response = client.get(f"/api/v1/slots?{query}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_slot_lists_say_the_days_they_cover(ctx, client):
    body = client.get("/api/v1/slots?start=2026-12-01&end=2026-12-03").get_json()
    assert (body["start"], body["end"]) == ("2026-12-01", "2026-12-03")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "A" * 100 + " "}, "name"),  # the document counts what was sent, before trimming
        ({"note": "Evenings\rare best"}, "note"),
        ({"phone": "1-800-FLOWERS"}, "phone"),
        ({"locale": None}, "locale"),
        ({"slot_id": ""}, "slot_id"),
    ],
)
def test_the_api_refuses_what_its_document_calls_invalid(ctx, client, change, field):
    response = client.post("/api/v1/bookings", json={**BODY, "slot_id": make_slot().public_id, **change})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == {field}
    assert db.session.execute(select(func.count(Booking.id))).scalar_one() == 0


def test_an_unknown_slot_is_422_slot_not_found(ctx, client):
    made = client.post("/api/v1/bookings", json={**BODY, "slot_id": "no-such-slot"})
    assert made.status_code == 422 and made.get_json()["error"]["code"] == "slot_not_found"
    mine = make_booking()
    moved = client.post(f"/api/v1/bookings/{mine.manage_token}/reschedule", json={"slot_id": "no-such-slot"})
    assert moved.status_code == 422 and moved.get_json()["error"]["code"] == "slot_not_found"


def test_a_reschedule_body_is_checked_before_the_booking_state(ctx, client):
    mine = make_booking()
    client.post(f"/api/v1/bookings/{mine.manage_token}/cancel")
    response = client.post(f"/api/v1/bookings/{mine.manage_token}/reschedule", json={"slot_id": 5})
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"slot_id"}
