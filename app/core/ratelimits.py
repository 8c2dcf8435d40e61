"""Named rate limits for the views, read from settings at request time."""

from __future__ import annotations

from flask import current_app

from app.core.extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


booking_limit = limiter.limit(_setting("RATELIMIT_BOOKING"), methods=["POST"])
manage_limit = limiter.limit(_setting("RATELIMIT_MANAGE"), methods=["POST"])
token_lookup_limit = limiter.limit(_setting("RATELIMIT_TOKEN_LOOKUP"))
api_read_limit = limiter.limit(_setting("RATELIMIT_API_READ"))
