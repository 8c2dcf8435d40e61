"""What integrations name things by, as the course service's ids: templates by key, chairs by
name, the consultation a course comes from by its reference."""

from __future__ import annotations

from app.booking import service as booking_service
from app.courses.errors import ChairNotFound, InvalidCourseInput, TemplateNotFound
from app.courses.templates import templates
from app.schedule.resources import chairs


def template_id(key: str) -> int:
    found = next((template.id for template in templates(active_only=True) if template.key == key), None)
    if found is None:
        raise TemplateNotFound()
    return found


def chair_id(name: str) -> int:
    found = next((chair.id for chair in chairs(active_only=True) if chair.name == name), None)
    if found is None:
        raise ChairNotFound()
    return found


def chair_names() -> dict[int, str]:
    return {chair.id: chair.name for chair in chairs()}


def booking_id(reference: str) -> int:
    """The consultation's row id, by the reference patients quote (K7Q4-92MP)."""
    booking = booking_service.find_by_reference(reference)
    if booking is None:
        raise InvalidCourseInput("No consultation has that reference.", field="booking")
    return booking.id
