"""Booking references: the pure format, one per booking from the service (retrying on a
collision), and shown on the API's booking object."""

from __future__ import annotations

import re

import pytest

from app.booking import reference, service
from app.models.booking import format_reference
from tests.conftest import make_booking, make_slot


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("K7Q4-92MP", "K7Q492MP"),
        ("k7q492mp", "K7Q492MP"),
        (" k7q4 92mp ", "K7Q492MP"),
        ("I0L1-OOOO", "1011" + "0000"),
        ("K7Q4-92M", None),
        ("K7Q4-92MU", None),
        ("", None),
        ("K7Q4-92MP-1", None),
    ],
)
def test_normalise_accepts_what_people_type(typed, stored):
    assert reference.normalise(typed) == stored


def test_new_references_are_crockford_and_shown_with_a_dash():
    made = {reference.new_reference() for _ in range(200)}
    assert len(made) == 200
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", r) for r in made)
    assert format_reference("K7Q492MP") == "K7Q4-92MP"


def test_booking_gets_a_reference_and_a_collision_is_retried(app, monkeypatch):
    with app.app_context():
        first = make_booking().booking
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", first.reference)
        assert first.reference != str(first.id)
        candidates = iter([first.reference, first.reference, "ABCD2345"])
        monkeypatch.setattr(service, "new_reference", lambda: next(candidates))
        second = make_booking(make_slot(), email="bo@example.com").booking
        assert second.reference == "ABCD2345"
        assert service.find_by_reference("abcd-2345").id == second.id


def test_api_booking_carries_the_reference(app, client):
    with app.app_context():
        result = make_booking()
        body = client.get(f"/api/v1/bookings/{result.manage_token}").get_json()
        assert body["booking"]["reference"] == result.booking.reference_display
        assert (
            "reference" in client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Booking"]["required"]
        )
