"""Patients find a free slot and book it: /book and /book/<slot>."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError

from app.booking import service
from app.booking.errors import BookingError, SlotTaken
from app.booking.forms import BookingForm, form_started_stamp, seconds_since_started
from app.booking.slots import nearest_free_slots, parse_mode, slot_picker
from app.content import self_check
from app.core.actors import THE_PATIENT
from app.core.database import is_unavailable
from app.core.extensions import csrf, db
from app.core.i18n import current_language
from app.core.labels import mode_choices
from app.core.ratelimits import booking_limit
from app.models import Slot, utcnow

bp = Blueprint("booking", __name__)
# Pages and emails show a booking's way of meeting in the language being shown.

SELF_CHECK_SESSION_KEY = "self_check_answers"
UNAVAILABLE_MESSAGE = _l(
    "We could not reach our booking calendar just now, so nothing was booked. "
    "Your details are still here: please press the button again in a moment."
)
TOO_FAST_MESSAGE = _l("We could not accept that just yet. Please check your details and press the button again.")


@dataclass
class Outcome:
    """What to show after a booking attempt that did not redirect."""

    status: int = 200
    problem: str | None = None
    alternatives: list[Slot] = field(default_factory=list)


@bp.get("/book")
def choose_slot():
    picker = slot_picker(request.args.get("day"), request.args.get("mode"))
    return render_template("booking/choose_slot.html", picker=picker)


def _slot_or_404(public_id: str) -> Slot:
    slot = service.find_slot(public_id)
    if slot is None:
        abort(404)
    return slot


@bp.route("/book/<slot_id>", methods=["GET", "POST"])
@booking_limit
@csrf.exempt  # the form checks its own CSRF token, so an expired token keeps what was typed
def details(slot_id: str):
    slot = _slot_or_404(slot_id)
    form = BookingForm()
    form.mode.choices = mode_choices(slot.mode_list)
    chosen = slot
    if request.method == "GET":
        form.slot_id.data = slot.public_id
        form.started.data = form_started_stamp()
        wanted, _problem = parse_mode(request.args.get("mode"))
        if len(slot.mode_list) == 1:
            form.mode.data = slot.mode_list[0]
        elif wanted and slot.offers(wanted):
            form.mode.data = wanted  # the way to meet the patient chose on /book
        # The patient just chose "book and attach my answers" on the self-check.
        form.attach_self_check.data = attached_self_check() is not None
        # Most people are not sure yet; one choice fewer before they are booked.
        form.interest.data = "not_sure"
        outcome = (
            Outcome()
            if service.is_open(slot)
            else Outcome(
                409,
                _("Sorry, this time is no longer available. Here are the nearest free times."),
                nearest_free_slots(slot.starts_at, 3, exclude_id=slot.id),
            )
        )
    elif not form.validate():
        outcome = Outcome(422, _("Please correct the highlighted fields below."))
    elif form.website.data or _filled_too_fast(form.started.data):
        # Bots fill every field and submit at once; people get a plain retry message.
        form.started.data = form_started_stamp()
        outcome = Outcome(422, str(TOO_FAST_MESSAGE))
    else:
        if form.slot_id.data != slot.public_id:
            chosen = _slot_or_404(form.slot_id.data or "")
        token, outcome = _book(form, chosen)
        if token:
            return redirect(url_for("manage.confirmed", token=token), code=303)
    return render_template(
        "booking/details.html",
        slot=chosen,
        form=form,
        problem=outcome.problem,
        alternatives=outcome.alternatives,
        has_self_check=attached_self_check() is not None,
    ), outcome.status


def attached_self_check() -> dict | None:
    """The self-check answers the patient chose to attach, decrypted from their session;
    None when there are none or they have expired (then they are dropped from the session)."""
    sealed = session.get(SELF_CHECK_SESSION_KEY)
    if sealed is None:
        return None
    config = current_app.config
    answers = self_check.unseal(
        sealed, config["SECRET_KEY"], config["SELF_CHECK_TTL_SECONDS"], int(utcnow().timestamp())
    )
    if answers is None:
        session.pop(SELF_CHECK_SESSION_KEY, None)
    return answers


def _book(form: BookingForm, slot: Slot) -> tuple[str | None, Outcome]:
    """Try the booking; the manage token on success, else what to tell the patient."""
    answers = attached_self_check() if form.attach_self_check.data else None
    patient = service.PatientDetails(
        name=form.name.data or "",
        email=form.email.data,
        phone=form.phone.data or "",  # validated: present
        interest=form.interest.data,
        note=form.note.data or "",
        self_check=answers,
        locale=current_language(),
        sms_consent="web" if form.sms_consent.data else None,
    )
    try:
        result = service.book(slot.public_id, form.mode.data, patient, actor=THE_PATIENT)
    except SlotTaken as taken:
        return None, Outcome(
            409,
            _("%(problem)s Your details are kept: choose another time below.", problem=taken.message),
            taken.alternatives,
        )
    except BookingError as error:
        return None, Outcome(error.http_status, error.message)
    except DBAPIError as error:
        if not is_unavailable(error):
            raise
        db.session.rollback()
        return None, Outcome(503, str(UNAVAILABLE_MESSAGE))
    # Booked: the answers have done their job (attached or not), so they leave the session.
    session.pop(SELF_CHECK_SESSION_KEY, None)
    return result.manage_token, Outcome()


def _filled_too_fast(stamp: str | None) -> bool:
    minimum = current_app.config["BOOKING_MIN_FILL_SECONDS"]
    if minimum <= 0:
        return False
    elapsed = seconds_since_started(stamp or "")
    return elapsed is None or elapsed < minimum
