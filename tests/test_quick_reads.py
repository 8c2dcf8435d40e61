"""Quick reads (app.quick_reads), on SQLite and on PostgreSQL: they see every commit at once,
and a broken quick connection falls back to the session and is replaced on the next read."""

from __future__ import annotations

from sqlalchemy import text

from app import quick_reads
from app.booking import calendar_version
from app.extensions import db
from tests.conftest import make_slot


def _held_connection():
    held = getattr(quick_reads._local, "connection", None)
    return held[1] if held else None


def test_quick_reads_see_each_commit_at_once(any_app):
    with any_app.app_context():
        first = quick_reads.quick_value("SELECT count(*) FROM slot")
        version = calendar_version.current()
        slot = make_slot()  # committed through the session, on the pool's connection
        assert quick_reads.quick_value("SELECT count(*) FROM slot") == first + 1
        assert quick_reads.quick_value("SELECT public_id FROM slot WHERE id = ?", (slot.id,)) == slot.public_id
        assert quick_reads.quick_row("SELECT id FROM slot WHERE id = ?", (-1,)) is None
        assert calendar_version.current() > version


def test_a_broken_quick_connection_falls_back_and_is_replaced(any_app):
    with any_app.app_context():
        before = calendar_version.current()
        broken = _held_connection()
        assert broken is not None
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as admin:  # as a database restart would
                admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE application_name = 'mindset-tms quick reads'"))
        else:
            broken.close()
        make_slot()
        after = calendar_version.current()
        assert after > before  # the quick read failed, so the session answered
        assert _held_connection() is None  # the broken connection was dropped
        assert calendar_version.current() == after
        assert _held_connection() not in (None, broken)  # and replaced on the next read
