"""Quick reads: the few tiny queries nearly every request makes (the calendar version, the
signed-in staff account), on a plain driver connection kept per thread in autocommit mode.

They skip the pool, the session and their BEGIN/ROLLBACK (and on PostgreSQL the pool's
pre-ping): one round trip instead of four, which is most of the cost of a cached page. Each
read sees the latest commit. The connection is reopened after a fork and dropped after any
error; the caller then asks the session, which reports the problem the usual way (a
retryable 503 when the database is down).

SQL is written with `?` placeholders (turned into `%s` for PostgreSQL).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy.engine import URL

from app.extensions import db

_local = threading.local()


class QuickReadUnavailable(Exception):
    """No quick path for this database, or the read failed: use the session instead."""


def quick_row(sql: str, parameters: tuple = ()) -> tuple | None:
    """The first row of a tiny read (None when no row matches)."""
    key, opener, driver_error = _target()
    held = getattr(_local, "connection", None)
    if held is None or held[0] != (key, os.getpid()):
        if held is not None and held[0][1] == os.getpid():
            _close(held[1])  # another database, same process (tests switch apps)
        # A connection inherited through fork is left alone: closing it would end the parent's.
        try:
            held = _local.connection = ((key, os.getpid()), opener())
        except driver_error as error:
            _local.connection = None
            raise QuickReadUnavailable(str(error)) from error
    try:
        return held[1].execute(sql if key[0] == "sqlite" else sql.replace("?", "%s"),
                               parameters).fetchone()
    except driver_error as error:
        _close(held[1])
        _local.connection = None
        raise QuickReadUnavailable(str(error)) from error


def quick_value(sql: str, parameters: tuple = ()):
    """The first column of quick_row()'s row (None when no row matches)."""
    row = quick_row(sql, parameters)
    return row[0] if row else None


def _target() -> tuple[tuple[str, str], Any, type[Exception]]:
    """(key, how to open a connection, the driver's error class) for the app's database."""
    path = current_app.extensions.get("sqlite_file")
    if path:
        timeout_s = int(current_app.config["SQLITE_BUSY_TIMEOUT_MS"]) / 1000
        return (("sqlite", path),
                lambda: sqlite3.connect(path, timeout=timeout_s, isolation_level=None),
                sqlite3.Error)
    engine = db.engine
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        import psycopg

        url = _libpq_url(engine.url)
        return (("postgresql", url),
                lambda: psycopg.connect(url, autocommit=True, connect_timeout=5,
                                        application_name="mindset-tms quick reads"),
                psycopg.Error)
    raise QuickReadUnavailable(f"no quick reads on {engine.dialect.name}+{engine.dialect.driver}")


@lru_cache(maxsize=8)
def _libpq_url(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001, S110 - a broken connection may fail to close; it is dropped anyway
        pass
