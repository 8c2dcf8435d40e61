"""Busy calendars: every staff member sees each calendar's last sync and error and may ask
for a sync now (the worker reads the calendars); only admins add or remove one (the service
is app.busy.service)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.busy import service as busy
from app.busy.forms import BusySourceForm
from app.core import audit
from app.core.database import write_transaction
from app.staff.auth import admin_required
from app.staff.views import bp, flash_done, flash_error


def _page(form: BusySourceForm, status: int = 200):
    return render_template("staff/busy_calendars.html", sources=busy.list_sources(), form=form), status


@bp.get("/busy-calendars")
def busy_calendars():
    return _page(BusySourceForm(formdata=None))


@bp.post("/busy-calendars")
@admin_required
def add_busy_calendar():
    form = BusySourceForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        source = busy.add_source(
            form.url.data.strip(),
            form.label.data,
            form.kind.data,
            form.username.data or "",
            form.password.data or "",
            form.email.data or "",
        )
    except busy.SourceError as error:
        form.label.errors = [str(error)]
        return _page(form, 422)
    with write_transaction() as session:
        audit.record(session, current_user, "busy_calendar.add", details=source.label)
    flash_done(f"Added {source.label}. The worker reads it within a minute.")
    return redirect(url_for("staff.busy_calendars"), code=303)


@bp.post("/busy-calendars/remove")
@admin_required
def remove_busy_calendar():
    label = request.form.get("label", "")
    try:
        busy.remove_source(label)
    except busy.SourceError as error:
        flash_error(str(error))
    else:
        with write_transaction() as session:
            audit.record(session, current_user, "busy_calendar.remove", details=label[:100])
        flash_done(f"Removed {label}. Its busy times no longer block slots.")
    return redirect(url_for("staff.busy_calendars"), code=303)


@bp.post("/busy-calendars/sync")
def sync_busy_calendars():
    queued = busy.request_sync()
    flash_done(
        f"Sync queued for {queued} calendar{'s' if queued != 1 else ''}: the worker reads "
        f"{'them' if queued != 1 else 'it'} within a minute. Reload this page to see the result."
    )
    return redirect(url_for("staff.busy_calendars"), code=303)
