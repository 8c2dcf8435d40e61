"""Staff sign-in plumbing: the sign-in wall every /staff page sits behind (a server-side
session per browser, see app.staff.sessions), idle expiry, the admin-only check, and
session cookies marked Secure over HTTPS."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, logout_user

from app.core.extensions import login_manager
from app.core.security import safe_return_path
from app.models.staff import StaffUser
from app.staff import sessions

login_manager.login_view = "staff.sign_in"
login_manager.login_message = "Please sign in to use the staff console."
login_manager.login_message_category = "info"
# Flask-Login's own session protection only marks a cookie "not fresh" (and writes that into
# it); the server-side session row is what protects a session here.
login_manager.session_protection = None

# Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = {"staff.sign_in"}
# The one sign-in value the session cookie carries: the session's random token.
SESSION_KEY = "staff_session"


@login_manager.request_loader
def load_staff_user(_request) -> StaffUser | None:
    """The account whose session this request's cookie names, while that session is still
    going (see sessions.resume: read from the database on every request). What was found is
    kept on `g` so the wall can say why a session ended."""
    resumed = sessions.resume(session.get(SESSION_KEY))
    g.staff_session = resumed
    if resumed.restamped:
        # Re-sign the cookie along with the server's stamp (once a minute): the cookie's
        # signature also expires after the idle time, so it must not fall behind.
        session.modified = True
    return resumed.user


def idle_seconds() -> int:
    return int(sessions.idle_time().total_seconds())


def _csrf_key() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def start_session(user: StaffUser) -> None:
    """Sign this browser in to a new server-side session. Any session it had ends, and the
    cookie starts afresh, so nothing planted before sign-in carries over."""
    token = sessions.begin(user)
    sessions.end(session.get(SESSION_KEY))
    session.clear()
    # The CSRF token cached for this request belonged to the old session.
    g.pop(_csrf_key(), None)
    session[SESSION_KEY] = token
    session.permanent = True
    g._login_user = user  # Flask-Login's per-request user, for the rest of this request


def _forget() -> None:
    """Drop the sign-in from this browser's cookie (the server's row is already ended)."""
    logout_user()
    session.clear()
    g.pop(_csrf_key(), None)


def end_session() -> None:
    """Sign-out: the server's session ends (a copy of the cookie no longer works anywhere),
    and the cookie is cleared."""
    sessions.end(session.get(SESSION_KEY))
    _forget()


def require_staff():
    """before_request for the /staff blueprint: a session that is still going on the server
    (not signed out, not idle too long, its account active)."""
    # The signed-in user and CSRF token are cached on `g`; start each request from the
    # session alone, even where one app context serves several requests (tests do that).
    g.pop("_login_user", None)
    g.pop("staff_session", None)
    g.pop(_csrf_key(), None)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        return None
    if SESSION_KEY in session:
        # Ended on the server (sign-out elsewhere, a password change, the account disabled)
        # or just now for idle time: this cookie is done with.
        _forget()
        resumed = g.get("staff_session")
        if resumed is not None and resumed.outcome == sessions.IDLE:
            flash(
                f"You were signed out after {idle_seconds() // 60} minutes without activity. Please sign in again.",
                "info",
            )
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("staff.sign_in", next=target) if target else url_for("staff.sign_in"))


def safe_next(target: str | None) -> str | None:
    """Only a path inside the staff console (app.core.security's rule for return
    addresses, then the console's own); never another site."""
    target = safe_return_path(target)
    if target is None:
        return None
    parts = urlsplit(target)
    if not parts.path.startswith("/staff/"):
        return None
    if parts.path.startswith("/staff/sign-in"):
        return None
    return target


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(403)
        return view(*args, **kwargs)

    wrapper.admin_only = True  # a mark on the view; the access tests read it
    return wrapper


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie marked Secure whenever the request
    came over HTTPS, even when SESSION_COOKIE_SECURE is off (it stays off for plain-HTTP
    development)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


def install(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = HttpsAwareSessionInterface()
