"""The /staff blueprint. Every page sits behind the sign-in wall in `require_staff`, is
never cached, and its view modules register their routes on import (bottom of this file)."""

from __future__ import annotations

from flask import Blueprint, flash

from app.staff import auth

bp = Blueprint("staff", __name__, url_prefix="/staff")

bp.before_request(auth.require_staff)


@bp.record_once
def _install(state) -> None:
    auth.install(state.app)


@bp.after_request
def _no_store(response):
    # Staff pages carry patients' personal data: never kept by browsers or proxies.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def flash_error(message: str) -> None:
    flash(message, "error")


def flash_done(message: str) -> None:
    flash(message, "success")


from app.staff.views import (  # noqa: E402,F401  isort: skip
    accounts,
    audit_log,
    bookings,
    busy_calendars,
    calendar,
    courses,
    dashboard,
    export,
    feeds,
    hours,
    schedule_admin,
    sign_in,
    waitlist,
)
