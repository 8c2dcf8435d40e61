"""Bookings: the list with search and filters, the detail page, and what staff do to a
booking (cancel, move, attendance, notes, erase the patient)."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from app.booking.errors import BookingError, SlotTaken
from app.booking.rules import booking_window
from app.booking.service import PatientDetails, find_slot
from app.core import audit
from app.core.labels import MODE_LABELS
from app.core.timefmt import when
from app.courses import queries as course_queries
from app.models import Slot, utcnow
from app.models.booking import ATTENDANCE, STATUSES
from app.schedule.clinic_time import parse_date
from app.sms import service as texts_service
from app.staff import bookings_admin, erase, waitlist_admin
from app.staff.auth import admin_required
from app.staff.forms import (
    BookingDetailsForm,
    CallerBookingForm,
    CancelForm,
    ConfirmForm,
    MoveForm,
    NoteForm,
    TextForm,
)
from app.staff.views import bp, flash_done, flash_error


def _filters() -> bookings_admin.Filters:
    args = request.args
    return bookings_admin.Filters(
        q=args.get("q", ""),
        date_from=parse_date(args.get("date_from")),
        date_to=parse_date(args.get("date_to")),
        status=args.get("status", ""),
        mode=args.get("mode", ""),
        interest=args.get("interest", ""),
        when=args.get("when", "upcoming"),
        page=args.get("page", 1, type=int) or 1,
    ).cleaned()


@bp.get("/bookings")
def bookings():
    filters = _filters()
    now = utcnow()
    return render_template(
        "staff/bookings.html",
        result=bookings_admin.search(filters, now=now),
        f=filters,
        now=now,
        STATUSES=STATUSES,
        STATUS_LABELS=bookings_admin.STATUS_LABELS,
    )


def _booking_or_404(public_id: str):
    booking = bookings_admin.get(public_id)
    if booking is None:
        abort(404)
    return booking


def _slot_by_public_id(public_id: str | None) -> Slot | None:
    return find_slot(public_id) if public_id else None


@bp.route("/bookings/new", methods=["GET", "POST"])
def new_booking():
    """Book for a caller: without a chosen time, the free times to pick from; with one, the
    caller's details. The booking goes through the same service as the public form."""
    form = CallerBookingForm()
    slot = _slot_by_public_id(form.slot_id.data if request.method == "POST" else request.args.get("slot"))
    now = utcnow()
    if slot is None or slot.starts_at <= now:
        if request.args.get("slot") or request.method == "POST":
            flash_error("That time has passed or no longer exists. Please choose another.")
        return render_template(
            "staff/booking_new_slot.html",
            picker=bookings_admin.time_picker(request.args.get("day"), now),
            notice_from=booking_window(now).earliest,
        )
    form.mode.choices = [(m, MODE_LABELS[m]) for m in slot.mode_list]
    problem, alternatives, status = None, [], 200
    if request.method == "GET":
        form.slot_id.data = slot.public_id
        if len(slot.mode_list) == 1:
            form.mode.data = slot.mode_list[0]
    elif not form.validate():
        problem, status = "Please correct the highlighted fields below.", 422
    else:
        patient = PatientDetails(
            name=form.name.data,
            email=form.email.data,
            phone=form.phone.data,
            interest=form.interest.data,
            note=form.note.data or "",
            locale=form.locale.data,
            sms_consent="staff" if form.sms_consent.data else None,
        )
        try:
            made = bookings_admin.book_for_caller(slot.public_id, form.mode.data, patient, current_user)
        except SlotTaken as taken:
            problem, alternatives, status = (
                (taken.message + " The caller's details are kept: choose another time below."),
                taken.alternatives,
                409,
            )
        except BookingError as error:
            problem, status = error.message, error.http_status
        else:
            if made.booking.is_phone_only:
                flash_done(
                    f"Booked {made.booking.name} for {when(slot.starts_at)}, phone only: no email "
                    "is sent, so call them the day before to remind them."
                )
            else:
                flash_done(
                    f"Booked {made.booking.name} for {when(slot.starts_at)}. They are sent the "
                    "confirmation email with their own link to change or cancel it."
                )
            return redirect(url_for("staff.booking_detail", public_id=made.booking.public_id), code=303)
    return render_template(
        "staff/booking_new.html",
        form=form,
        slot=slot,
        problem=problem,
        alternatives=alternatives,
        inside_notice=slot.starts_at < booking_window(now).earliest,
    ), status


@bp.post("/bookings/<public_id>/resend")
def resend_confirmation(public_id: str):
    booking = _booking_or_404(public_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_error("This form expired. Please press the button again.")
    else:
        try:
            bookings_admin.resend_confirmation(public_id, current_user)
        except bookings_admin.StaffActionError as error:
            flash_error(error.message)
        else:
            flash_done(
                f"Sent the confirmation again to {booking.email}, with a new link to change or "
                "cancel. The link in earlier emails no longer works."
            )
    return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)


@bp.get("/bookings/<public_id>")
def booking_detail(public_id: str):
    booking = _booking_or_404(public_id)
    bookings_admin.record_view(booking, current_user)
    return _detail_page(_booking_or_404(public_id))  # fresh after the audit commit


def _detail_page(booking, text_form: TextForm | None = None, status: int = 200):
    now = utcnow()
    history = audit.for_booking(booking.id)
    return render_template(
        "staff/booking_detail.html",
        booking=booking,
        self_check=bookings_admin.self_check(booking),
        history=history,
        labels=audit.ACTION_LABELS,
        cancelled_by=bookings_admin.cancelled_by(booking, history),
        note_form=NoteForm(formdata=None),
        confirm_form=ConfirmForm(),
        can_change=booking.is_active and booking.slot.ends_at > now,
        can_mark=booking.is_active and booking.slot.starts_at <= now,
        ATTENDANCE_LABELS=bookings_admin.ATTENDANCE_LABELS,
        STATUS_LABELS=bookings_admin.STATUS_LABELS,
        from_offer=waitlist_admin.offer_for_booking(booking.id),
        texts=texts_service.state(booking),
        text_form=text_form or TextForm(formdata=None),
        courses=course_queries.courses_for_booking(booking.id),
    ), status


@bp.post("/bookings/<public_id>/text")
def send_text(public_id: str):
    """A one-off text to a patient who agreed to texts ("running 10 minutes late"); a text that
    cannot go is shown again with the reason at the field."""
    booking = _booking_or_404(public_id)
    form = TextForm()
    if form.validate_on_submit():
        try:
            texts_service.send_text(public_id, form.text.data or "", current_user)
        except texts_service.TextNotSent as error:
            form.text.errors = [error.message]
        else:
            flash_done("Text queued. It goes out within a minute; its status shows below.")
            return redirect(url_for("staff.booking_detail", public_id=public_id) + "#texts", code=303)
    elif form.csrf_token.errors:
        flash_error("This form expired. Please press the button again.")
    return _detail_page(booking, form, 422)


@bp.route("/bookings/<public_id>/cancel", methods=["GET", "POST"])
def cancel_booking(public_id: str):
    booking = _booking_or_404(public_id)
    form = CancelForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            bookings_admin.cancel(public_id, form.message.data or "", current_user)
        except bookings_admin.StaffActionError as error:
            flash_error(error.message)
        else:
            flash_done(
                f"Cancelled. {booking.name} is sent a cancellation email and calendar update, "
                f"and {when(booking.slot.starts_at)} is free again."
            )
            return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)
    if not booking.is_active:
        flash_error("This consultation was already cancelled.")
        return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)
    return render_template("staff/booking_cancel.html", booking=booking, form=form)


@bp.route("/bookings/<public_id>/edit", methods=["GET", "POST"])
def edit_booking(public_id: str):
    """Correct a booking's contact details, language or meeting type in place."""
    booking = _booking_or_404(public_id)
    if not booking.is_active or booking.erased_at is not None:
        flash_error("Only a booked consultation's details can be edited.")
        return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)
    form = BookingDetailsForm(obj=booking if request.method == "GET" else None)
    modes = booking.slot.mode_list if booking.slot.offers(booking.mode) else [*booking.slot.mode_list, booking.mode]
    form.mode.choices = [(m, MODE_LABELS[m]) for m in modes]
    problem, status = None, 200
    if request.method == "POST":
        if not form.validate():
            problem, status = "Please correct the highlighted fields below.", 422
        else:
            details = bookings_admin.Details(
                name=form.name.data or "",
                email=form.email.data,
                phone=form.phone.data or "",
                locale=form.locale.data,
                mode=form.mode.data,
                custom_video_url=form.custom_video_url.data,
            )
            try:
                changed = bookings_admin.edit_details(public_id, details, current_user)
            except bookings_admin.StaffActionError as error:
                if error.field:
                    form[error.field].errors = [error.message]
                    problem = "Please correct the highlighted fields below."
                else:
                    problem = error.message
                status = 422
            else:
                if not changed:
                    flash_done("Nothing was changed.")
                elif "email" in changed and details.email is None:
                    flash_done(
                        "Saved. The booking is now phone only: no more emails are sent, and the "
                        "link sent so far no longer works. Call them to remind them."
                    )
                elif "email" in changed:
                    flash_done(
                        f"Saved. The confirmation, with a new link to change or cancel, is sent to "
                        f"{details.email}; the old address is told only that it changed."
                    )
                elif set(changed) & {"name", "locale", "mode", "custom_video_url"}:
                    flash_done(
                        "Saved. The patient is sent the confirmation again with the new details "
                        "and a new link to change or cancel."
                    )
                else:
                    flash_done("Saved.")
                return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)
    return render_template(
        "staff/booking_edit.html",
        booking=booking,
        form=form,
        problem=problem,
        video_default=current_app.config["VIDEO_URL"],
    ), status


@bp.get("/bookings/<public_id>/move")
def move_booking(public_id: str):
    booking = _booking_or_404(public_id)
    if not booking.is_active:
        flash_error("This consultation was cancelled, so it cannot be moved.")
        return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)
    picker = bookings_admin.time_picker(request.args.get("day"), except_slot_id=booking.slot_id)
    return render_template("staff/booking_move.html", booking=booking, picker=picker)


@bp.route("/bookings/<public_id>/move/<slot_id>", methods=["GET", "POST"])
def move_booking_confirm(public_id: str, slot_id: str):
    booking = _booking_or_404(public_id)
    slot = find_slot(slot_id)
    if slot is None:
        abort(404)
    form = MoveForm()
    form.mode.choices = [(m, MODE_LABELS[m]) for m in slot.mode_list]
    if request.method == "GET":
        form.mode.data = booking.mode if slot.offers(booking.mode) else slot.mode_list[0]
    if form.validate_on_submit():
        try:
            bookings_admin.move(public_id, slot.public_id, form.mode.data, current_user)
        except bookings_admin.StaffActionError as error:
            flash_error(error.message)
            return redirect(url_for("staff.move_booking", public_id=public_id), code=303)
        flash_done(
            f"Moved to {when(slot.starts_at)}. {booking.name} is sent the new time and a "
            "calendar update; the old time is free again."
        )
        return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)
    return render_template("staff/booking_move_confirm.html", booking=booking, slot=slot, form=form)


@bp.post("/bookings/<public_id>/attendance")
def booking_attendance(public_id: str):
    _booking_or_404(public_id)
    value = request.form.get("attendance") or None
    if value not in (*ATTENDANCE, None):
        flash_error("Please choose attended or no-show.")
    else:
        try:
            bookings_admin.set_attendance(public_id, value, current_user)
        except bookings_admin.StaffActionError as error:
            flash_error(error.message)
        else:
            flash_done(
                {"attended": "Marked as attended.", "no_show": "Marked as a no-show.", None: "Attendance cleared."}[
                    value
                ]
            )
    if request.form.get("back") == "dashboard":  # the one-click buttons on today's list
        return redirect(url_for("staff.dashboard") + "#today-heading", code=303)
    return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)


@bp.post("/bookings/<public_id>/notes")
def booking_note(public_id: str):
    _booking_or_404(public_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash_error("Please type the note first (up to 2000 characters).")
    else:
        try:
            bookings_admin.add_note(public_id, form.note.data or "", current_user)
        except bookings_admin.StaffActionError as error:
            flash_error(error.message)
        else:
            flash_done("Note added. Only staff can see it.")
    return redirect(url_for("staff.booking_detail", public_id=public_id) + "#notes", code=303)


@bp.route("/bookings/<public_id>/erase", methods=["GET", "POST"])
@admin_required
def erase_patient(public_id: str):
    booking = _booking_or_404(public_id)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            count = erase.erase_patient(public_id, current_user)
        except erase.EraseError as error:
            flash_error(error.message)
        else:
            flash_done(
                f"Erased this patient's personal data from {count} booking{'s' if count != 1 else ''} "
                "and from their emails. The times stay in the calendar history."
            )
            return redirect(url_for("staff.booking_detail", public_id=public_id), code=303)
    try:
        found = erase.plan(public_id)
    except erase.EraseError as error:
        flash_error(error.message)
        return redirect(url_for("staff.bookings"), code=303)
    return render_template("staff/booking_erase.html", booking=booking, plan=found, form=form)
