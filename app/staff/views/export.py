"""Download bookings for a date range as CSV."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, render_template, request
from flask_login import current_user

from app.staff import export as exporter
from app.staff.clinic_time import today
from app.staff.forms import ExportForm
from app.staff.views import bp


@bp.get("/export")
def export():
    form = ExportForm(request.args)
    problem = None
    if request.args and form.validate():
        try:
            data, count = exporter.export(form.first.data, form.last.data, current_user)
        except exporter.ExportError as error:
            problem = error.message
        else:
            name = exporter.filename(form.first.data, form.last.data)
            return Response(data, mimetype="text/csv", headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "X-Content-Type-Options": "nosniff",
            })
    elif not request.args:
        start = today().replace(day=1)
        form.first.data = start
        form.last.data = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    status = 422 if (request.args and (problem or form.errors)) else 200
    return render_template("staff/export.html", form=form, problem=problem), status
