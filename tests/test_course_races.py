"""Course plans racing from separate processes, on SQLite and PostgreSQL: the database decides,
so one chair never holds two patients at one time."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import date, time

import pytest

from app.core.extensions import db
from app.courses import service as courses
from app.courses.errors import PlanClash
from tests.conftest import _overrides
from tests.course_helpers import holds_match_sessions, next_monday, open_weekdays, overlapping_sessions, template_id

PROCESSES = 20
_barrier = None


def _init(barrier) -> None:
    global _barrier
    _barrier = barrier


def _plan(args: tuple[str, int, int | None, list | None, str]) -> str:
    """Runs in its own process with its own app and connections: wait for the others, then plan."""
    from app import create_app

    url, index, chair_id, sessions, start = args
    # Twenty writers queue for SQLite's one write lock: on a loaded machine the last waits
    # longer than the production 5 s, and the race is about who wins, not how fast.
    app = create_app(_overrides(url, {"SQLITE_BUSY_TIMEOUT_MS": 120_000}))
    with app.app_context():
        request = courses.PlanRequest(
            template_id=template_id(), start=date.fromisoformat(start), preferred_time=time(10), chair_id=chair_id
        )
        patient = courses.PatientDetails(f"Patient {index}", f"p{index}@example.com")
        _barrier.wait()
        try:
            courses.plan_course(patient, request, sessions)
            outcome = "planned"
        except PlanClash:
            outcome = "clash"
        finally:
            db.session.remove()
            db.engine.dispose()
    return outcome


def _race(url: str, chair_id: int | None, sessions: list | None, start: str) -> Counter:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    with ProcessPoolExecutor(PROCESSES, mp_context=context, initializer=_init, initargs=(barrier,)) as pool:
        return Counter(pool.map(_plan, [(url, i, chair_id, sessions, start) for i in range(PROCESSES)]))


def test_twenty_processes_confirming_one_proposal_on_one_chair_yield_one_course(any_app, database_url):
    with any_app.app_context():
        open_weekdays()
        start = next_monday()
        proposal = courses.propose_plan(courses.PlanRequest(template_id(), start, time(10), chair_id=1))
        db.session.remove()
        db.engine.dispose()
    outcomes = _race(database_url, 1, proposal.sessions, start.isoformat())
    assert outcomes == {"planned": 1, "clash": PROCESSES - 1}
    with any_app.app_context():
        assert not overlapping_sessions() and holds_match_sessions()


def test_twenty_processes_planning_at_once_never_share_a_chair_time(any_app, database_url):
    with any_app.app_context():
        open_weekdays()
        start = next_monday()
        db.session.remove()
        db.engine.dispose()
    outcomes = _race(database_url, None, None, start.isoformat())
    print("parallel plans, any chair:", database_url.split(":")[0], dict(outcomes))
    assert outcomes["planned"] >= 1 and sum(outcomes.values()) == PROCESSES
    with any_app.app_context():
        assert not overlapping_sessions() and holds_match_sessions()
        planned = db.session.execute(db.select(db.func.count()).select_from(courses.Course)).scalar_one()
        assert planned == outcomes["planned"]


@pytest.fixture
def app(any_app):
    return any_app
