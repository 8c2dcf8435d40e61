"""The week view of consultation times: add a one-off time, block, unblock, delete free
times, and close the clinic for a range of days."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.core.timefmt import when
from app.schedule.clinic_time import clinic_today, parse_date, week_start
from app.staff import slots_admin
from app.staff.forms import CloseDatesForm, OneOffSlotForm
from app.staff.views import bp, flash_done, flash_error


def _monday():
    chosen = parse_date(request.values.get("week")) or clinic_today()
    return week_start(chosen)


def _week_page(monday, slot_form=None, status=200):
    slot_form = slot_form or OneOffSlotForm(formdata=None)
    if slot_form.on_date.data is None:
        slot_form.on_date.data = max(monday, clinic_today())
    return render_template(
        "staff/calendar.html",
        days=slots_admin.week(monday),
        monday=monday,
        today=clinic_today(),
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        slot_form=slot_form,
        close_form=CloseDatesForm(formdata=None),
    ), status


@bp.get("/calendar")
def calendar():
    return _week_page(_monday())


def _back(monday):
    return redirect(url_for("staff.calendar", week=monday.isoformat()), code=303)


@bp.post("/calendar/slots")
def slot_action():
    monday = _monday()
    chosen = request.form.getlist("slot")
    action = request.form.get("action", "")
    try:
        if action in ("block", "unblock"):
            changed = slots_admin.set_blocked(chosen, action == "block", current_user)
            verb = "Blocked" if action == "block" else "Unblocked"
            after = "Patients cannot book them." if action == "block" else "Patients can book them again."
            flash_done(f"{verb} {changed} time{'s' if changed != 1 else ''}. {after}")
        elif action == "delete":
            slots = slots_admin.find(chosen)
            if not slots:
                raise slots_admin.SlotError("Please tick at least one time first.")
            return render_template("staff/slots_delete.html", slots=slots, monday=monday)
        elif action == "delete_confirmed":
            result = slots_admin.delete_slots(chosen, current_user)
            message = f"Deleted {result.deleted} free time{'s' if result.deleted != 1 else ''}."
            if result.kept_as_blocked:
                message += (
                    f" {result.kept_as_blocked} had an earlier cancelled booking, so "
                    "they are kept as blocked for the record."
                )
            flash_done(message)
        else:
            flash_error("Please choose what to do with the ticked times.")
    except slots_admin.SlotError as error:
        flash_error(error.message)
        if error.bookings:
            return redirect(url_for("staff.booking_detail", public_id=error.bookings[0].public_id), code=303)
    return _back(monday)


@bp.post("/calendar/add")
def add_slot():
    form = OneOffSlotForm()
    monday = week_start(form.on_date.data) if form.on_date.data else _monday()
    if not form.validate_on_submit():
        flash_error("Please check the date and time of the new consultation time.")
        return _week_page(monday, form, 422)
    try:
        slot = slots_admin.add_slot(
            form.on_date.data, form.at.data, int(form.minutes.data), tuple(form.modes.data or ()), current_user
        )
    except slots_admin.SlotError as error:
        flash_error(error.message)
        return _week_page(monday, form, 422)
    flash_done(f"Added a consultation time on {when(slot.starts_at)}. {slots_admin.who_can_book(slot)}")
    return _back(monday)
