"""Helpers for course tests: weekday opening hours, the seeded template ids, and the check
that no two planned sessions share a chair's time."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from app.core.database import write_transaction
from app.core.extensions import db
from app.models import AvailabilityRule, ChairHold, CourseSession, CourseTemplate
from app.models.schedule import SESSION_CANCELLED, SESSION_PLANNED
from app.schedule.clinic_time import clinic_today


def open_weekdays(start: time = time(9), end: time = time(17)) -> None:
    with write_transaction() as session:
        for weekday in range(5):
            session.add(AvailabilityRule(weekday=weekday, start_time=start, end_time=end))


def template_id(key: str = "rtms_36") -> int:
    return db.session.execute(select(CourseTemplate.id).where(CourseTemplate.key == key)).scalar_one()


def next_monday(weeks_ahead: int = 1) -> date:
    today = clinic_today()
    return today + timedelta(days=7 - today.weekday()) + timedelta(weeks=weeks_ahead - 1)


def overlapping_sessions() -> list:
    """Pairs of planned sessions on one chair whose times overlap (there must be none)."""
    a, b = aliased(CourseSession), aliased(CourseSession)
    return db.session.execute(
        select(a.id, b.id).where(
            a.chair_id == b.chair_id,
            a.id < b.id,
            a.status == SESSION_PLANNED,
            b.status == SESSION_PLANNED,
            and_(a.starts_at < b.ends_at, b.starts_at < a.ends_at),
        )
    ).all()


def holds_match_sessions() -> bool:
    """Every session not cancelled holds exactly its cells (attended and missed ones keep
    theirs), and nothing else is held."""
    held = db.session.execute(select(func.count(ChairHold.id))).scalar_one()
    planned = db.session.execute(select(CourseSession).where(CourseSession.status != SESSION_CANCELLED)).scalars()
    expected = sum(int((s.ends_at - s.starts_at).total_seconds() // 300) for s in planned)
    return held == expected
