"""The waiting list page: who waits, what suits them, since when, and their offers."""

from __future__ import annotations

from flask import render_template, request

from app.staff import waitlist_admin
from app.staff.views import bp
from app.waitlist import service
from app.waitlist.views import PART_LABELS, WEEKDAYS


@bp.get("/waitlist")
def waitlist():
    show_all = request.args.get("show") == "all"
    return render_template("staff/waitlist.html", entries=waitlist_admin.entries(waiting_only=not show_all),
                           show_all=show_all, figures=waitlist_admin.figures(), state=service.state,
                           weekdays=dict(WEEKDAYS), part_labels=PART_LABELS)
