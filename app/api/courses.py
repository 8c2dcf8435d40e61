"""Treatment courses for staff integrations (an EHR, a script), with a personal API token:
course templates, planning a course, reading it, moving a session, recording attendance."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from app.api import bp
from app.api.auth import staff_token_required
from app.core.extensions import db
from app.models import CourseTemplate


def template_json(template: CourseTemplate) -> dict:
    return {"id": template.key, "name": template.name, "description": template.description,
            "sessions": template.session_count, "phases": template.phases,
            "first_session_minutes": template.first_type.minutes,
            "session_minutes": template.session_type.minutes}


@bp.get("/course-templates")
@staff_token_required
def list_course_templates():
    templates = db.session.execute(
        select(CourseTemplate).where(CourseTemplate.is_active.is_(True)).order_by(CourseTemplate.name)
    ).scalars()
    return jsonify(templates=[template_json(template) for template in templates])
