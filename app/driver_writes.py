"""Write transactions on a pooled driver connection, below SQLAlchemy's execution layer.

For the one write that has to stay cheap under load: a new booking (see
app.booking.service.book). Its statements are still SQLAlchemy Core statements, compiled once
per dialect together with their parameter order and their column types' own bind and result
processors; what is skipped is the per-call work of the ORM session and of Core's execution
context (events, cache keys, result objects): over a third of `book()`'s time in-process
(0.60 ms before, 0.38 ms after).

Everything else is as in app.database.write_transaction: the connection comes from the
engine's pool (set up by its connect hook, pre-pinged, recycled), SQLite writers take their
turn and BEGIN IMMEDIATE, and driver errors are raised as SQLAlchemy's own exceptions, with
parameters hidden, so a busy or unreachable database is the usual retryable 503 and a
broken unique constraint an IntegrityError.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from app.extensions import db

log = logging.getLogger(__name__)

_UNSET = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Per bound parameter: its key in the caller's values, the value the statement gives it
    # (a literal such as a status; used when the caller gives none), its name in the SQL,
    # and the type's bind processor.
    binds: tuple[tuple[str, Any, str, Callable | None], ...]
    positional: bool
    result_processors: tuple[Callable | None, ...]

    def parameters(self, values: Mapping[str, Any]) -> Sequence | dict:
        processed = []
        for key, fixed, _name, process in self.binds:
            value = values[key] if key in values or fixed is _UNSET else fixed
            processed.append(process(value) if process is not None and value is not None else value)
        if self.positional:
            return processed
        return {name: value for (_key, _fixed, name, _process), value in zip(self.binds, processed, strict=True)}

    def row(self, raw: Sequence) -> tuple:
        return tuple(process(value) if process is not None else value
                     for process, value in zip(self.result_processors, raw, strict=True))


class DriverStatement:
    """A Core statement to run in a driver_transaction(); compiled once per dialect."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self.keys: tuple[str, ...] = tuple(
            column.key for column in getattr(statement, "exported_columns", ()))
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        order = compiled.positiontup if compiled.positional else list(compiled.binds)
        binds = []
        for name in order:
            bind = compiled.binds[name]
            fixed = _UNSET if bind.required else bind.effective_value
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((bind.key, fixed, compiled.escaped_bind_names.get(name, name), process))
        results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in getattr(self.statement, "exported_columns", ()))
        return _Compiled(compiled.string, tuple(binds), compiled.positional, results)


class DriverTransaction:
    """The statements of one driver_transaction()."""

    def __init__(self, connection, dialect: Dialect) -> None:
        self._connection = connection
        self._cursor = connection.cursor()
        self.dialect = dialect
        self._after_commit: list[DriverStatement] = []
        self._invalidated = False

    def begin(self) -> None:
        """SQLite: BEGIN IMMEDIATE, so the transaction holds the write lock from its first read.
        (psycopg begins a transaction with the first statement by itself.)"""
        if self.dialect.name == "sqlite":
            self._run(self._cursor.execute, "BEGIN IMMEDIATE", ())

    def execute(self, statement: DriverStatement, values: Mapping[str, Any] | None = None):
        compiled = statement.compiled(self.dialect)
        self._run(self._cursor.execute, compiled.sql, compiled.parameters(values or {}))
        return self._cursor

    def execute_many(self, statement: DriverStatement, rows: Sequence[Mapping[str, Any]]) -> None:
        compiled = statement.compiled(self.dialect)
        self._run(self._cursor.executemany, compiled.sql, [compiled.parameters(row) for row in rows])

    def first(self, statement: DriverStatement, values: Mapping[str, Any] | None = None) -> dict | None:
        """The first row as a dict by column key, with the column types applied (or None)."""
        row = self.execute(statement, values).fetchone()
        return None if row is None else dict(zip(statement.keys, statement.compiled(self.dialect).row(row),
                                                 strict=True))

    def scalar(self, statement: DriverStatement, values: Mapping[str, Any] | None = None):
        """The first column of the first row (for INSERT ... RETURNING id)."""
        row = self.first(statement, values)
        return None if row is None else next(iter(row.values()))

    def after_commit(self, statement: DriverStatement) -> None:
        """Run this statement (no parameters) in a short transaction of its own once this one
        has committed; a failure there is logged, not raised."""
        self._after_commit.append(statement)

    def _run(self, method, sql: str, parameters) -> None:
        try:
            method(sql, parameters)
        except self.dialect.loaded_dbapi.Error as error:
            raise self.translate(error, sql) from error

    def translate(self, error: Exception, sql: str) -> DBAPIError:
        dbapi = self.dialect.loaded_dbapi
        invalidated = self.dialect.is_disconnect(error, self._connection, self._cursor)
        if invalidated:
            self._invalidate(error)
        return DBAPIError.instance(sql, None, error, dbapi.Error, hide_parameters=True,
                                   connection_invalidated=invalidated, dialect=self.dialect)

    def _run_after_commit(self) -> None:
        for statement in self._after_commit:
            try:
                self.execute(statement)
                self._connection.commit()
            except Exception:  # noqa: BLE001 - the change itself is committed
                log.warning("a follow-up statement failed after commit", exc_info=True)
                self._rollback_quietly()

    def _rollback_quietly(self) -> None:
        if self._invalidated:
            return
        try:
            self._connection.rollback()
        except Exception as error:  # noqa: BLE001 - a broken connection may fail to roll back
            self._invalidate(error)

    def _invalidate(self, error: BaseException | None = None) -> None:
        """Have the pool discard this connection (it is broken) instead of reusing it."""
        if not self._invalidated:
            self._invalidated = True
            self._connection.invalidate(error)


@contextmanager
def driver_transaction() -> Iterator[DriverTransaction]:
    """One atomic change on a pooled driver connection: commits on success, rolls back on
    any exception. On SQLite it waits its turn and begins IMMEDIATE, as every write does."""
    if db.session.registry.has() and db.session().in_transaction():
        # As in write_transaction: the caller's reads end here, so nothing stale follows.
        db.session.commit()
    engine = db.engine
    dialect = engine.dialect
    queue = current_app.extensions.get("sqlite_writer_queue")
    # Checked out (and pre-pinged) before the writer's turn, which is then held only for
    # the statements themselves.
    try:
        connection = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:  # the database cannot be reached: a 503
        raise DBAPIError.instance(None, None, error, dialect.loaded_dbapi.Error,
                                  hide_parameters=True, dialect=dialect) from error
    try:
        with queue.turn() if queue else nullcontext():
            transaction = DriverTransaction(connection, dialect)
            transaction.begin()
            try:
                yield transaction
                try:
                    connection.commit()
                except dialect.loaded_dbapi.Error as error:
                    raise transaction.translate(error, "COMMIT") from error
            except BaseException:
                transaction._rollback_quietly()
                raise
        transaction._run_after_commit()
    finally:
        connection.close()
    if queue is not None:
        queue.checkpoint_if_due()
