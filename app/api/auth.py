"""Staff routes of the API: `Authorization: Bearer <token>` with a personal API token
(app.staff.api_tokens). No token or an unknown one is 401 (with WWW-Authenticate: Bearer),
a revoked one or a disabled account's is 403; the account is `g.api_user` in the view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from app.models.staff import StaffUser
from app.staff import api_tokens


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def staff_token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        g.api_user = api_tokens.authenticate(bearer_token())
        return view(*args, **kwargs)

    checked.requires_staff_token = True  # type: ignore[attr-defined]
    return checked


def api_user() -> StaffUser:
    return g.api_user
