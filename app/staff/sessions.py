"""Server-side staff sessions (StaffSession rows): begin one at sign-in, resume it on every
/staff request, end it at sign-out, and end all of an account's sessions when its password
changes or it is disabled. The browser's cookie holds only the random token; the database
holds its SHA-256, so every worker and host sees a session end at once.

The clock is `STAFF_CLOCK` from the app's settings when set (a callable returning an aware
UTC datetime: tests move time with it), else the real one."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, bindparam, delete, select, update
from sqlalchemy.orm import Session

from app.core.database import write_transaction
from app.core.extensions import db
from app.models import utcnow
from app.models.staff import StaffSession, StaffUser

# The server's last-seen stamp is written at most this often, not on every page: a session
# then ends up to a minute sooner than the idle time, never later.
RESTAMP_SECONDS = 60
# Rows of sessions not seen for this long are deleted when a new session begins.
KEEP_ENDED = timedelta(days=1)

ACTIVE = "active"
IDLE = "idle"  # ended now for want of activity
ENDED = "ended"  # signed out, password changed, account disabled, or unknown token


@dataclass(frozen=True)
class Resumed:
    outcome: str
    user: StaffUser | None = None
    restamped: bool = False


def now() -> datetime:
    clock = current_app.config.get("STAFF_CLOCK")
    return clock() if clock else utcnow()


def idle_time() -> timedelta:
    return current_app.permanent_session_lifetime


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(user: StaffUser) -> str:
    """A new session for this account; returns the token for the cookie (256 random bits)."""
    token = secrets.token_urlsafe(32)
    at = now()
    with write_transaction() as session:
        session.add(StaffSession(token_hash=_hash(token), staff_user_id=user.id, created_at=at, last_seen_at=at))
        session.execute(delete(StaffSession).where(StaffSession.last_seen_at < at - KEEP_ENDED))
    return token


# Built once: every signed-in request runs it; only the token's hash differs. The session's
# own columns as a row (only the account is needed as an object, for current_user).
_SESSION_BY_TOKEN = (
    select(StaffSession.id, StaffSession.ended_at, StaffSession.last_seen_at, StaffUser)
    .join(StaffUser, StaffSession.staff_user_id == StaffUser.id)
    .where(StaffSession.token_hash == bindparam("token_hash"))
)


def resume(token: str | None) -> Resumed:
    """The session this token names, if it is still going: not ended, its account active,
    and seen within the idle time (by the server's stamp, never the cookie's). A session
    found idle is ended here. The stamp moves on once a minute (`restamped` then)."""
    if not token or not isinstance(token, str):
        return Resumed(ENDED)
    row = db.session.execute(_SESSION_BY_TOKEN, {"token_hash": _hash(token)}).one_or_none()
    if row is None:
        return Resumed(ENDED)
    session_id, ended_at, last_seen_at, user = row
    if ended_at is not None or not user.is_active:
        return Resumed(ENDED)
    at = now()
    if at - last_seen_at > idle_time():
        _end_one(session_id, at)
        return Resumed(IDLE)
    if (at - last_seen_at).total_seconds() < RESTAMP_SECONDS:
        return Resumed(ACTIVE, user)
    with write_transaction() as session:
        # Only while it is still going: a sign-out in between must not be undone.
        moved = cast(
            CursorResult,
            session.execute(
                update(StaffSession)
                .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
                .values(last_seen_at=at)
            ),
        ).rowcount
    if not moved:
        return Resumed(ENDED)
    return Resumed(ACTIVE, user, restamped=True)


def end(token: str | None) -> None:
    """Sign-out: this browser's session ends (nothing happens for an unknown token)."""
    if not token or not isinstance(token, str):
        return
    with write_transaction() as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _hash(token), StaffSession.ended_at.is_(None))
            .values(ended_at=now())
        )


def _end_one(session_id: int, at: datetime) -> None:
    with write_transaction() as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.id == session_id, StaffSession.ended_at.is_(None))
            .values(ended_at=at)
        )


def end_all(session: Session, user_id: int) -> None:
    """Every session of this account ends, inside the caller's write transaction (a password
    change or the account being disabled signs it out everywhere)."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now())
    )
