"""The starting chairs, appointment types and course templates: migration 0018 writes the
same rows as `seed_schedule` (the one tests and create_all databases use), on both databases."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.core.extensions import db
from app.models import AppointmentType, Chair, CourseTemplate
from app.schedule.seed import APPOINTMENT_TYPES, CHAIRS, COURSE_TEMPLATES
from tests.conftest import _overrides

EXPECTED = {
    "chairs": sorted((c["name"], c["position"], True) for c in CHAIRS),
    "types": sorted((t["key"], t["name"], t["minutes"], t["needs_chair"]) for t in APPOINTMENT_TYPES),
    "templates": sorted(
        (
            t["key"],
            t["name"],
            t["description"],
            t["first"],
            t["session"],
            tuple((p["weeks"], p["per_week"]) for p in t["cadence"]),
        )
        for t in COURSE_TEMPLATES
    ),
}


def _rows() -> dict:
    types = {t.id: t.key for t in db.session.execute(select(AppointmentType)).scalars()}
    return {
        "chairs": sorted((c.name, c.position, c.is_active) for c in db.session.execute(select(Chair)).scalars()),
        "types": sorted(
            (t.key, t.name, t.minutes, t.needs_chair) for t in db.session.execute(select(AppointmentType)).scalars()
        ),
        "templates": sorted(
            (
                t.key,
                t.name,
                t.description,
                types[t.first_type_id],
                types[t.session_type_id],
                tuple((p["weeks"], p["per_week"]) for p in t.phases),
            )
            for t in db.session.execute(select(CourseTemplate)).scalars()
        ),
    }


def test_migrations_write_the_seed_rows(empty_database_url):
    app = create_app(_overrides(empty_database_url))
    with app.app_context():
        upgrade()
        assert _rows() == EXPECTED
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(any_app):
    return any_app


def test_create_all_databases_get_the_same_rows_from_seed_schedule(app):
    with app.app_context():
        assert _rows() == EXPECTED


def test_seeded_templates_have_the_sessions_the_clinic_plans():
    counts = {t["key"]: sum(p["weeks"] * p["per_week"] for p in t["cadence"]) for t in COURSE_TEMPLATES}
    assert counts == {"rtms_36": 36, "itbs_30": 30, "maintenance_6": 6, "rtms_36_three_a_week": 36}
