"""Migrations: an empty SQLite file and an empty PostgreSQL schema upgrade to head, and the
models agree with the migrations (nothing left for autogenerate to find)."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from tests.conftest import _overrides


def test_upgrade_empty_database_to_head_and_models_match(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = create_app(_overrides(database_url))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert "alembic_version" in tables
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "render_as_batch": True,
            })
            differences = compare_metadata(context, db.metadata)
        assert differences == [], differences
        db.session.remove()
        db.engine.dispose()


def test_postgresql_calendar_version_carries_on_from_the_row_and_back(postgres_url):
    from flask_migrate import downgrade
    from sqlalchemy import text

    from app.booking import calendar_version

    app = create_app(_overrides(postgres_url))
    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE calendar_state SET version = 41 WHERE id = 1"))
        upgrade()
        assert calendar_version.current() == 42  # never lower than the row's last version
        calendar_version.bump(db.engine)
        assert calendar_version.current() == 43
        downgrade(revision="0002")
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT version FROM calendar_state")).scalar() == 44
            assert connection.execute(text(
                "SELECT count(*) FROM pg_class WHERE relname = 'calendar_version_seq' "
                "AND relnamespace = current_schema()::regnamespace")).scalar() == 0
        db.session.remove()
        db.engine.dispose()
