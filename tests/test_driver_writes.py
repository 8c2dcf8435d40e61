"""The booking's driver-level write transaction (app.driver_writes), on SQLite and PostgreSQL:
types go in and come out as the ORM would store and read them, failures roll everything
back and surface as SQLAlchemy's own exceptions without the patient's details, and a
follow-up after commit cannot undo the commit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from app.booking import calendar_version
from app.driver_writes import DriverStatement, driver_transaction
from app.extensions import db
from app.models import Booking, OutboxMessage, Slot
from tests.conftest import make_booking, make_slot

_SLOT_COLUMNS = ("public_id", "starts_at", "ends_at", "modes", "is_blocked", "source", "created_at")
INSERT_SLOT = DriverStatement(
    insert(Slot.__table__)
    .values({name: bindparam(name, type_=Slot.__table__.c[name].type) for name in _SLOT_COLUMNS})
    .returning(Slot.__table__.c.id))
SLOT_BY_PUBLIC_ID = DriverStatement(select(Slot.__table__).where(Slot.public_id == bindparam("public_id")))
BLOCKED_SLOTS = DriverStatement(select(Slot.public_id).where(Slot.is_blocked.is_(True)))


def slot_values(public_id: str, starts_at: datetime, **fields) -> dict:
    return {"public_id": public_id, "starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=30),
            "modes": "phone", "is_blocked": False, "source": "manual",
            "created_at": datetime(2026, 11, 25, 8, 0, 0, 123456, tzinfo=UTC), **fields}


def test_values_are_stored_and_read_as_the_orm_does(any_app):
    starts = datetime(2027, 3, 8, 16, 0, tzinfo=UTC)  # the day after DST starts in Denver
    with any_app.app_context():
        with driver_transaction() as transaction:
            new_id = transaction.scalar(INSERT_SLOT, slot_values("drv-1", starts, is_blocked=True))
            read = transaction.first(SLOT_BY_PUBLIC_ID, {"public_id": "drv-1"})
            assert transaction.first(BLOCKED_SLOTS) == {"public_id": "drv-1"}
        # Read back through the driver path: aware UTC datetimes, real booleans.
        assert read["id"] == new_id
        assert read["starts_at"] == starts and read["starts_at"].tzinfo == UTC
        assert read["created_at"].microsecond == 123456
        assert read["is_blocked"] is True
        # The ORM reads the same row the same way, and finds it by time (stored in its format).
        slot = db.session.execute(select(Slot).where(Slot.starts_at == starts)).scalar_one()
        assert (slot.id, slot.public_id, slot.is_blocked, slot.ends_at) == (
            new_id, "drv-1", True, starts + timedelta(minutes=30))


def test_an_error_rolls_back_every_statement(any_app):
    starts = datetime(2027, 3, 9, 16, 0, tzinfo=UTC)
    with any_app.app_context():
        with pytest.raises(RuntimeError), driver_transaction() as transaction:
            transaction.scalar(INSERT_SLOT, slot_values("drv-2", starts))
            raise RuntimeError("a check failed after the first statement")
        assert db.session.execute(select(Slot).where(Slot.public_id == "drv-2")).first() is None
        # The pooled connection was handed back clean: the next transaction works.
        with driver_transaction() as transaction:
            transaction.scalar(INSERT_SLOT, slot_values("drv-2", starts))
        assert db.session.execute(select(Slot.public_id).where(Slot.starts_at == starts)).scalar() == "drv-2"


def test_a_broken_constraint_is_an_integrity_error_without_the_values(any_app):
    starts = datetime(2027, 3, 10, 16, 0, tzinfo=UTC)
    with any_app.app_context():
        with driver_transaction() as transaction:
            transaction.scalar(INSERT_SLOT, slot_values("drv-3", starts))
        with pytest.raises(IntegrityError) as raised, driver_transaction() as transaction:
            transaction.scalar(INSERT_SLOT, slot_values("drv-secret-patient-detail", starts))
        assert "drv-secret-patient-detail" not in str(raised.value)
        assert db.session.execute(select(Slot.public_id).where(Slot.starts_at == starts)).scalars().all() == ["drv-3"]


def test_a_failed_follow_up_after_commit_is_logged_and_the_change_stays(any_app, caplog):
    starts = datetime(2027, 3, 11, 16, 0, tzinfo=UTC)
    with any_app.app_context():
        broken = DriverStatement(select(Slot.id).where(Slot.id == bindparam("missing")))
        with caplog.at_level(logging.WARNING, logger="app.driver_writes"), \
                driver_transaction() as transaction:
            transaction.scalar(INSERT_SLOT, slot_values("drv-4", starts))
            transaction.after_commit(broken)  # needs a parameter it will not get
        assert "follow-up statement failed" in caplog.text
        assert db.session.execute(select(Slot.public_id).where(Slot.starts_at == starts)).scalar() == "drv-4"


def test_a_booking_bumps_the_calendar_version_and_queues_its_mail_atomically(any_app):
    with any_app.app_context():
        slot = make_slot()
        before = calendar_version.current()
        result = make_booking(slot)
        assert calendar_version.current() == before + 1
        booking = db.session.execute(select(Booking)).scalar_one()
        assert booking.public_id == result.booking.public_id and booking.slot_id == result.booking.slot.id
        kinds = db.session.execute(select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking.id)
                                   ).scalars().all()
        assert sorted(kinds) == ["confirmation", "reminder", "staff_notice"]


def test_the_booking_slot_check_writes_the_status_into_its_sql():
    """A bound status there would let SQLite weigh the partial index uq_booking_active_slot
    against each execution's value, so it would plan the statement afresh every time (29 us
    against 6 us measured); the status is written in instead, for every database."""
    from sqlalchemy.dialects import postgresql, sqlite

    from app.booking.service import _SLOT_FOR_BOOKING

    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        compiled = _SLOT_FOR_BOOKING.compiled(dialect)
        assert compiled.sql.count("booking.status = 'confirmed'") == 2
        assert {key for key, *_ in compiled.binds} == {"email", "now", "public_id"}


@pytest.mark.parametrize("instant", [
    datetime(2027, 3, 8, 16, 0, tzinfo=UTC),  # no microseconds: still written out
    datetime(2026, 11, 25, 8, 40, 1, 7, tzinfo=UTC),
    datetime(2026, 7, 4, 18, 30, 59, 999999, tzinfo=timezone(timedelta(hours=-6))),  # Denver summer
    datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),  # a short year is zero-padded
])
def test_sqlite_stores_instants_as_text_in_sqlalchemys_own_format(instant):
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.types import TypeDecorator

    dialect = sqlite.dialect()
    column_type = Slot.__table__.c.starts_at.type.dialect_impl(dialect)
    generic = TypeDecorator.bind_processor(column_type, dialect)  # convert, then SQLite DATETIME
    stored = column_type.bind_processor(dialect)(instant)
    assert stored == generic(instant)
    assert stored == instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f").rjust(26, "0")
    assert column_type.bind_processor(dialect)(None) is None
    with pytest.raises(ValueError, match="naive"):
        column_type.bind_processor(dialect)(instant.replace(tzinfo=None))
