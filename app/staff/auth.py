"""Staff sign-in plumbing: the Flask-Login user loader, the sign-in wall every /staff page
sits behind, idle expiry, the admin-only check, and session cookies marked Secure over HTTPS."""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Flask,
    Request,
    Response,
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
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import current_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.core.extensions import db, login_manager
from app.models.staff import StaffUser

login_manager.login_view = "staff.sign_in"
login_manager.login_message = "Please sign in to use the staff console."
login_manager.login_message_category = "info"

# Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = {"staff.sign_in"}
SEEN_KEY = "staff_seen_at"
SEEN_RESTAMP_SECONDS = 60
# Session values that no request can change in place (a cached session may share them).
_IMMUTABLE = (str, int, bool, float, type(None))


@login_manager.user_loader
def load_staff_user(user_id: str) -> StaffUser | None:
    """The account for a session, only while it is active and the session is current
    (a password change or disabling bumps `session_version`). Read fresh on every request,
    so disabling an account or changing its password ends its sessions at once."""
    raw_id, _, version = (user_id or "").partition(":")
    if not raw_id.isdigit() or not version.isdigit():
        return None
    user = _account(int(raw_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def _account(user_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, user_id)


def idle_seconds() -> int:
    lifetime = current_app.permanent_session_lifetime
    return int(lifetime.total_seconds())


def start_session(user: StaffUser) -> None:
    from flask_login import login_user

    # A fresh session on sign-in, so nothing planted before it carries over.
    session.clear()
    # The CSRF token cached for this request belonged to the old session.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    login_user(user, remember=False)
    session.permanent = True
    session[SEEN_KEY] = int(time.time())


def end_session() -> None:
    logout_user()
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def require_staff():
    """before_request for the /staff blueprint: signed in, active, not idle too long."""
    # The signed-in user and CSRF token are cached on `g`; start each request from the
    # session alone, even where one app context serves several requests (tests do that).
    g.pop("_login_user", None)
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user.is_authenticated:
        seen = session.get(SEEN_KEY)
        now = int(time.time())
        if isinstance(seen, int) and now - seen <= idle_seconds():
            # Re-stamped at most once a minute: a page view then answers without re-signing
            # the session cookie, and a session still ends after the idle time (up to a
            # minute sooner, never later).
            if now - seen >= SEEN_RESTAMP_SECONDS:
                session[SEEN_KEY] = now
            return None
        end_session()
        flash(f"You were signed out after {idle_seconds() // 60} minutes without activity. "
              "Please sign in again.", "info")
    elif session.get("_user_id"):
        # The account was disabled or its password changed since this session began.
        end_session()
    target = request.full_path if request.method == "GET" else None
    return redirect(url_for("staff.sign_in", next=target) if target else url_for("staff.sign_in"))


def safe_next(target: str | None) -> str | None:
    """Only a path inside the staff console; never another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/") or "\\" in target:
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

    wrapper.admin_only = True  # type: ignore[attr-defined]  (the access tests read it)
    return wrapper


class StaffSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie marked Secure whenever the request
    came over HTTPS, even when SESSION_COOKIE_SECURE is off (it stays off for plain-HTTP
    development).

    Costs every request paid for nothing are gone: the signing serializer is made once per
    set of keys rather than on every request (Flask builds a new one each time, even for a
    request without a cookie); a session that was never filled saves nothing without first
    working out every cookie setting; and a cookie already verified by this process is not
    verified and decoded again. A signed-in browser sends the same cookie until the session
    changes, and checking its signature, inflating and parsing it was about a fifth of a
    cached staff page. The remembered cookies are kept per serializer (a key rotation starts
    afresh), still expire by their signed time, and are only those whose values are all
    immutable (a session holding flashed messages is decoded every time)."""

    VERIFIED_COOKIES_KEPT = 256

    def __init__(self) -> None:
        self._serializer: tuple[tuple, URLSafeTimedSerializer] | None = None
        # cookie -> (the serializer that verified it, its values, when it was signed)
        self._verified: dict[str, tuple[URLSafeTimedSerializer, dict, int]] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._serializer
        if cached is None or cached[0] != keys:
            serializer = super().get_signing_serializer(app)
            assert serializer is not None
            cached = self._serializer = (keys, serializer)
        return cached[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get(cookie)
        if known is not None and known[0] is serializer:
            age = int(time.time()) - known[2]
            if 0 <= age <= max_age:
                return self.session_class(known[1])
            self._verified.pop(cookie, None)  # (another thread may have dropped it already)
            return self.session_class()
        try:
            values, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(values, dict) and all(type(v) in _IMMUTABLE for v in values.values()):
            if len(self._verified) >= self.VERIFIED_COOKIES_KEPT:
                self._verified.clear()
            self._verified[cookie] = (serializer, values, int(signed_at.timestamp()))
        return self.session_class(values)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified:
            # Nothing to set and nothing to delete: what Flask does, minus the settings.
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


def install(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = StaffSessionInterface()
