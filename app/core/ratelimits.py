"""Named rate limits for the views, read from settings at request time.

The booking limit and the token-lookup limit are shared limits: every route that carries
one counts against one budget per client address, so a client cannot double its bookings by
alternating the HTML form and the API, nor multiply its guesses at manage tokens by spreading
them over the routes that take a token."""

from __future__ import annotations

from flask import current_app

from app.core.extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


booking_limit = limiter.shared_limit(_setting("RATELIMIT_BOOKING"), scope="booking", methods=["POST"])
manage_limit = limiter.limit(_setting("RATELIMIT_MANAGE"), methods=["POST", "PATCH"])
token_lookup_limit = limiter.shared_limit(_setting("RATELIMIT_TOKEN_LOOKUP"), scope="token-lookup")
api_read_limit = limiter.limit(_setting("RATELIMIT_API_READ"))
