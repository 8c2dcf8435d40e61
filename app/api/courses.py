"""Treatment courses for staff integrations (an EHR, a script), with a personal API token:
course templates, planning a course, reading it, moving a session, recording attendance.
Each route parses, calls one function of app.courses.service, and answers the course."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time

from flask import abort, current_app, jsonify

from app.api import bp
from app.api.auth import api_user, staff_token_required
from app.api.common import checked_body, error_extra, invalid_fields, iso
from app.booking import validation
from app.core.timefmt import clinic_zone, parse_day
from app.courses import names, service
from app.courses.errors import CourseNotFound, NoFreeTime, PlanClash
from app.courses.planning import PlannedSession
from app.courses.templates import templates
from app.models import Course, CourseTemplate
from app.models.schedule import CELL_MINUTES
from app.schedule.errors import ChairTaken
from app.schedule.free import free_times

# How many other times a refused move offers.
MOVE_PROPOSALS = 5


def template_json(template: CourseTemplate) -> dict:
    return {
        "id": template.key,
        "name": template.name,
        "description": template.description,
        "sessions": template.session_count,
        "phases": template.phases,
        "first_session_minutes": template.first_type.minutes,
        "session_minutes": template.session_type.minutes,
    }


def course_json(course: Course) -> dict:
    return {
        "id": course.public_id,
        "status": course.status,
        "template": course.template.key,
        "name": course.name,
        "email": course.email,
        "phone": course.phone,
        "locale": course.locale,
        "sessions": [
            {
                "number": item.number,
                "start": iso(item.starts_at),
                "end": iso(item.ends_at),
                "chair": item.chair.name,
                "status": item.status,
                "past_authorisation": service.is_past_authorisation(course, item),
            }
            for item in sorted(course.sessions, key=lambda item: item.starts_at)
        ],
    }


def _proposal_json(planned: PlannedSession, chairs: dict[int, str]) -> dict:
    return {
        "number": planned.number,
        "start": iso(planned.starts_at),
        "end": iso(planned.ends_at),
        "chair": chairs.get(planned.chair_id),
    }


@error_extra(PlanClash)
def _clash(error: PlanClash) -> dict:
    chairs = names.chair_names()
    return {
        "clash": {
            "number": error.number,
            "start": iso(error.starts_at),
            "end": iso(error.ends_at),
            "chair": chairs.get(error.chair_id),
        },
        "proposals": [_proposal_json(planned, chairs) for planned in error.proposals],
    }


@error_extra(ChairTaken)
def _chair_taken(error: ChairTaken) -> dict:
    """A move onto held chair time: the clash, and the nearest free starts that day on any chair
    (the moved session's own time still counts as held: it is where the session already is)."""
    chairs = names.chair_names()
    length = error.ends_at - error.starts_at
    day = error.starts_at.astimezone(clinic_zone()).date()
    nearest = sorted(
        free_times(day, int(length.total_seconds() // 60)), key=lambda found: abs(found[0] - error.starts_at)
    )[:MOVE_PROPOSALS]
    return {
        "clash": {"start": iso(error.starts_at), "end": iso(error.ends_at), "chair": chairs.get(error.chair_id)},
        "proposals": [
            {"start": iso(start), "end": iso(start + length), "chair": chairs.get(chair_id)}
            for start, chair_id in sorted(nearest)
        ],
    }


@error_extra(NoFreeTime)
def _no_free_time(error: NoFreeTime) -> dict:
    return {"clash": {"number": error.number}, "proposals": []}


def _course(course_id: str) -> Course:
    course = service.find_course(course_id)
    if course is None:
        raise CourseNotFound()
    return course


@bp.get("/course-templates")
@staff_token_required
def list_course_templates():
    return jsonify(templates=[template_json(template) for template in templates(active_only=True)])


def _patient(raw: dict) -> tuple[service.PatientDetails | None, dict[str, str]]:
    """The patient's details by the booking form's rules (phone stored as E.164, email
    optional: a caller may have none), or what to fix, by field."""
    errors: dict[str, str] = {}
    checks: dict[str, Callable[[str], str | None]] = {
        "name": validation.person_name,
        "email": validation.optional_email_address,
        "phone": lambda value: validation.phone_number(value, current_app.config["PHONE_DEFAULT_REGION"]),
    }
    clean: dict[str, str | None] = {}
    for field, check in checks.items():
        try:
            clean[field] = check(raw.get(field) or "")
        except validation.Invalid as error:
            errors[f"patient.{field}"] = str(error)
    if errors:
        return None, errors
    return service.PatientDetails(
        name=clean["name"] or "", email=clean["email"], phone=clean["phone"] or "", locale=raw.get("locale", "en")
    ), {}


@bp.post("/courses")
@staff_token_required
def plan_course():
    body = checked_body("CourseRequest")
    patient, errors = _patient(body["patient"])
    if errors:
        return invalid_fields(errors)
    hours, minutes = (int(part) for part in body["time"].split(":"))
    request = service.PlanRequest(
        template_id=names.template_id(body["template"]),
        start=parse_day(body["start"]),
        preferred_time=time(hours, minutes),
        chair_id=names.chair_id(body["chair"]) if "chair" in body else None,
        self_pay=body.get("self_pay", False),
        authorised_sessions=body.get("authorised_sessions"),
        authorised_until=parse_day(body["authorised_until"]) if body.get("authorised_until") else None,
    )
    booking_id = names.booking_id(body["booking"]) if "booking" in body else None
    course = service.plan_course(patient, request, booking_id=booking_id, actor=api_user())
    return jsonify(course=course_json(_course(course.public_id))), 201


@bp.get("/courses/<course_id>")
@staff_token_required
def show_course(course_id: str):
    return jsonify(course=course_json(_course(course_id)))


def _instant(text: str) -> datetime:
    """A new start as the document writes it (ISO 8601 with its offset), on the five-minute
    grid chair time is held in; a 422 at `start` otherwise."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        abort(invalid_fields({"start": "start is not written the right way."}))
    if instant.tzinfo is None or instant.astimezone(UTC).minute % CELL_MINUTES or instant.second or instant.microsecond:
        abort(invalid_fields({"start": f"start must fall on a {CELL_MINUTES}-minute mark, with its UTC offset."}))
    return instant


@bp.patch("/courses/<course_id>/sessions/<int:number>")
@staff_token_required
def move_course_session(course_id: str, number: int):
    body = checked_body("SessionMove")
    starts_at = _instant(body["start"])
    service.move_session(
        course_id,
        number,
        starts_at,
        chair_id=names.chair_id(body["chair"]) if "chair" in body else None,
        later_too=body.get("later", False),
        actor=api_user(),
    )
    return jsonify(course=course_json(_course(course_id)))


@bp.post("/courses/<course_id>/sessions/<int:number>/attendance")
@staff_token_required
def record_attendance(course_id: str, number: int):
    body = checked_body("Attendance")
    service.record_attendance(course_id, number, body["status"], actor=api_user())
    return jsonify(course=course_json(_course(course_id)))
