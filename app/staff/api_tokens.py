"""Personal API tokens: a staff member's key to the staff routes of /api/v1 (sent as
`Authorization: Bearer <token>`). The token is shown once, when it is made; the database
keeps only its SHA-256 and its first characters (to tell tokens apart in lists). A token
stops working when it is revoked; disabling an account revokes its tokens (and a disabled
account's token is refused in any case)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.core import audit
from app.core.database import write_transaction
from app.core.errors import DomainError
from app.core.extensions import db
from app.models import utcnow
from app.models.staff import ApiToken, StaffUser

# Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
MARK = "mtms_"
# What lists show: the mark and the first random characters (42 of the 256 random bits).
PREFIX_LENGTH = len(MARK) + 7
# The last-used stamp is written at most this often, not on every request.
RESTAMP = timedelta(minutes=1)


class TokenError(DomainError):
    """A token change or use that is refused; the message is for people."""

    code = "token_error"
    http_status = 422


class TokenNotFound(TokenError):
    code = "not_found"
    http_status = 404


class TokenUnknown(TokenError):
    """No token was sent, or none is kept with that value: the caller is not identified."""

    code = "unauthorized"
    http_status = 401


class TokenRevoked(TokenError):
    """The token was revoked, or its account is disabled: known, but no longer allowed."""

    code = "forbidden"
    http_status = 403


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once, never stored
    record: ApiToken


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(user_id: int, actor: StaffUser | None = None) -> NewToken:
    """A new token for an active account (256 random bits)."""
    token = MARK + secrets.token_urlsafe(32)
    with write_transaction() as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            raise TokenError("That account does not exist.")
        if not user.is_active:
            raise TokenError(f"{user.email} is disabled; enable the account before giving it a token.")
        record = ApiToken(staff_user_id=user.id, token_hash=hash_token(token), prefix=token[:PREFIX_LENGTH])
        session.add(record)
        session.flush()
        audit.record(session, actor, "token.create", details=f"{record.prefix} for {user.email}")
    return NewToken(token=token, record=record)


def tokens(user_id: int | None = None) -> list[ApiToken]:
    """Tokens, newest first: one account's, or everyone's."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.staff_user_id == user_id)
    return list(db.session.execute(query).scalars())


def tokens_by_account() -> dict[int, list[ApiToken]]:
    found: dict[int, list[ApiToken]] = {}
    for record in tokens():
        found.setdefault(record.staff_user_id, []).append(record)
    return found


def find(reference: str) -> ApiToken:
    """The token a person names by its id or its prefix (as lists show them)."""
    reference = (reference or "").strip()
    query = select(ApiToken)
    if reference.isdigit():
        query = query.where(ApiToken.id == int(reference))
    elif reference.startswith(MARK) and len(reference) >= PREFIX_LENGTH:
        query = query.where(ApiToken.prefix == reference[:PREFIX_LENGTH])
    else:
        raise TokenNotFound(f"Name a token by its id or its prefix ({MARK}...), as the list shows it.")
    found = list(db.session.execute(query).scalars())
    if not found:
        raise TokenNotFound(f"No token is {reference}.")
    if len(found) > 1:
        raise TokenError(f"More than one token starts {reference}; name it by its id.")
    return found[0]


def revoke(token_id: int, actor: StaffUser | None = None) -> ApiToken:
    """Revoke a token (again: no change). Staff may revoke their own; admins anyone's."""
    with write_transaction() as session:
        record = session.get(ApiToken, token_id, with_for_update=True)
        if record is None:
            raise TokenNotFound("That token does not exist.")
        if actor is not None and not actor.is_admin and actor.id != record.staff_user_id:
            raise TokenRevoked("Only an admin may revoke another person's token.")
        if record.revoked_at is None:
            record.revoked_at = utcnow()
            owner = session.get(StaffUser, record.staff_user_id)
            audit.record(
                session,
                actor,
                "token.revoke",
                details=f"{record.prefix} of {owner.email if owner else 'a removed account'}",
            )
    return record


def revoke_all(session: Session, user_id: int) -> None:
    """Every token of this account is revoked, inside the caller's write transaction (the
    account is being disabled: enabling it again brings no token back, as no session)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.staff_user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def authenticate(token: str | None, now: datetime | None = None) -> StaffUser:
    """The active account a presented token belongs to.

    The token is found by its SHA-256 (the unique index), then compared in constant time:
    what the lookup's timing could tell is about the hash, which says nothing of the token.
    Raises TokenUnknown (no token, or not one of ours) or TokenRevoked (revoked, or the
    account is disabled)."""
    if not token or len(token) > 200:
        raise TokenUnknown("Send a staff API token as: Authorization: Bearer <token>.")
    digest = hash_token(token)
    row = db.session.execute(
        select(ApiToken, StaffUser)
        .join(StaffUser, ApiToken.staff_user_id == StaffUser.id)
        .where(ApiToken.token_hash == digest)
    ).one_or_none()
    if row is None or not hmac.compare_digest(row[0].token_hash, digest):
        raise TokenUnknown("That API token is not valid.")
    record, user = row
    if record.revoked_at is not None:
        raise TokenRevoked("That API token was revoked.")
    if not user.is_active:
        raise TokenRevoked("The account this API token belongs to is disabled.")
    now = now or utcnow()
    if record.last_used_at is None or now - record.last_used_at >= RESTAMP:
        with write_transaction() as session:
            _stamp(session, record.id, now)
    return user


def _stamp(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
