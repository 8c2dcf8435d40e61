"""A version number for the calendar that changes after every committed change to slots or
bookings, so listings can be cached per version. It is bumped after the commit, in its own
short transaction: bumping inside the change would make every booking wait on one row."""

from __future__ import annotations

import logging
from itertools import chain

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app.database import write_intent
from app.extensions import db
from app.models import Booking, Slot
from app.models.booking import CalendarState

log = logging.getLogger(__name__)
_CHANGED = "calendar_changed"
_TRACKED = (Slot, Booking)


def current() -> int:
    return db.session.execute(select(CalendarState.version).where(CalendarState.id == 1)).scalar() or 0


def bump(bind) -> None:
    with write_intent(), bind.connect() as connection, connection.begin():
        connection.execute(update(CalendarState).where(CalendarState.id == 1)
                           .values(version=CalendarState.version + 1))


@event.listens_for(Session, "before_flush")
def _note_changes(session, _context, _instances):
    if any(isinstance(obj, _TRACKED) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state):
    if (state.is_update or state.is_delete) and any(
            m.class_ in _TRACKED for m in state.all_mappers):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session):
    if session.info.pop(_CHANGED, False):
        try:
            bump(session.get_bind())
        except Exception:  # noqa: BLE001 - the change is committed; caches expire by themselves
            log.warning("could not bump the calendar version", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_CHANGED, None)
