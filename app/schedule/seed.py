"""The chairs, appointment types and course templates a new clinic starts with.

Migration 0018 writes the same rows into a production database (as literal data, so the
migration never changes when this file does); tests and `db.create_all()` databases get them
from `seed_schedule`. tests/test_schedule_seed.py checks the two agree.
"""

from __future__ import annotations

import json
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AppointmentType, Chair, CourseTemplate


class ChairSeed(TypedDict):
    name: str
    position: int


class AppointmentTypeSeed(TypedDict):
    key: str
    name: str
    minutes: int
    needs_chair: bool


class CadenceStep(TypedDict):
    weeks: int
    per_week: int


class CourseTemplateSeed(TypedDict):
    """A template; `first` and `session` are appointment type keys."""

    key: str
    name: str
    description: str
    first: str
    session: str
    cadence: list[CadenceStep]


CHAIRS: list[ChairSeed] = [{"name": "Chair 1", "position": 1}, {"name": "Chair 2", "position": 2}]

# Lengths from the clinic's own description: a treatment lasts about 3-37 minutes by
# protocol, the first session up to about 1.5 hours (measuring, motor threshold, treatment).
APPOINTMENT_TYPES: list[AppointmentTypeSeed] = [
    {"key": "consultation", "name": "Consultation", "minutes": 30, "needs_chair": False},
    {"key": "first_session", "name": "First treatment session (mapping)", "minutes": 90, "needs_chair": True},
    {"key": "session", "name": "Treatment session", "minutes": 40, "needs_chair": True},
    {"key": "itbs_session", "name": "iTBS session", "minutes": 10, "needs_chair": True},
    {"key": "follow_up", "name": "Follow-up", "minutes": 30, "needs_chair": False},
]

COURSE_TEMPLATES: list[CourseTemplateSeed] = [
    {
        "key": "rtms_36",
        "name": "Standard rTMS, 36 sessions",
        "description": "30 weekday sessions over six weeks, then a taper of 3, 2 and 1 a week.",
        "first": "first_session",
        "session": "session",
        "cadence": [
            {"weeks": 6, "per_week": 5},
            {"weeks": 1, "per_week": 3},
            {"weeks": 1, "per_week": 2},
            {"weeks": 1, "per_week": 1},
        ],
    },
    {
        "key": "itbs_30",
        "name": "iTBS, 30 sessions",
        "description": "30 short weekday sessions over six weeks.",
        "first": "first_session",
        "session": "itbs_session",
        "cadence": [{"weeks": 6, "per_week": 5}],
    },
    {
        "key": "maintenance_6",
        "name": "Maintenance, weekly x 6",
        "description": "One session a week for six weeks.",
        "first": "session",
        "session": "session",
        "cadence": [{"weeks": 6, "per_week": 1}],
    },
    {
        "key": "rtms_36_three_a_week",
        "name": "rTMS 36, three days a week",
        "description": "36 sessions on Monday, Wednesday and Friday over twelve weeks.",
        "first": "first_session",
        "session": "session",
        "cadence": [{"weeks": 12, "per_week": 3}],
    },
]


def seed_schedule(session: Session) -> None:
    """Add any seeded chair, appointment type or template that is missing (by name or key),
    in the caller's transaction; rows staff changed are left as they are."""
    chairs = set(session.execute(select(Chair.name)).scalars())
    for chair in CHAIRS:
        if chair["name"] not in chairs:
            session.add(Chair(**chair))
    types = {t.key: t for t in session.execute(select(AppointmentType)).scalars()}
    for kind in APPOINTMENT_TYPES:
        if kind["key"] not in types:
            types[kind["key"]] = AppointmentType(**kind)
            session.add(types[kind["key"]])
    session.flush()
    templates = set(session.execute(select(CourseTemplate.key)).scalars())
    for template in COURSE_TEMPLATES:
        if template["key"] not in templates:
            session.add(
                CourseTemplate(
                    key=template["key"],
                    name=template["name"],
                    description=template["description"],
                    first_type_id=types[template["first"]].id,
                    session_type_id=types[template["session"]].id,
                    cadence=json.dumps(template["cadence"]),
                )
            )
