"""Engine set-up per database, and the write transaction every service change runs in.

SQLite: WAL mode and a busy timeout, and writes begin with BEGIN IMMEDIATE so a
check-then-insert cannot interleave with another writer (pysqlite's own deferred
BEGIN would let it). PostgreSQL: services lock the rows they change (FOR UPDATE).
"""

from __future__ import annotations

import contextvars
import fcntl
import logging
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

# SQLite copies the WAL back into the database file (a checkpoint: page copies and two
# fsyncs, ~6 ms on this disk) from inside the commit that takes the WAL past
# wal_autocheckpoint pages (1,000 by default: about 65 bookings). That writer still holds
# the writers' turn then, so every other writer waits on the disk with it, and the CPU
# idles. Here each process instead checkpoints after every CHECKPOINT_EVERY_TURNS of its
# own write turns, once its turn is over, with PASSIVE (which waits for nobody and never
# blocks writers). With several processes writing, the WAL is checkpointed about as often
# as before. SQLite's own checkpoint stays as a backstop at 10,000 pages (~40 MB). Under
# sustained heavy writes a PASSIVE checkpoint seldom finishes (new pages keep coming), so
# the WAL grows to that size and is then reused; at a clinic's pace it stays small.
CHECKPOINT_EVERY_TURNS = 64
BACKSTOP_CHECKPOINT_PAGES = 10_000

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def configure_engine(engine: Engine, app: Flask) -> None:
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # Take transaction control away from pysqlite; the "begin" hook below issues BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Writers checkpoint after their turn (WriterQueue.checkpoint_if_due); SQLite's own
        # checkpoint, inside a commit, is left only as the backstop.
        cursor.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


class _TurnTimedOut(Exception):
    """Raised by the alarm that bounds a blocking wait for the writers' lock."""


def _on_turn_alarm(_signum, _frame):
    raise _TurnTimedOut


class WriterQueue:
    """SQLite writers take turns through an OS file lock beside the database file.

    SQLite alone makes a writer that finds the database locked sleep and retry (1, 2, 5, 10
    ... up to 100 ms at a time), so under load the lock sits idle while writers sleep, and
    the unlucky ones wait far longer than the work takes. Waiting on a file lock first hands
    the turn over as soon as the holder commits. Each thread has its own lock file handle
    (handles are reopened after a fork), and the wait is bounded by the busy timeout, after
    which the request gets the same retryable 503 as a busy database.

    The main thread (each gunicorn sync worker serves its requests there) sleeps in the
    kernel until the lock is free, with a one-shot alarm as the bound: measured under the
    booking benchmark, this uses ~0.2 ms less CPU per booking than polling. Other threads
    (the development server, tests) cannot take signals, so they poll."""

    def __init__(self, path: str, timeout_s: float, engine: Engine,
                 checkpoint_every: int = CHECKPOINT_EVERY_TURNS) -> None:
        self.path = path + "-writers.lock"
        self.timeout_s = timeout_s
        self.engine = engine
        self.checkpoint_every = checkpoint_every
        self._local = threading.local()

    def _handle(self) -> int:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            local.pid = os.getpid()
            local.depth = 0
            local.turns = 0
        return local.fd

    def _acquire(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if self._can_use_alarm():
            self._wait_with_alarm(fd)
        else:
            self._poll(fd)

    def _can_use_alarm(self) -> bool:
        """Only where nothing else uses SIGALRM or the real-time timer."""
        return (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
                and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))

    def _wait_with_alarm(self, fd: int) -> None:
        previous = signal.signal(signal.SIGALRM, _on_turn_alarm)
        try:
            try:
                signal.setitimer(signal.ITIMER_REAL, self.timeout_s)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _TurnTimedOut:
                # The alarm may have come just after the lock was granted: let it go again.
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise self._timed_out() from None
        finally:
            signal.signal(signal.SIGALRM, previous)

    def _poll(self, fd: int) -> None:
        # The pauses stay short (50 us, doubling to 0.5 ms): a turn usually lasts well under
        # a millisecond.
        deadline = time.monotonic() + self.timeout_s
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise self._timed_out() from None
                time.sleep(pause)
                pause = min(pause * 2, 0.0005)

    @staticmethod
    def _timed_out() -> OperationalError:
        return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))

    @contextmanager
    def turn(self) -> Iterator[None]:
        fd = self._handle()
        local = self._local
        if local.depth == 0:
            self._acquire(fd)
        local.depth += 1
        try:
            yield
        finally:
            local.depth -= 1
            if local.depth == 0:
                fcntl.flock(fd, fcntl.LOCK_UN)
                local.turns += 1

    def checkpoint_if_due(self) -> None:
        """After every `checkpoint_every` turns of this thread, and never during a turn:
        copy the WAL back into the database file. PASSIVE: it copies what no reader still
        needs and waits for nobody. A failure loses nothing (the pages stay in the WAL for
        the next checkpoint), so it is logged, not raised."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid() or local.depth or local.turns < self.checkpoint_every:
            return
        local.turns = 0
        try:
            connection = self.engine.raw_connection()
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                connection.close()
        except Exception:  # noqa: BLE001 - see the docstring
            log.warning("WAL checkpoint failed; the next one will catch up", exc_info=True)


def _sqlite_file(engine: Engine) -> str | None:
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def init_app(app: Flask) -> None:
    with app.app_context():
        configure_engine(db.engine, app)
        path = _sqlite_file(db.engine)
        app.extensions["sqlite_file"] = path
        app.extensions["sqlite_writer_queue"] = (
            WriterQueue(path, int(app.config["SQLITE_BUSY_TIMEOUT_MS"]) / 1000, db.engine)
            if path else None)


@contextmanager
def write_intent() -> Iterator[None]:
    """Transactions begun inside this block begin IMMEDIATE on SQLite."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@contextmanager
def write_transaction() -> Iterator[Session]:
    """One atomic change: commits on success, rolls back on any exception."""
    session = db.session()
    if session.in_transaction():
        # End the read transaction so that the write one starts fresh (and IMMEDIATE on SQLite).
        session.commit()
    queue = current_app.extensions.get("sqlite_writer_queue")
    with queue.turn() if queue else nullcontext(), write_intent(), session.begin():
        yield session
    if queue is not None:
        queue.checkpoint_if_due()


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def is_unavailable(error: BaseException) -> bool:
    """True when the database could not be reached or was busy: worth retrying shortly."""
    if isinstance(error, PoolTimeout | OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
