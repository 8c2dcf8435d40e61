"""Staff accounts: create, list, disable, change passwords, and sign in with lockout after
repeated failures (per account and per address, counted in the database so every worker
process sees the same numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text, update

from app.booking import validation
from app.core import audit
from app.core.database import is_postgres, write_transaction
from app.core.extensions import db
from app.models import utcnow
from app.models.staff import ROLE_ADMIN, ROLES, SignInAttempt, StaffUser
from app.staff import api_tokens, sessions
from app.staff.passwords import hash_password, needs_rehash, spend_equal_time, verify_password

# The one message for every refused sign-in, so it never tells whether an email has an account.
WRONG_DETAILS = "That email and password do not match an active account. Please try again."
LOCKED_OUT = (
    "Too many unsuccessful sign-in attempts. For safety, sign-in is paused for "
    "{minutes} minutes. Please wait and try again, or ask an admin to help."
)


class AccountError(Exception):
    """An account change that cannot be made; the message is for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignInRefused(Exception):
    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.locked = locked


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_strength(password: str) -> str:
    minimum = current_app.config["STAFF_PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise AccountError(
            f"Please choose a password of at least {minimum} characters. "
            "A few unrelated words make a strong one that is easy to type."
        )
    if len(password) > 256:
        raise AccountError("Please choose a password of 256 characters or fewer.")
    return password


# A staff account's email is typed by an admin, about the person the account is for.
_ABOUT_STAFF = validation.staff_voice("person")


def _valid_email(email: str) -> str:
    try:
        return validation.email_address(email, _ABOUT_STAFF).lower()
    except validation.Invalid as error:
        raise AccountError(str(error)) from None


def _valid_name(name: str) -> str:
    try:
        return validation.single_line(name, "Name", max_length=100)
    except validation.Invalid as error:
        raise AccountError(str(error)) from None


def find_by_email(email: str) -> StaffUser | None:
    return db.session.execute(select(StaffUser).where(StaffUser.email == normalise_email(email))).scalar_one_or_none()


def get(user_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, user_id)


def list_accounts() -> list[StaffUser]:
    return list(db.session.execute(select(StaffUser).order_by(StaffUser.is_active.desc(), StaffUser.name)).scalars())


def create_account(email: str, name: str, role: str, password: str, actor: StaffUser | None = None) -> StaffUser:
    email = _valid_email(email)
    name = _valid_name(name)
    if role not in ROLES:
        raise AccountError(f"Role must be one of: {', '.join(ROLES)}.")
    check_password_strength(password)
    password_hash = hash_password(password)
    with write_transaction() as session:
        if session.execute(select(StaffUser.id).where(StaffUser.email == email)).first():
            raise AccountError(f"There is already an account for {email}.")
        user = StaffUser(email=email, name=name, role=role, password_hash=password_hash)
        session.add(user)
        session.flush()
        audit.record(session, actor, "account.create", details=f"{email} as {role}")
    return user


def _lock_user(session, user_id: int) -> StaffUser:
    user = session.execute(select(StaffUser).where(StaffUser.id == user_id).with_for_update()).scalar_one_or_none()
    if user is None:
        raise AccountError("That account does not exist.")
    return user


def _other_active_admins(session, user: StaffUser) -> int:
    return session.execute(
        select(func.count(StaffUser.id)).where(
            StaffUser.role == ROLE_ADMIN, StaffUser.is_active.is_(True), StaffUser.id != user.id
        )
    ).scalar_one()


def set_active(user_id: int, active: bool, actor: StaffUser | None = None) -> StaffUser:
    with write_transaction() as session:
        user = _lock_user(session, user_id)
        if not active and actor is not None and actor.id == user.id:
            raise AccountError("You cannot disable your own account.")
        if not active and user.role == ROLE_ADMIN and _other_active_admins(session, user) == 0:
            raise AccountError("This is the only active admin account; add another admin first.")
        if user.is_active != active:
            user.is_active = active
            # Signs the person out everywhere and ends their API tokens (enabling again brings
            # no old session or token back).
            if not active:
                api_tokens.revoke_all(session, user.id)
            sessions.end_all(session, user.id)
            audit.record(session, actor, "account.enable" if active else "account.disable", details=user.email)
    return user


def set_role(user_id: int, role: str, actor: StaffUser | None = None) -> StaffUser:
    if role not in ROLES:
        raise AccountError(f"Role must be one of: {', '.join(ROLES)}.")
    with write_transaction() as session:
        user = _lock_user(session, user_id)
        if user.role == ROLE_ADMIN and role != ROLE_ADMIN and _other_active_admins(session, user) == 0:
            raise AccountError("This is the only active admin account; add another admin first.")
        if user.role != role:
            user.role = role
            audit.record(session, actor, "account.role", details=f"{user.email} is now {role}")
    return user


def set_password(user_id: int, password: str, actor: StaffUser | None = None) -> StaffUser:
    check_password_strength(password)
    password_hash = hash_password(password)
    with write_transaction() as session:
        user = _lock_user(session, user_id)
        user.password_hash = password_hash
        # Signs the person out everywhere; a change of one's own password then starts a
        # new session for that browser (see app.staff.auth.start_session).
        sessions.end_all(session, user.id)
        audit.record(session, actor, "account.password", details=user.email)
    return user


def change_own_password(user: StaffUser, current: str, new: str) -> StaffUser:
    if not verify_password(user.password_hash, current or ""):
        raise AccountError("Your current password is not right. Please type it again.")
    return set_password(user.id, new, actor=user)


# --- sign-in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    account_failures: int
    address_failures: int
    minutes: int


def _recent_failures(column, value: str, since: datetime) -> int:
    last_success = db.session.execute(
        select(func.max(SignInAttempt.at)).where(
            column == value, SignInAttempt.succeeded.is_(True), SignInAttempt.at >= since
        )
    ).scalar_one_or_none()
    start = max(since, last_success) if last_success else since
    return db.session.execute(
        select(func.count(SignInAttempt.id)).where(
            column == value, SignInAttempt.succeeded.is_(False), SignInAttempt.at >= start
        )
    ).scalar_one()


def is_locked_out(email: str, address: str, now: datetime | None = None) -> bool:
    now = now or utcnow()
    minutes = current_app.config["STAFF_LOCKOUT_MINUTES"]
    since = now - timedelta(minutes=minutes)
    if (
        _recent_failures(SignInAttempt.email, normalise_email(email), since)
        >= current_app.config["STAFF_LOCKOUT_ACCOUNT_FAILURES"]
    ):
        return True
    # Per address, a success does not reset the count: one good account must not shelter
    # guessing at the others.
    address_failures = db.session.execute(
        select(func.count(SignInAttempt.id)).where(
            SignInAttempt.address == address, SignInAttempt.succeeded.is_(False), SignInAttempt.at >= since
        )
    ).scalar_one()
    return address_failures >= current_app.config["STAFF_LOCKOUT_ADDRESS_FAILURES"]


def _record_attempt(session, email: str, address: str, succeeded: bool, now: datetime) -> SignInAttempt:
    attempt = SignInAttempt(email=email[:254], address=address[:64], succeeded=succeeded, at=now)
    session.add(attempt)
    # Attempts are only needed for the lockout window; older ones go.
    session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - timedelta(days=1)))
    session.flush()
    return attempt


def _serialise_attempts(session, email: str, address: str) -> None:
    """On PostgreSQL, one attempt at a time per email and per address decides whether it
    may go ahead (transaction-level advisory locks, so unknown emails are covered too, and
    always taken in the same order). SQLite's write transaction (BEGIN IMMEDIATE) already
    lets one writer in at a time."""
    if not is_postgres():
        return
    for key in (f"staff-sign-in:email:{email}", f"staff-sign-in:address:{address}"):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def _admit_attempt(email: str, address: str, now: datetime) -> int:
    """Check the lockout and record this attempt as a failure, as one atomic step: of any
    number of parallel attempts, no more than the limit get past this point. Returns the
    attempt's row id (marked a success later if the password is right). The slow password
    check happens after this, outside the write lock."""
    with write_transaction() as session:
        _serialise_attempts(session, email, address)
        if is_locked_out(email, address, now):
            minutes = current_app.config["STAFF_LOCKOUT_MINUTES"]
            raise SignInRefused(LOCKED_OUT.format(minutes=minutes), locked=True)
        return _record_attempt(session, email, address, False, now).id


def authenticate(email: str, password: str, address: str, now: datetime | None = None) -> StaffUser:
    """The active account these credentials open, or SignInRefused with a message to show.

    The attempt is counted as a failure before the password is checked (see
    _admit_attempt), so parallel wrong passwords cannot get more checks than the lockout
    allows, and the argon2 check (tens of ms) never holds the database's write lock."""
    now = now or utcnow()
    email = normalise_email(email)
    address = address or "unknown"
    attempt_id = _admit_attempt(email, address, now)
    user = find_by_email(email)
    if user is None:
        spend_equal_time(password or "")
        ok = False
    else:
        ok = verify_password(user.password_hash, password or "") and user.is_active
    if user is None or not ok:
        raise SignInRefused(WRONG_DETAILS)
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    with write_transaction() as session:
        session.execute(update(SignInAttempt).where(SignInAttempt.id == attempt_id).values(succeeded=True))
        user = _lock_user(session, user.id)
        user.previous_sign_in_at = user.last_sign_in_at
        user.last_sign_in_at = now
        if new_hash:
            user.password_hash = new_hash
        audit.record(session, user, "sign_in")
    return user
