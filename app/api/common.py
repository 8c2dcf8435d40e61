"""What every /api/v1 route shares: the one JSON error body, the one handler that turns a
service's refusal (a DomainError) into it, reading a JSON body, and writing times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import abort, jsonify, request

from app.api.auth import bearer_token
from app.api.schema import body_errors
from app.core.errors import DomainError
from app.core.timefmt import to_local

E = TypeVar("E", bound=DomainError)

# What an error adds to its body beyond code and message (a taken slot's alternatives, a
# clash's proposals), by error class; each route module registers its own with `error_extra`.
_EXTRAS: dict[type[DomainError], Callable[[Any], dict[str, Any]]] = {}


def iso(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """An instant as ISO 8601 with the clinic's UTC offset."""
    return to_local(instant, zone).isoformat()


def api_error(status: int, code: str, message: str, **extra):
    response = jsonify(error={"code": code, "message": message, **extra})
    response.status_code = status
    return response


def invalid_fields(fields: dict[str, str]):
    return api_error(422, "invalid", "Some fields need attention.", fields=fields)


def error_extra(error_type: type[E]) -> Callable[[Callable[[E], dict[str, Any]]], Callable[[E], dict[str, Any]]]:
    """Register what errors of `error_type` (and its subclasses) add to the error body."""

    def register(render: Callable[[E], dict[str, Any]]) -> Callable[[E], dict[str, Any]]:
        _EXTRAS[error_type] = render
        return render

    return register


def domain_error(error: DomainError):
    """Every refusal of a service, as the API's error body and status: the views never catch
    a DomainError themselves."""
    extra: dict[str, Any] = {}
    for error_type, render in _EXTRAS.items():
        if isinstance(error, error_type):
            extra.update(render(error))
    if error.fields:
        response = api_error(error.http_status, error.code, "Some fields need attention.", fields=error.fields, **extra)
    else:
        response = api_error(error.http_status, error.code, error.message, **extra)
    if error.http_status == 401:
        # RFC 6750: say how to authenticate; "invalid_token" when one was sent.
        sent = bearer_token() is not None
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"' + (', error="invalid_token"' if sent else "")
    return response


def json_body() -> dict:
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(api_error(400, "bad_request", "The body must be a JSON object."))
    return body


def checked_body(schema_name: str) -> dict:
    """The JSON body, refused (422, by field) when it breaks the document's schema for it."""
    body = json_body()
    errors = body_errors(schema_name, body)
    if errors:
        abort(invalid_fields(errors))
    return body


def no_body_or_json() -> None:
    """Operations without a body take none, or a JSON one they ignore."""
    if request.content_length and not request.is_json:
        abort(415)
