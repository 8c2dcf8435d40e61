"""The one clause that hides a slot overlapping a busy time, for every slot query, and the
lookup that tells staff which calendars hide (or clash with) given slots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, bindparam, exists, select

from app.core.extensions import db
from app.models import Slot
from app.models.busy import BusyInterval, BusySource


def _overlapping(
    starts_at: SQLColumnExpression[datetime] | datetime, ends_at: SQLColumnExpression[datetime] | datetime
) -> ColumnElement[bool]:
    # Half-open spans: a meeting ending at 9:00 does not touch a slot starting at 9:00.
    return and_(BusyInterval.starts_at < ends_at, BusyInterval.ends_at > starts_at)


def overlaps_busy(
    starts_at: SQLColumnExpression[datetime] | datetime, ends_at: SQLColumnExpression[datetime] | datetime
) -> ColumnElement[bool]:
    """True when any busy interval overlaps [starts_at, ends_at): pass Slot.starts_at and
    Slot.ends_at inside a slot query, or one slot's values. Slots carry no buffer of their
    own (the rules space them), so a slot's span is what must be free."""
    return exists().where(_overlapping(starts_at, ends_at))


@dataclass(frozen=True)
class BusyIn:
    """A calendar with a busy time overlapping a slot, and when it was last read."""

    label: str
    last_synced_at: datetime | None


@cache
def _busy_sources_statement():
    """Built once (the dashboard asks on every request); the slot ids are bound each time."""
    return (
        select(Slot.id, BusySource.label, BusySource.last_synced_at)
        .distinct()
        .join(BusyInterval, _overlapping(Slot.starts_at, Slot.ends_at))
        .join(BusySource, BusySource.id == BusyInterval.source_id)
        .where(Slot.id.in_(bindparam("slot_ids", expanding=True)))
        .order_by(Slot.id, BusySource.label)
    )


def busy_sources(slot_ids: Collection[int]) -> dict[int, list[BusyIn]]:
    """For each of the slots that overlaps a busy time, the calendars it comes from (by
    label), in one query. Slots overlapping nothing are left out."""
    if not slot_ids:
        return {}
    rows = db.session.execute(_busy_sources_statement(), {"slot_ids": list(slot_ids)}).all()
    found: dict[int, list[BusyIn]] = defaultdict(list)
    for slot_id, label, synced in rows:
        found[slot_id].append(BusyIn(label, synced))
    return dict(found)
