"""Admin pages for the schedule's resources: treatment chairs, appointment types and course
templates (a list, and one add/edit form each; "In use" unticked deactivates)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

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

T = TypeVar("T")

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


def _item_or_404(model: type[T], item_id: int | None) -> T | None:
    """The row being edited (None when adding one); 404 for an id that names no row."""
    item = db.session.get(model, item_id) if item_id is not None else None
    if item_id is not None and item is None:
        abort(404)
    return item


def _submit(kind: str, form, item_id: int | None, save: Callable[[], Any]):
    """A valid form is saved by `save` (the service decides); its refusal, or invalid input,
    shows the page again with the message at its field and what was typed kept."""
    if form.validate_on_submit():
        try:
            saved = save()
        except DomainError as error:
            _show(form, error)
        else:
            flash_done(f"Saved {saved.name}.")
            return redirect(url_for("staff.schedule_admin"), code=303)
    return _edit_page(kind, form, item_id, 422 if form.is_submitted() else 200)


@bp.route("/schedule/chairs/new", methods=["GET", "POST"])
@admin_required
def new_chair():
    return _edit_chair(None)


@bp.route("/schedule/chairs/<int:item_id>", methods=["GET", "POST"])
@admin_required
def edit_chair(item_id: int):
    return _edit_chair(item_id)


def _edit_chair(item_id: int | None):
    form = ChairForm(obj=_item_or_404(Chair, item_id))
    return _submit(
        "chairs",
        form,
        item_id,
        lambda: resources.save_chair(
            resources.ChairInput(validated(form.name.data), validated(form.position.data), form.is_active.data),
            current_user,
            item_id,
        ),
    )


@bp.route("/schedule/types/new", methods=["GET", "POST"])
@admin_required
def new_appointment_type():
    return _edit_appointment_type(None)


@bp.route("/schedule/types/<int:item_id>", methods=["GET", "POST"])
@admin_required
def edit_appointment_type(item_id: int):
    return _edit_appointment_type(item_id)


def _edit_appointment_type(item_id: int | None):
    form = AppointmentTypeForm(obj=_item_or_404(AppointmentType, item_id))
    return _submit(
        "types",
        form,
        item_id,
        lambda: resources.save_type(
            resources.TypeInput(
                validated(form.key.data),
                validated(form.name.data),
                validated(form.minutes.data),
                form.needs_chair.data,
                form.is_active.data,
            ),
            current_user,
            item_id,
        ),
    )


@bp.route("/schedule/templates/new", methods=["GET", "POST"])
@admin_required
def new_course_template():
    return _edit_course_template(None)


@bp.route("/schedule/templates/<int:item_id>", methods=["GET", "POST"])
@admin_required
def edit_course_template(item_id: int):
    return _edit_course_template(item_id)


def _edit_course_template(item_id: int | None):
    template = _item_or_404(CourseTemplate, item_id)
    form = TemplateForm(obj=template)
    chair_types = [(t.id, f"{t.name} ({t.minutes} min)") for t in resources.appointment_types() if t.needs_chair]
    form.first_type.choices = form.session_type.choices = chair_types
    if template is not None and not form.is_submitted():
        form.first_type.data, form.session_type.data = template.first_type_id, template.session_type_id
        form.cadence.data = cadence_text(json.loads(template.cadence))
    return _submit(
        "templates",
        form,
        item_id,
        lambda: course_templates.save_template(
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
        ),
    )
