"""SQLite's WAL is copied back into the database file by writers after their turn (see
app.database.WriterQueue.checkpoint_if_due), not inside a commit while every other writer
waits for the turn. SQLite's own checkpoint stays only as a backstop."""

from __future__ import annotations

import fcntl
import os
import sqlite3

from app.database import BACKSTOP_CHECKPOINT_PAGES
from app.extensions import db
from tests.conftest import build_app, dispose, make_booking

BOOKINGS = 60


def wal_bytes(path) -> int:
    wal = f"{path}-wal"
    return os.path.getsize(wal) if os.path.exists(wal) else 0


def book_many(app, count: int) -> None:
    with app.app_context():
        for number in range(count):
            make_booking(email=f"patient{number}@example.com")


def test_commits_do_not_checkpoint_below_the_backstop(tmp_path):
    path = tmp_path / "no-checkpoints.db"
    app = build_app(f"sqlite:///{path}")
    try:
        with app.app_context():
            setting = db.session.execute(db.text("PRAGMA wal_autocheckpoint")).scalar_one()
            db.session.rollback()
        assert setting == BACKSTOP_CHECKPOINT_PAGES
        app.extensions["sqlite_writer_queue"].checkpoint_every = 10**9  # writers never do
        book_many(app, BOOKINGS)
        # Nothing copied the WAL back, so it holds every booking's pages (~15 each).
        assert wal_bytes(path) > BOOKINGS * 8 * 4096
    finally:
        dispose(app)


def test_writers_checkpoint_after_their_turns_so_the_wal_stays_small(tmp_path):
    path = tmp_path / "checkpoints.db"
    app = build_app(f"sqlite:///{path}")
    try:
        app.extensions["sqlite_writer_queue"].checkpoint_every = 6  # 3 bookings (slot + booking)
        book_many(app, BOOKINGS)
        # The WAL is reused from its start after each checkpoint: it never grew past a few
        # bookings' pages.
        assert 0 < wal_bytes(path) < 10 * 20 * 4096
    finally:
        dispose(app)


def test_the_checkpoint_does_not_wait_for_the_writers_turn(tmp_path):
    """Another process holding the turn (mid-change) does not hold up a due checkpoint, and
    the checkpoint copies the committed pages into the database file itself."""
    path = tmp_path / "held.db"
    app = build_app(f"sqlite:///{path}")
    queue = app.extensions["sqlite_writer_queue"]
    try:
        queue.checkpoint_every = 10**9
        book_many(app, 5)
        holder = os.open(f"{path}-writers.lock", os.O_RDWR)
        fcntl.flock(holder, fcntl.LOCK_EX)
        try:
            queue.checkpoint_every = 1
            with app.app_context():
                queue.checkpoint_if_due()
            # The database file alone, without its WAL, now holds all five bookings.
            copy = tmp_path / "file-only.db"
            copy.write_bytes(path.read_bytes())
            probe = sqlite3.connect(copy)
            try:
                assert probe.execute("SELECT count(*) FROM booking").fetchone() == (5,)
            finally:
                probe.close()
        finally:
            fcntl.flock(holder, fcntl.LOCK_UN)
            os.close(holder)
    finally:
        dispose(app)
