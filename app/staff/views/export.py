"""Download bookings for a range of dates as XLSX or CSV."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user

from app.schedule.clinic_time import clinic_today
from app.staff import export as exporter
from app.staff.forms import ExportForm
from app.staff.views import bp


@bp.get("/export")
def export():
    form = ExportForm(request.args)
    problem = empty = None
    if not request.args:
        form.preset.data = exporter.DEFAULT_PRESET
        form.fmt.data = "xlsx"
    first, last = exporter.preset_range(
        form.preset.data or exporter.DEFAULT_PRESET, clinic_today(), form.first.data, form.last.data
    )
    if not request.args or form.preset.data != "custom":
        form.first.data, form.last.data = first, last
    if request.args and form.validate():
        try:
            download = exporter.export(first, last, current_user, form.fmt.data)
        except exporter.NothingToExport as nothing:
            empty = nothing.message
        except exporter.ExportError as error:
            problem = error.message
        else:
            return Response(
                download.data,
                mimetype=download.mimetype,
                headers={
                    "Content-Disposition": f'attachment; filename="{download.filename}"',
                    "X-Content-Type-Options": "nosniff",
                },
            )
    status = 422 if (request.args and (problem or form.errors)) else 200
    return render_template("staff/export.html", form=form, problem=problem, empty=empty), status
