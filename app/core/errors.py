"""Error pages and JSON errors. Database outages become a retryable 503, never a 500 trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.core.database import is_unavailable
from app.core.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Something in that request was not right"), _l("Please go back and try again.")),
    403: (_l("Not allowed"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("We could not find that page. It may have moved, or the link may be incomplete.")),
    405: (_l("Not allowed"), _l("That action is not available here.")),
    413: (_l("Too much data"), _l("That request was larger than we accept.")),
    415: (_l("Unsupported format"), _l("Please send JSON with the Content-Type application/json.")),
    429: (_l("Please slow down"), _l("You have tried this a lot in a short time. Please wait a minute and try again.")),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you did caused this. Please try again in a moment, or call the clinic."),
    ),
    503: (
        _l("We are briefly unavailable"),
        _l("We could not reach our booking calendar just now. Nothing was changed. Please try again in a minute."),
    ),
}


class DomainError(Exception):
    """A change a service refuses: `code` is stable (the API's error code), `http_status` is
    the API's answer, the message is for people; `field` names the field at fault, if one is."""

    code = "error"
    http_status = 409

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def fields(self) -> dict[str, str]:
        """What to fix, by field (empty when the error is not about a field)."""
        return {self.field: self.message} if self.field else {}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith(".json")


def error_response(status: int, code: str | None = None, message: str | None = None, retry_after: int | None = None):
    title, detail = MESSAGES.get(status, MESSAGES[500])
    message = str(message or detail)
    if wants_json():
        response = jsonify(error={"code": code or str(title).lower().replace(" ", "_"), "message": message})
    else:
        response = make_response(render_template("errors/error.html", status=status, title=title, message=message))
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        status = error.code or 500
        code = {
            400: "bad_request",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_much_data",
            415: "unsupported_media_type",
            429: "rate_limited",
        }.get(status)
        message = None
        if status == 429:
            message = MESSAGES[429][1]
        response = error_response(status, code, message, retry_after=60 if status == 429 else None)
        # Headers the error carries (Allow on a 405, WWW-Authenticate on a 401) stay on the answer.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return error_response(
            400,
            "csrf",
            _l(
                "This form expired or was sent from somewhere else. "
                "Please go back, reload the page and try again; what "
                "you typed may need re-entering."
            ),
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection itself may be gone
            log.warning("rollback failed after error", exc_info=True)
        if is_unavailable(error):
            log.warning("database unavailable: %s", type(error).__name__)
            return error_response(503, "unavailable", retry_after=5)
        log.exception("unhandled error")
        return error_response(500, "server_error")
