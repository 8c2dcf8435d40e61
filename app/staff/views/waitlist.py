"""The waiting list page: who waits, what suits them, since when, and their offers; and
adding a caller to it."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from app.booking import validation
from app.core.labels import mode_choices
from app.models.booking import LOCALE_NAMES, MODES
from app.schedule.clinic_time import clinic_today
from app.staff import waitlist_admin
from app.staff.views import bp, flash_done
from app.waitlist import service
from app.waitlist.errors import WaitlistError
from app.waitlist.matching import PARTS_OF_DAY
from app.waitlist.validation import join_fields
from app.waitlist.views import PART_LABELS, WEEKDAYS

ADD_FIELDS = ("name", "phone", "email", "locale", "earliest", "latest", "weekdays", "parts_of_day", "modes", "consent")


@bp.get("/waitlist")
def waitlist():
    show_all = request.args.get("show") == "all"
    return render_template(
        "staff/waitlist.html",
        entries=waitlist_admin.entries(waiting_only=not show_all),
        show_all=show_all,
        figures=waitlist_admin.figures(),
        state=service.state,
        weekdays=dict(WEEKDAYS),
        part_labels=PART_LABELS,
    )


def _body(form) -> dict:
    """The form in the shape join_fields reads (unticked boxes mean any)."""
    return {
        "name": form.get("name", ""),
        "email": form.get("email", ""),
        "phone": form.get("phone", ""),
        "locale": form.get("locale", "en"),
        "earliest": form.get("earliest", ""),
        "latest": form.get("latest", ""),
        "weekdays": [int(v) if v.isdigit() else v for v in form.getlist("weekdays")] or None,
        "parts_of_day": form.getlist("parts_of_day") or None,
        "modes": form.getlist("modes") or None,
        "consent": form.get("consent") == "y",
    }


@bp.route("/waitlist/add", methods=["GET", "POST"])
def waitlist_add():
    """Put a caller on the waiting list (the same rules as joining online)."""
    on = clinic_today()
    values, errors, status = (
        {"earliest": on.isoformat(), "latest": (on + timedelta(days=30)).isoformat(), "locale": "en"},
        {},
        200,
    )
    if request.method == "POST":
        values = _body(request.form)
        joining, errors = join_fields(values, current_app.config["PHONE_DEFAULT_REGION"], on, voice=validation.CALLER)
        if joining is not None:
            try:
                entry = waitlist_admin.add_caller(joining, current_user)
            except WaitlistError as error:
                errors = {error.field or "form": error.message}
            else:
                flash_done(
                    f"Added {entry.name} to the waiting list. Freed times that suit them are "
                    f"offered by email to {entry.email}."
                )
                return redirect(url_for("staff.waitlist"), code=303)
        status = 422
    return render_template(
        "staff/waitlist_add.html",
        values=values,
        errors=errors,
        field_order=ADD_FIELDS,
        weekday_choices=WEEKDAYS,
        parts=[(p, PART_LABELS[p]) for p in PARTS_OF_DAY],
        modes=mode_choices(MODES),
        languages=list(LOCALE_NAMES.items()),
    ), status
