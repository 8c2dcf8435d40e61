"""Migrations: an empty SQLite file and an empty PostgreSQL schema upgrade to head, and the
models agree with the migrations (nothing left for autogenerate to find)."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.core.extensions import db
from tests.conftest import _overrides


def test_upgrade_empty_database_to_head_and_models_match(empty_database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = create_app(_overrides(empty_database_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert "alembic_version" in tables
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                },
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], differences
        db.session.remove()
        db.engine.dispose()


def index_names(connection, *tables: str) -> set[str]:
    """Every index on these tables, expression indexes included (SQLAlchemy's inspector
    leaves those out on SQLite)."""
    from sqlalchemy import bindparam, text

    if connection.dialect.name == "sqlite":
        query = text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN :tables")
    else:
        query = text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN :tables")
    return set(
        connection.execute(query.bindparams(bindparam("tables", expanding=True)), {"tables": list(tables)}).scalars()
    )


def test_table_rebuilds_keep_every_row_and_index_and_0006_restores_the_unique_ids(empty_database_url):
    """0005 and 0006 rebuild booking and outbox_message on SQLite (foreign keys off, checked
    before the commit): bookings, their mail and audit rows survive with their references,
    the indexes come back as the models declare them, and the double-booking guard still
    holds. 0006 makes UIDs and Message-IDs unique again and drops the calendar version."""
    from flask_migrate import downgrade
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    app = create_app(_overrides(empty_database_url))
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO slot (id, public_id, starts_at, ends_at, modes, is_blocked, source, created_at) "
                    "VALUES (1, 's1', '2027-01-05 16:00:00.000000', '2027-01-05 16:30:00.000000', 'phone', "
                    "false, 'manual', '2026-11-25 10:00:00.000000')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO booking (id, public_id, slot_id, status, mode, name, email, phone, interest, "
                    "note, consent_at, manage_token_hash, ical_uid, ical_sequence, created_at, updated_at, "
                    "staff_notes) VALUES (7, 'b7', 1, 'confirmed', 'phone', 'Ada', 'Ada@Example.com', "
                    "'+19705550123', 'tms', '', '2026-11-25 10:00:00.000000', :hash, 'old-uid@example', 0, "
                    "'2026-11-25 10:00:00.000000', '2026-11-25 10:00:00.000000', '')"
                ),
                {"hash": "a" * 64},
            )
            connection.execute(
                text(
                    "INSERT INTO outbox_message (id, message_id, kind, booking_id, to_address, to_name, event, "
                    "subject, body_text, body_html, status, attempts, next_attempt_at, last_error, created_at) "
                    "VALUES (3, '<m.1@example>', 'confirmation', 7, 'ada@example.com', 'Ada', '{}', '', '', '', "
                    "'pending', 0, '2026-11-25 10:00:00.000000', '', '2026-11-25 10:00:00.000000')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO audit_log (actor_email, booking_id, action, details, at) "
                    "VALUES ('', 7, 'booking.view', '', '2026-11-25 10:00:00.000000')"
                )
            )
        upgrade(revision="0005")

        with db.engine.connect() as connection:
            booking = connection.execute(text("SELECT id, slot_id, email, ical_uid FROM booking")).one()
            assert tuple(booking) == (7, 1, "Ada@Example.com", "old-uid@example")
            assert connection.execute(text("SELECT booking_id, message_id FROM outbox_message")).one() == (
                7,
                "<m.1@example>",
            )
            assert connection.execute(text("SELECT booking_id FROM audit_log")).scalar_one() == 7
            indexes = index_names(connection, "booking", "outbox_message")
            uniques = {
                u["name"]
                for table in ("booking", "outbox_message")
                for u in inspect(connection).get_unique_constraints(table)
            }
        assert {
            "ix_booking_slot_id",
            "uq_booking_active_slot",
            "ix_booking_email_lower_status",
            "ix_outbox_message_due",
            "ix_outbox_message_booking_id_status",
        } <= set(indexes)
        assert uniques == {"uq_booking_public_id", "uq_booking_manage_token_hash"}
        # The partial unique index still refuses a second confirmed booking of the slot.
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO booking (public_id, slot_id, status, mode, name, email, phone, interest, "
                    "note, consent_at, manage_token_hash, ical_uid, ical_sequence, created_at, updated_at, "
                    "staff_notes) VALUES ('b8', 1, 'confirmed', 'phone', 'Bo', 'bo@example.com', "
                    "'+19705550123', 'tms', '', '2026-11-25 10:00:00.000000', :hash, 'b8@example', 0, "
                    "'2026-11-25 10:00:00.000000', '2026-11-25 10:00:00.000000', '')"
                ),
                {"hash": "b" * 64},
            )
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as connection:  # the app's connections enforce references again
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

        upgrade(revision="0006")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT id, ical_uid FROM booking")).one() == (7, "old-uid@example")
            assert connection.execute(text("SELECT count(*) FROM outbox_message")).scalar() == 1
            assert connection.execute(text("SELECT booking_id FROM audit_log")).scalar_one() == 7
            uniques = {
                u["name"]
                for table in ("booking", "outbox_message")
                for u in inspect(connection).get_unique_constraints(table)
            }
            assert "calendar_state" not in inspect(connection).get_table_names()
            assert {"uq_booking_active_slot", "ix_booking_email_lower_status"} <= index_names(connection, "booking")
        assert {"uq_booking_ical_uid", "uq_outbox_message_message_id"} <= uniques
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO booking (public_id, slot_id, status, mode, name, email, phone, interest, "
                    "note, consent_at, manage_token_hash, ical_uid, ical_sequence, created_at, updated_at, "
                    "staff_notes) VALUES ('b9', 1, 'cancelled', 'phone', 'Bo', 'bo@example.com', "
                    "'+19705550123', 'tms', '', '2026-11-25 10:00:00.000000', :hash, 'old-uid@example', 0, "
                    "'2026-11-25 10:00:00.000000', '2026-11-25 10:00:00.000000', '')"
                ),
                {"hash": "c" * 64},
            )
        downgrade(revision="0004")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM outbox_message")).scalar() == 1
            uniques = {u["name"] for u in inspect(connection).get_unique_constraints("booking")}
        assert "uq_booking_ical_uid" in uniques
        db.session.remove()
        db.engine.dispose()


def test_0007_adds_staff_sessions_and_drops_session_version_keeping_accounts(empty_database_url):
    """0007 rebuilds staff_user on SQLite to drop session_version: accounts and the audit
    rows naming them survive; the downgrade brings the column back (version 1)."""
    from flask_migrate import downgrade
    from sqlalchemy import text

    app = create_app(_overrides(empty_database_url))
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO staff_user (id, email, name, role, password_hash, is_active, session_version, "
                    "created_at) VALUES (4, 'sam@example.com', 'Sam', 'staff', 'x', true, 7, "
                    "'2026-11-25 10:00:00.000000')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO audit_log (actor_id, actor_email, action, details, at) "
                    "VALUES (4, 'sam@example.com', 'sign_in', '', '2026-11-25 10:00:00.000000')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("staff_user")}
            assert "session_version" not in columns
            assert (
                connection.execute(text("SELECT email FROM staff_user WHERE id = 4")).scalar_one() == "sam@example.com"
            )
            assert connection.execute(text("SELECT actor_id FROM audit_log")).scalar_one() == 4
            assert "ix_staff_session_staff_user_id" in index_names(connection, "staff_session")
        with pytest.raises(IntegrityError), db.engine.begin() as connection:  # sessions of real accounts only
            connection.execute(
                text(
                    "INSERT INTO staff_session (token_hash, staff_user_id, created_at, last_seen_at) "
                    "VALUES (:hash, 99, '2026-11-25 10:00:00.000000', '2026-11-25 10:00:00.000000')"
                ),
                {"hash": "c" * 64},
            )
        downgrade(revision="0006")
        with db.engine.connect() as connection:
            assert "staff_session" not in inspect(connection).get_table_names()
            assert connection.execute(text("SELECT session_version FROM staff_user")).scalar_one() == 1


def test_0010_gives_existing_bookings_unique_references(empty_database_url):
    """0010 adds `reference` and `cancel_reason`, fills a distinct Crockford reference into
    every existing booking, then makes it NOT NULL and unique, keeping the special indexes."""
    import re

    from flask_migrate import downgrade
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    app = create_app(_overrides(empty_database_url))
    insert = (
        "INSERT INTO booking (id, public_id, slot_id, status, mode, name, email, phone, interest, "
        "note, consent_at, manage_token_hash, ical_uid, ical_sequence, created_at, updated_at, "
        "staff_notes) VALUES (:id, :pid, :slot, :status, 'phone', 'Ada', 'ada@example.com', "
        "'+19705550123', 'tms', '', '2026-11-25 10:00:00.000000', :hash, :uid, 0, "
        "'2026-11-25 10:00:00.000000', '2026-11-25 10:00:00.000000', '')"
    )
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            for slot in (1, 2, 3):
                connection.execute(
                    text(
                        "INSERT INTO slot (id, public_id, starts_at, ends_at, modes, is_blocked, source, created_at) "
                        f"VALUES ({slot}, 's{slot}', '2027-01-0{slot} 16:00:00.000000', "
                        f"'2027-01-0{slot} 16:30:00.000000', "
                        "'phone', false, 'manual', '2026-11-25 10:00:00.000000')"
                    )
                )
                connection.execute(
                    text(insert),
                    {
                        "id": slot,
                        "pid": f"b{slot}",
                        "slot": slot,
                        "status": "confirmed",
                        "hash": str(slot) * 64,
                        "uid": f"u{slot}@example",
                    },
                )
        upgrade(revision="0010")
        with db.engine.connect() as connection:
            references = connection.execute(text("SELECT reference FROM booking ORDER BY id")).scalars().all()
            columns = {c["name"]: c for c in inspect(connection).get_columns("booking")}
            uniques = {u["name"] for u in inspect(connection).get_unique_constraints("booking")}
            indexes = index_names(connection, "booking")
        assert len(set(references)) == 3
        assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", r) for r in references), references
        assert columns["reference"]["nullable"] is False and columns["cancel_reason"]["nullable"] is True
        assert "uq_booking_reference" in uniques
        assert {"uq_booking_active_slot", "ix_booking_email_lower_status", "ix_booking_slot_id"} <= indexes
        with pytest.raises(IntegrityError), db.engine.begin() as connection:
            connection.execute(text("UPDATE booking SET reference = :r WHERE id = 2"), {"r": references[0]})
        with pytest.raises(IntegrityError), db.engine.begin() as connection:  # still one confirmed per slot
            connection.execute(
                text(insert),
                {"id": 9, "pid": "b9", "slot": 1, "status": "confirmed", "hash": "9" * 64, "uid": "u9@example"},
            )
        downgrade(revision="0009")
        with db.engine.connect() as connection:
            assert "reference" not in {c["name"] for c in inspect(connection).get_columns("booking")}
            assert connection.execute(text("SELECT count(*) FROM booking")).scalar() == 3
        db.session.remove()
        db.engine.dispose()
