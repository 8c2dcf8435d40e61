"""Admin pages for the schedule's resources: treatment chairs, appointment types and course
templates (a list, and one add/edit form each; "In use" unticked deactivates)."""

from __future__ import annotations

import json

from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from app.core.errors import DomainError
from app.core.extensions import db
from app.courses import templates as course_templates
from app.courses.forms import (
    AppointmentTypeForm,
    ChairForm,
    TemplateForm,
    cadence_text,
    parse_cadence,
    validated,
)
from app.models import AppointmentType, Chair, CourseTemplate
from app.schedule import resources
from app.staff.auth import admin_required
from app.staff.views import bp, flash_done

KINDS = {"chairs": "chair", "types": "appointment type", "templates": "course template"}


@bp.get("/schedule")
@admin_required
def schedule_admin():
    return render_template(
        "staff/schedule_admin.html",
        chairs=resources.chairs(),
        types=resources.appointment_types(),
        templates=course_templates.templates(),
        cadence_text=lambda t: cadence_text(json.loads(t.cadence)),
    )


def _edit_page(kind: str, form, item_id: int | None, status: int):
    return render_template("staff/schedule_edit.html", kind=kind, label=KINDS[kind], form=form, item_id=item_id), status


def _show(form, error: DomainError) -> None:
    target = form[error.field] if error.field and error.field in form else form.name
    target.errors = [*target.errors, error.message]


@bp.route("/schedule/chairs/new", methods=["GET", "POST"])
@admin_required
def new_chair():
    return _edit_chair(None)


@bp.route("/schedule/chairs/<int:item_id>", methods=["GET", "POST"])
@admin_required
def edit_chair(item_id: int):
    return _edit_chair(item_id)


def _edit_chair(item_id: int | None):
    chair = db.session.get(Chair, item_id) if item_id is not None else None
    if item_id is not None and chair is None:
        abort(404)
    form = ChairForm(obj=chair)
    if form.validate_on_submit():
        try:
            saved = resources.save_chair(
                resources.ChairInput(validated(form.name.data), validated(form.position.data), form.is_active.data),
                current_user,
                item_id,
            )
        except DomainError as error:
            _show(form, error)
        else:
            flash_done(f"Saved {saved.name}.")
            return redirect(url_for("staff.schedule_admin"), code=303)
    return _edit_page("chairs", form, item_id, 422 if form.is_submitted() else 200)


@bp.route("/schedule/types/new", methods=["GET", "POST"])
@admin_required
def new_appointment_type():
    return _edit_appointment_type(None)


@bp.route("/schedule/types/<int:item_id>", methods=["GET", "POST"])
@admin_required
def edit_appointment_type(item_id: int):
    return _edit_appointment_type(item_id)


def _edit_appointment_type(item_id: int | None):
    kind = db.session.get(AppointmentType, item_id) if item_id is not None else None
    if item_id is not None and kind is None:
        abort(404)
    form = AppointmentTypeForm(obj=kind)
    if form.validate_on_submit():
        try:
            saved = resources.save_type(
                resources.TypeInput(
                    validated(form.key.data),
                    validated(form.name.data),
                    validated(form.minutes.data),
                    form.needs_chair.data,
                    form.is_active.data,
                ),
                current_user,
                item_id,
            )
        except DomainError as error:
            _show(form, error)
        else:
            flash_done(f"Saved {saved.name}.")
            return redirect(url_for("staff.schedule_admin"), code=303)
    return _edit_page("types", form, item_id, 422 if form.is_submitted() else 200)


@bp.route("/schedule/templates/new", methods=["GET", "POST"])
@admin_required
def new_course_template():
    return _edit_course_template(None)


@bp.route("/schedule/templates/<int:item_id>", methods=["GET", "POST"])
@admin_required
def edit_course_template(item_id: int):
    return _edit_course_template(item_id)


def _edit_course_template(item_id: int | None):
    template = db.session.get(CourseTemplate, item_id) if item_id is not None else None
    if item_id is not None and template is None:
        abort(404)
    form = TemplateForm(obj=template)
    chair_types = [(t.id, f"{t.name} ({t.minutes} min)") for t in resources.appointment_types() if t.needs_chair]
    form.first_type.choices = form.session_type.choices = chair_types
    if template is not None and not form.is_submitted():
        form.first_type.data, form.session_type.data = template.first_type_id, template.session_type_id
        form.cadence.data = cadence_text(json.loads(template.cadence))
    if form.validate_on_submit():
        try:
            saved = course_templates.save_template(
                course_templates.TemplateInput(
                    validated(form.key.data),
                    validated(form.name.data),
                    form.description.data or "",
                    form.first_type.data,
                    form.session_type.data,
                    parse_cadence(validated(form.cadence.data)),
                    form.is_active.data,
                ),
                current_user,
                item_id,
            )
        except DomainError as error:
            _show(form, error)
        else:
            flash_done(f"Saved {saved.name}.")
            return redirect(url_for("staff.schedule_admin"), code=303)
    return _edit_page("templates", form, item_id, 422 if form.is_submitted() else 200)
