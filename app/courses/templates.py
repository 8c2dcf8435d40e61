"""Course templates: the shapes of course admins keep (first session, other sessions, cadence).
A template in use is deactivated, never deleted, so planned courses keep theirs."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.courses.errors import InvalidCourseInput
from app.courses.planning import phases_from
from app.models import AppointmentType, CourseTemplate
from app.models.staff import StaffUser


@dataclass(frozen=True)
class TemplateInput:
    key: str
    name: str
    description: str
    first_type_id: int
    session_type_id: int
    cadence: list[dict[str, int]]
    is_active: bool = True


def templates(active_only: bool = False) -> list[CourseTemplate]:
    query = select(CourseTemplate).order_by(CourseTemplate.id)
    if active_only:
        query = query.where(CourseTemplate.is_active.is_(True))
    return list(db.session.execute(query).scalars())


def save_template(values: TemplateInput, actor: StaffUser | None, template_id: int | None = None) -> CourseTemplate:
    """Add a template, or change one (`template_id`). Planned courses keep their sessions."""
    name = " ".join(values.name.split())
    if not name:
        raise InvalidCourseInput("Enter the name.", field="name")
    try:
        phases_from(values.cadence)
    except (ValueError, KeyError):
        raise InvalidCourseInput("Write each phase as weeks x sessions a week, e.g. 6x5.", field="cadence") from None
    try:
        with write_transaction() as session:
            for field, type_id in (("first_type", values.first_type_id), ("session_type", values.session_type_id)):
                kind = session.get(AppointmentType, type_id)
                if kind is None or not kind.needs_chair:
                    raise InvalidCourseInput("Choose an appointment type that uses a chair.", field=field)
            template = session.get(CourseTemplate, template_id) if template_id is not None else CourseTemplate()
            if template is None:
                raise InvalidCourseInput("That template no longer exists.")
            template.key, template.name, template.description = values.key, name, values.description.strip()
            template.first_type_id, template.session_type_id = values.first_type_id, values.session_type_id
            template.cadence, template.is_active = json.dumps(values.cadence), values.is_active
            session.add(template)
            session.flush()
            audit.record(
                session,
                actor,
                "course_template.save",
                details=f"template {template.id}: {name}, {template.session_count} sessions",
            )
    except IntegrityError:
        raise InvalidCourseInput("Another template has that short name.", field="key") from None
    return template
