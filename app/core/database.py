"""Engine set-up per database, and the write transaction every service change runs in.

SQLite: WAL mode, `synchronous=NORMAL` and a busy timeout, and write transactions begin
with BEGIN IMMEDIATE so a check-then-insert cannot interleave with another writer
(pysqlite's own deferred BEGIN would let it). PostgreSQL: services lock the rows they
change (FOR UPDATE).
"""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from app.core.extensions import db

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
# SQLite allows one writer at a time and makes the others sleep and retry, with growing
# pauses; threads of one process (gthread workers, the development server) instead wait
# their turn here and are handed it as soon as the writer before them commits.
_sqlite_writers = threading.RLock()


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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def init_app(app: Flask) -> None:
    with app.app_context():
        configure_engine(db.engine, app)


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
    if db.engine.dialect.name != "sqlite":
        with write_intent(), session.begin():
            yield session
    else:
        if not _sqlite_writers.acquire(timeout=current_app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        try:
            with write_intent(), session.begin():
                yield session
        finally:
            _sqlite_writers.release()


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def is_unavailable(error: BaseException) -> bool:
    """True when the database could not be reached or was busy: worth retrying shortly."""
    if isinstance(error, PoolTimeout | OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
