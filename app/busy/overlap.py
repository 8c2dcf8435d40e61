"""The one clause that hides a slot overlapping a busy time, for every slot query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists

from app.models.busy import BusyInterval


def overlaps_busy(starts_at: ColumnElement[datetime] | datetime,
                  ends_at: ColumnElement[datetime] | datetime) -> ColumnElement[bool]:
    """True when any busy interval overlaps [starts_at, ends_at): pass Slot.starts_at and
    Slot.ends_at inside a slot query, or one slot's values. Slots carry no buffer of their
    own (the rules space them), so a slot's span is what must be free."""
    return exists().where(BusyInterval.starts_at < ends_at, BusyInterval.ends_at > starts_at)
