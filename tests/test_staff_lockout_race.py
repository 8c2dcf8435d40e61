"""Staff lockout under parallel sign-in attempts, on SQLite and on PostgreSQL: twenty wrong
passwords sent at once against a limit of five get five checks of the password, no more,
and the right password afterwards is refused as locked."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models.staff import SignInAttempt
from app.staff import accounts
from tests.fixtures_staff import STAFF_PASSWORD, make_staff

EMAIL = "sam@mindset-tms.example"
LIMIT = 5
PARALLEL = 20


@pytest.fixture
def app_settings() -> dict:
    # Cheap argon2 so twenty checks stay quick, but still slow enough (a few ms, outside the
    # GIL) that unguarded attempts overlap.
    return {
        "STAFF_ARGON2_TIME_COST": 1,
        "STAFF_ARGON2_MEMORY_KIB": 8192,
        "STAFF_ARGON2_PARALLELISM": 1,
        "STAFF_LOCKOUT_ACCOUNT_FAILURES": LIMIT,
        "STAFF_LOCKOUT_ADDRESS_FAILURES": 1000,
    }


def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(any_app):
    with any_app.app_context():
        make_staff(EMAIL)
    start = threading.Barrier(PARALLEL)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        with any_app.app_context():
            start.wait()
            try:
                accounts.authenticate(EMAIL, f"wrong guess number {n}", f"10.9.0.{n}")
                outcome = "signed in"
            except accounts.SignInRefused as refused:
                outcome = "locked" if refused.locked else "wrong"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == PARALLEL

    # Every attempt that got past the lockout check is recorded, and only those.
    assert outcomes.count("wrong") == LIMIT, outcomes
    assert outcomes.count("locked") == PARALLEL - LIMIT, outcomes
    with any_app.app_context():
        recorded = db.session.execute(
            select(func.count(SignInAttempt.id)).where(SignInAttempt.email == EMAIL)
        ).scalar_one()
        assert recorded == LIMIT
        with pytest.raises(accounts.SignInRefused) as refused:
            accounts.authenticate(EMAIL, STAFF_PASSWORD, "10.9.1.1")
        assert refused.value.locked
