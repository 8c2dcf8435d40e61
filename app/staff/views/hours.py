"""Opening hours: weekly hours per weekday, and date changes (closed days, extra hours)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.schedule.clinic_time import clinic_today
from app.staff import availability_admin as hours_admin
from app.staff import bookings_admin
from app.staff.forms import CloseDatesForm, ConfirmForm, EditHoursForm, ExtraHoursForm, WeeklyHoursForm
from app.staff.views import bp, flash_done, flash_error


def _hours_input(form) -> hours_admin.HoursInput:
    return hours_admin.HoursInput(
        start=form.start.data,
        end=form.end.data,
        slot_minutes=int(form.slot_minutes.data),
        buffer_minutes=int(form.buffer_minutes.data),
        modes=tuple(form.modes.data or ()),
    )


def _page(weekly=None, extra=None, close=None, status=200):
    weekly = weekly or WeeklyHoursForm(formdata=None)
    extra = extra or ExtraHoursForm(formdata=None)
    close = close or CloseDatesForm(formdata=None)
    return render_template(
        "staff/hours.html",
        rules=hours_admin.weekly_rules(),
        overrides=hours_admin.upcoming_overrides(),
        weekly_form=weekly,
        extra_form=extra,
        close_form=close,
        today=clinic_today(),
        describe_hours=hours_admin.describe_hours,
        describe_override=hours_admin.describe_override,
        modes_text=hours_admin.modes_text,
        confirm_form=ConfirmForm(),
    ), status


@bp.get("/hours")
def hours():
    return _page()


@bp.post("/hours/weekly")
def add_weekly_hours():
    form = WeeklyHoursForm()
    if not form.validate_on_submit():
        return _page(weekly=form, status=422)
    try:
        weekdays = [int(d) for d in form.weekdays.data or []]
        added = hours_admin.add_hours(weekdays, _hours_input(form), current_user)
    except hours_admin.HoursError as error:
        flash_error(error.message)
        return _page(weekly=form, status=422)
    days = ", ".join(hours_admin.WEEKDAYS[r.weekday] for r in added)
    flash_done(f"Saved. {days}: {hours_admin.describe_hours(added[0])}. The booking page shows the new times now.")
    return redirect(url_for("staff.hours"), code=303)


@bp.route("/hours/weekly/<int:rule_id>/edit", methods=["GET", "POST"])
def edit_weekly_hours(rule_id: int):
    """Change a weekly range in place: first a preview (times that appear or go, booked
    consultations left outside), then save with the staff's choice for those bookings."""
    rule = hours_admin.get_rule(rule_id)
    if rule is None:
        flash_error("Those hours were removed in the meantime.")
        return redirect(url_for("staff.hours"), code=303)
    form = EditHoursForm()
    if request.method == "GET":
        form.start.data, form.end.data = rule.start_time, rule.end_time
        form.slot_minutes.data, form.buffer_minutes.data = str(rule.slot_minutes), str(rule.buffer_minutes)
        form.modes.data = rule.modes.split(",")
    preview = problem = None
    status = 422 if request.method == "POST" else 200
    weekday = hours_admin.WEEKDAYS[rule.weekday]
    if request.method == "POST" and form.validate_on_submit():
        new = _hours_input(form)
        try:
            preview = hours_admin.preview_edit_hours(rule_id, new)
            status = 200
            if request.form.get("action") == "save":
                done = hours_admin.edit_hours(rule_id, new, form.booked.data, current_user)
                flash_done(
                    f"Saved. {weekday}: {hours_admin.describe_hours(done.rule)}. {done.appear} new "
                    f"time{'s' if done.appear != 1 else ''} on the booking page, {done.go} gone."
                )
                if done.booked_outside and form.booked.data == hours_admin.MOVE_THEM:
                    return redirect(
                        url_for("staff.hours_to_move", b=[b.public_id for b in done.booked_outside]), code=303
                    )
                return redirect(url_for("staff.hours"), code=303)
        except hours_admin.HoursError as error:
            problem, status = error.message, 422
    return render_template(
        "staff/hours_edit.html",
        form=form,
        rule=rule,
        weekday=weekday,
        preview=preview,
        problem=problem,
        describe_hours=hours_admin.describe_hours,
    ), status


@bp.get("/hours/to-move")
def hours_to_move():
    bookings = [b for b in (bookings_admin.get(p) for p in request.args.getlist("b")[:200]) if b]
    return render_template("staff/hours_to_move.html", bookings=bookings)


@bp.route("/hours/weekly/<int:rule_id>/remove", methods=["GET", "POST"])
def remove_weekly_hours(rule_id: int):
    try:
        preview = hours_admin.preview_remove_hours(rule_id)
    except hours_admin.HoursError as error:
        flash_error(error.message)
        return redirect(url_for("staff.hours"), code=303)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        hours_admin.remove_hours(rule_id, current_user)
        message = "Removed those hours. Their free times are gone from the booking page."
        if preview.booked_slots:
            message += (
                f" {preview.booked_slots} booked consultation(s) in those hours are kept: "
                "cancel or move them from Bookings if needed."
            )
        flash_done(message)
        return redirect(url_for("staff.hours"), code=303)
    return render_template(
        "staff/hours_remove.html",
        preview=preview,
        form=form,
        weekday=hours_admin.WEEKDAYS[preview.rule.weekday],
        describe_hours=hours_admin.describe_hours,
    )


@bp.post("/hours/closed")
def close_dates():
    form = CloseDatesForm()
    back = request.form.get("back") == "calendar"
    if not form.validate_on_submit():
        if back:
            flash_error("Please choose the first closed day.")
            return redirect(url_for("staff.calendar"), code=303)
        return _page(close=form, status=422)
    try:
        result = hours_admin.close_dates(form.first.data, form.last.data, form.reason.data or "", current_user)
    except hours_admin.HoursError as error:
        flash_error(error.message)
        if back:
            return redirect(url_for("staff.calendar", week=form.first.data.isoformat()), code=303)
        return _page(close=form, status=422)
    span = (
        f"{result.first:%A, %B} {result.first.day}"
        if result.first == result.last
        else f"{result.first:%B} {result.first.day} to {result.last:%B} {result.last.day}"
    )
    flash_done(f"The clinic is closed {span}. Those days no longer show free times on the booking page.")
    if result.kept_bookings:
        flash_error(
            f"{len(result.kept_bookings)} booked consultation(s) on those days are kept. "
            "Please cancel or move them (they are listed under Bookings for those dates)."
        )
        return redirect(
            url_for(
                "staff.bookings",
                date_from=result.first.isoformat(),
                date_to=result.last.isoformat(),
                status="confirmed",
                when="all",
            ),
            code=303,
        )
    if back:
        return redirect(url_for("staff.calendar", week=result.first.isoformat()), code=303)
    return redirect(url_for("staff.hours"), code=303)


@bp.post("/hours/holidays")
def close_public_holidays():
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_error("The form expired. Please try again.")
        return redirect(url_for("staff.hours"), code=303)
    added = hours_admin.close_public_holidays(current_user)
    if added:
        names = ", ".join(f"{name} ({day:%b} {day.day})" for day, name in added)
        flash_done(f"Closed on {len(added)} public holiday(s): {names}. Remove any you stay open on below.")
    else:
        flash_done("Every public holiday of the coming year is already closed.")
    return redirect(url_for("staff.hours"), code=303)


@bp.post("/hours/extra")
def add_extra_hours():
    form = ExtraHoursForm()
    if not form.validate_on_submit():
        return _page(extra=form, status=422)
    try:
        override = hours_admin.add_extra_hours(
            form.on_date.data, _hours_input(form), form.reason.data or "", current_user
        )
    except hours_admin.HoursError as error:
        flash_error(error.message)
        return _page(extra=form, status=422)
    on = override.on_date
    flash_done(f"Added extra hours on {on:%A, %B} {on.day}: {hours_admin.describe_hours(override)}.")
    return redirect(url_for("staff.hours"), code=303)


@bp.post("/hours/dates/<int:override_id>/remove")
def remove_date_change(override_id: int):
    try:
        override = hours_admin.remove_override(override_id, current_user)
    except hours_admin.HoursError as error:
        flash_error(error.message)
    else:
        on = override.on_date
        flash_done(f"Removed the change on {on:%A, %B} {on.day}. That day follows the weekly hours again.")
    return redirect(url_for("staff.hours"), code=303)
