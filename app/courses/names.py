"""What integrations name things by, as the course service's ids: templates by key, chairs by
name, the consultation a course comes from by its reference."""

from __future__ import annotations

from sqlalchemy import select

from app.booking import service as booking_service
from app.core.extensions import db
from app.courses.errors import ChairNotFound, InvalidCourseInput, TemplateNotFound
from app.models import Chair, CourseTemplate


def active_templates() -> list[CourseTemplate]:
    return list(db.session.execute(
        select(CourseTemplate).where(CourseTemplate.is_active.is_(True)).order_by(CourseTemplate.name)
    ).scalars())


def template_id(key: str) -> int:
    found = db.session.execute(select(CourseTemplate.id).where(CourseTemplate.key == key,
                                                               CourseTemplate.is_active.is_(True))).scalar()
    if found is None:
        raise TemplateNotFound()
    return found


def chair_id(name: str) -> int:
    found = db.session.execute(select(Chair.id).where(Chair.name == name, Chair.is_active.is_(True))).scalar()
    if found is None:
        raise ChairNotFound()
    return found


def chair_names() -> dict[int, str]:
    return {chair_id: name for chair_id, name in db.session.execute(select(Chair.id, Chair.name))}


def booking_id(reference: str) -> int:
    """The consultation's row id, by the reference patients quote (K7Q4-92MP)."""
    booking = booking_service.find_by_reference(reference)
    if booking is None:
        raise InvalidCourseInput("No consultation has that reference.", field="booking")
    return booking.id
