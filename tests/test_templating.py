"""Template helpers that stand in for a call per item: they must give what that call gives."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest
from flask import url_for

from app.core.templating import url_around
from app.models.base import new_public_id

DAYS = [(date(2026, 12, 25) + timedelta(days=n)).isoformat() for n in range(70)]


@pytest.mark.parametrize("script_root", ["", "/es"])
@pytest.mark.parametrize(
    ("endpoint", "blank", "values", "fills"),
    [
        ("booking.choose_slot", "day", {"mode": None}, DAYS),
        ("booking.choose_slot", "day", {"mode": "phone"}, DAYS),
        ("booking.details", "slot_id", {"mode": None}, [new_public_id() for _ in range(200)]),
        ("booking.details", "slot_id", {"mode": "video"}, [new_public_id() for _ in range(200)]),
        ("manage.choose_new_slot", "day", {"token": secrets.token_urlsafe(32), "mode": "in_person"}, DAYS),
        (
            "manage.confirm_new_slot",
            "slot_id",
            {"token": secrets.token_urlsafe(32), "mode": "phone"},
            [new_public_id() for _ in range(200)],
        ),
    ],
)
def test_url_around_gives_url_for_for_every_day_and_slot_id(app, script_root, endpoint, blank, values, fills):
    with app.test_request_context("/", environ_base={"SCRIPT_NAME": script_root}):
        head, tail = url_around(endpoint, blank, **values)
        for value in fills:
            assert head + value + tail == url_for(endpoint, **{blank: value}, **values)
