"""Password hashing with argon2id; parameters come from settings so they can be raised later,
and a hash made with older parameters is replaced at the next successful sign-in."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_dummy_hashes: dict[tuple[int, int, int], str] = {}


def hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["STAFF_ARGON2_TIME_COST"],
        memory_cost=config["STAFF_ARGON2_MEMORY_KIB"],
        parallelism=config["STAFF_ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def spend_equal_time(password: str) -> None:
    """Verify against a throwaway hash, so an unknown email takes as long as a wrong password."""
    ph = hasher()
    key = (ph.time_cost, ph.memory_cost, ph.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = ph.hash("not a real password")
    verify_password(_dummy_hashes[key], password)
