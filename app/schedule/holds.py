"""Holding a time on a chair: the one place that writes ChairHold cells, and the one answer to
"is this time free on this chair".

A held interval writes one row per five-minute cell under a unique (chair, cell) index, so the
database refuses an overlap whatever the sessions' lengths, on SQLite and PostgreSQL alike;
no check-then-insert is trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.extensions import db
from app.models import ChairHold, CourseSession
from app.models.schedule import CELL_MINUTES
from app.schedule.errors import ChairTaken

CELL = timedelta(minutes=CELL_MINUTES)


def cells(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The cell starts covering [starts_at, ends_at); both ends must fall on the cell grid."""
    if ends_at <= starts_at:
        raise ValueError("a held time must end after it starts")
    if starts_at.second or starts_at.microsecond or starts_at.minute % CELL_MINUTES:
        raise ValueError(f"a held time starts on a {CELL_MINUTES}-minute boundary")
    if (ends_at - starts_at) % CELL:
        raise ValueError(f"a held time lasts a multiple of {CELL_MINUTES} minutes")
    count = (ends_at - starts_at) // CELL
    return [starts_at + i * CELL for i in range(count)]


def _is_hold_clash(error: IntegrityError) -> bool:
    text = str(error.orig)
    return "uq_chair_hold_chair_id" in text or "chair_hold.chair_id" in text


def hold(session: Session, course_sessions: Sequence[CourseSession]) -> None:
    """Hold the chair time of `course_sessions` (flushed, so they have ids) in the caller's
    transaction, in one statement.

    Raises ChairTaken, naming the first session whose time is held, when any cell is taken;
    the caller's transaction stays usable (the insert runs in a savepoint)."""
    rows = [
        {"chair_id": item.chair_id, "cell_start": cell, "session_id": item.id}
        for item in course_sessions
        for cell in cells(item.starts_at, item.ends_at)
    ]
    if not rows:
        return
    wanted = [(item.chair_id, item.starts_at, item.ends_at) for item in course_sessions]
    try:
        with session.begin_nested():
            session.execute(insert(ChairHold), rows)
    except IntegrityError as error:
        if not _is_hold_clash(error):
            raise
        raise _first_clash(session, wanted) from error


def _first_clash(session: Session, wanted: list[tuple[int, datetime, datetime]]) -> ChairTaken:
    """The first wanted time whose cells another session holds (the first wanted one when the
    holder's transaction is not visible: two times of one plan cannot clash, one a day)."""
    for chair_id, starts_at, ends_at in wanted:
        if session.execute(
            select(ChairHold.id)
            .where(ChairHold.chair_id == chair_id, ChairHold.cell_start >= starts_at, ChairHold.cell_start < ends_at)
            .limit(1)
        ).first():
            return ChairTaken(chair_id, starts_at, ends_at)
    return ChairTaken(*wanted[0])


def release(session: Session, course_sessions: Iterable[CourseSession]) -> None:
    """Free the chair time of these sessions (cancelled or moved) in the caller's transaction."""
    ids = [s.id for s in course_sessions]
    if ids:
        session.execute(delete(ChairHold).where(ChairHold.session_id.in_(ids)))


def held_cells(
    chair_ids: Sequence[int], lower: datetime, upper: datetime, except_session_ids: Iterable[int] = ()
) -> dict[int, set[datetime]]:
    """Held cells per chair in [lower, upper), leaving out the cells of `except_session_ids`
    (a session being moved does not block itself)."""
    query = select(ChairHold.chair_id, ChairHold.cell_start).where(
        ChairHold.chair_id.in_(list(chair_ids)), ChairHold.cell_start >= lower, ChairHold.cell_start < upper
    )
    excluded = list(except_session_ids)
    if excluded:
        query = query.where(ChairHold.session_id.not_in(excluded))
    held: dict[int, set[datetime]] = {chair_id: set() for chair_id in chair_ids}
    for chair_id, cell_start in db.session.execute(query):
        held[chair_id].add(cell_start)
    return held


def is_free(chair_id: int, starts_at: datetime, ends_at: datetime, except_session_ids: Iterable[int] = ()) -> bool:
    """Whether no cell of [starts_at, ends_at) is held on the chair (an answer for showing;
    `hold` is what decides)."""
    held = held_cells([chair_id], starts_at, ends_at, except_session_ids)[chair_id]
    return not held
