"""The patient's private manage link: see, cancel or move a booking. GET only shows (and
asks); every change is a POST with a CSRF token, so mail scanners that open links change
nothing. Cancelling takes two steps (a page that asks, then the POST); moving is one."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.booking import notifications, service, validation
from app.booking.errors import BookingError, SlotTaken
from app.booking.forms import CancelForm, RescheduleForm
from app.booking.slots import parse_mode, slot_picker
from app.core.actors import THE_PATIENT
from app.core.extensions import csrf
from app.core.i18n import show_in_language_of
from app.core.ratelimits import manage_limit, token_lookup_limit
from app.invites import ics
from app.invites.views import calendar_response
from app.models import Booking, Slot, utcnow

bp = Blueprint("manage", __name__, url_prefix="/manage")
# Each change is a FlaskForm that validates its own CSRF token (after the rate limit).
csrf.exempt(bp)


def _booking_or_404(token: str) -> Booking:
    """The token's booking. A page opened at the other language's address (an older email,
    a forwarded link) is shown at the booking's own language's address, unless the visitor
    chose this language themselves (the language switch)."""
    booking = service.find_by_token(token)
    if booking is None:
        abort(404)
    show_in_language_of(booking.locale)
    return booking


@bp.get("/<token>")
@token_lookup_limit
def show(token: str):
    booking = _booking_or_404(token)
    return render_template("booking/manage.html", booking=booking, token=token, can_change=service.can_change(booking))


@bp.get("/<token>/confirmed")
@token_lookup_limit
def confirmed(token: str):
    booking = _booking_or_404(token)
    if not booking.is_active:
        return redirect(url_for("manage.show", token=token))
    return render_template("booking/confirmed.html", booking=booking, token=token)


@bp.get("/<token>/cancel")
@token_lookup_limit
def confirm_cancel(token: str):
    """Step one of cancelling: are you sure, would moving suit you better, and why (optional)."""
    booking = _booking_or_404(token)
    if not service.can_change(booking):
        return redirect(url_for("manage.show", token=token))
    return render_template("booking/cancel.html", booking=booking, token=token, form=CancelForm())


@bp.post("/<token>/cancel")
@token_lookup_limit
@manage_limit
def cancel(token: str):
    booking = _booking_or_404(token)
    form = CancelForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return render_template("booking/cancel.html", booking=booking, token=token, form=form), 422
    try:
        service.cancel(booking.public_id, actor=THE_PATIENT, reason=form.reason.data)
    except BookingError as error:
        return render_template(
            "booking/manage.html",
            booking=booking,
            token=token,
            problem=error.message,
            can_change=service.can_change(booking),
        ), error.http_status
    return redirect(url_for("manage.show", token=token, done="cancelled"), code=303)


@bp.get("/<token>/reschedule")
@token_lookup_limit
def choose_new_slot(token: str):
    booking = _booking_or_404(token)
    if not service.can_change(booking):
        return redirect(url_for("manage.show", token=token))
    picker = slot_picker(request.args.get("day"), request.args.get("mode"))
    return render_template("booking/reschedule.html", booking=booking, token=token, picker=picker)


@bp.route("/<token>/reschedule/<slot_id>", methods=["GET", "POST"])
@token_lookup_limit
@manage_limit
def confirm_new_slot(token: str, slot_id: str):
    booking = _booking_or_404(token)
    if not service.can_change(booking):
        return redirect(url_for("manage.show", token=token))
    slot = service.find_slot(slot_id)
    if slot is None:
        abort(404)
    form = RescheduleForm()
    if request.method == "GET":
        wanted, _problem = parse_mode(request.args.get("mode"))
        preferred = wanted or booking.mode
        form.mode.data = preferred if slot.offers(preferred) else slot.mode_list[0]
    problem = None
    alternatives: list[Slot] = []
    status = 200
    if form.validate_on_submit():
        try:
            service.reschedule(booking.public_id, slot.public_id, form.mode.data, actor=THE_PATIENT, manage_token=token)
        except SlotTaken as taken:
            problem = _(
                "%(problem)s Your consultation has not changed. Please choose another time.", problem=taken.message
            )
            alternatives = taken.alternatives
            status = 409
        except BookingError as error:
            problem = error.message
            status = error.http_status
        else:
            return redirect(url_for("manage.show", token=token, done="moved"), code=303)
    elif request.method == "POST":
        problem = str(validation.MODE_REQUIRED)
        status = 422
    return render_template(
        "booking/reschedule_confirm.html",
        booking=booking,
        token=token,
        slot=slot,
        form=form,
        problem=problem,
        alternatives=alternatives,
    ), status


@bp.get("/<token>/invite.ics")
@token_lookup_limit
def invite(token: str):
    """The patient's consultation as a file to open in any calendar app (METHOD:PUBLISH)."""
    booking = service.find_by_token(token)
    if booking is None or not booking.is_active:
        abort(404)
    manage_url = notifications.manage_url(token, booking.locale)
    text = ics.booking_invite(booking, ics.PUBLISH, utcnow(), manage_url=manage_url)
    return calendar_response(text, "consultation.ics")
