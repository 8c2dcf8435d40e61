"""The waiting list's pages: the join form at /waitlist, the private entry page, and the
offer page. GET only shows; every change is a POST with a CSRF token, so mail scanners
that open links change nothing."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import get_day_names
from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from app.booking import service as booking_service
from app.booking.errors import BookingError
from app.core.i18n import current_language
from app.core.labels import mode_choices
from app.core.ratelimits import booking_limit, manage_limit, token_lookup_limit
from app.core.security import keep_private
from app.core.timefmt import clinic_zone, current_locale
from app.models.booking import MODES
from app.schedule.clinic_time import clinic_today
from app.waitlist import claims, offering, service
from app.waitlist.errors import EntryEnded, InvalidChoices, WaitlistError
from app.waitlist.matching import PARTS_OF_DAY
from app.waitlist.validation import join_fields

bp = Blueprint("waitlist", __name__)

# English names, for the staff console's list.
WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]
PART_LABELS = {"morning": _l("Mornings (before noon)"), "afternoon": _l("Afternoons (from noon)")}


def weekdays() -> list[tuple[int, str]]:
    """ISO weekdays (Monday = 1) named in the language being shown."""
    names = get_day_names("wide", locale=current_locale())
    return [(iso, names[iso - 1].capitalize()) for iso in range(1, 8)]


FIELD_ORDER = (
    "name",
    "email",
    "phone",
    "sms_consent",
    "earliest",
    "latest",
    "weekdays",
    "parts_of_day",
    "modes",
    "manage_token",
    "consent",
)
CHOICE_ORDER = ("earliest", "latest", "weekdays", "parts_of_day", "modes")


def _form_body(form) -> dict:
    """The form's fields in the API's shape (an unticked group of boxes means "any")."""
    weekdays = [int(v) if v.isdigit() else v for v in form.getlist("weekdays")]
    return {
        "name": form.get("name", ""),
        "email": form.get("email", ""),
        "phone": form.get("phone", ""),
        "earliest": form.get("earliest", ""),
        "latest": form.get("latest", ""),
        "weekdays": weekdays or None,
        "parts_of_day": form.getlist("parts_of_day") or None,
        "modes": form.getlist("modes") or None,
        "consent": form.get("consent") == "y",
        "sms_consent": form.get("sms_consent") == "y",
        "locale": current_language(),
        "manage_token": form.get("manage_token") or None,
    }


def _choice_body(form) -> dict:
    """The choice fields of a form, in the API's shape (as _form_body has them)."""
    body = _form_body(form)
    return {field: body[field] for field in CHOICE_ORDER}


def _render_join(values: dict, errors: dict[str, str], status: int = 200):
    return render_template(
        "waitlist/join.html",
        values=values,
        errors=errors,
        field_order=FIELD_ORDER,
        weekday_choices=weekdays(),
        parts=[(p, PART_LABELS[p]) for p in PARTS_OF_DAY],
        modes=mode_choices(MODES),
    ), status


@bp.get("/waitlist")
def join():
    return _render_join(_default_dates(), {})


def _default_dates() -> dict:
    today = clinic_today()
    return {"earliest": today.isoformat(), "latest": (today + timedelta(days=30)).isoformat()}


@bp.get("/manage/<token>/waitlist")
@token_lookup_limit
def join_for_booking(token: str):
    """The join form for a booked patient, from their manage link: filled in from the
    booking, whose time a claimed offer then moves. The token is in the path, so the page
    has every token page's limit and headers (no caching, no referrer)."""
    booking = booking_service.find_by_token(token)
    if booking is None or not booking_service.can_change(booking):
        abort(404)
    values = _default_dates()
    values.update(
        name=booking.name,
        email=booking.email,
        phone=booking.phone,
        manage_token=token,
        latest=(booking.slot.starts_at.astimezone(clinic_zone()).date()).isoformat(),
        booking_start=booking.slot.starts_at,
    )
    return _render_join(values, {})


@bp.post("/waitlist")
@booking_limit
def join_post():
    body = _form_body(request.form)
    today = clinic_today()
    joining, errors = join_fields(body, current_app.config["PHONE_DEFAULT_REGION"], today, source="web")
    if joining is not None:
        try:
            result = service.join(joining)
        except WaitlistError as error:
            errors = {error.field or "form": error.message}
        else:
            return redirect(url_for("waitlist.entry", token=result.token, joined=1), code=303)
    response = make_response(_render_join(body, errors, 422))
    if body["manage_token"]:
        keep_private(response)  # the form carries the booking's manage token
    return response


def _entry_or_404(token: str):
    entry = service.find_by_token(token)
    if entry is None:
        abort(404)
    return entry


def _render_entry(
    token: str, found, values: dict | None = None, errors: dict[str, str] | None = None, status: int = 200
):
    """The private page; `values` are the change form's (the entry's own choices unless given)."""
    return render_template(
        "waitlist/entry.html",
        entry=found,
        token=token,
        state=service.state(found),
        offers_to=offering.recipient(found).email,
        weekdays=dict(weekdays()),
        part_labels=PART_LABELS,
        values=values if values is not None else service.current_choices(found),
        errors=errors or {},
        field_order=CHOICE_ORDER,
        weekday_choices=weekdays(),
        parts=[(p, PART_LABELS[p]) for p in PARTS_OF_DAY],
        modes=mode_choices(MODES),
    ), status


@bp.get("/waitlist/<token>")
@token_lookup_limit
def entry(token: str):
    return _render_entry(token, _entry_or_404(token))


@bp.post("/waitlist/<token>")
@token_lookup_limit
@manage_limit
def change(token: str):
    body = _choice_body(request.form)
    try:
        service.change(token, body)
    except InvalidChoices as error:
        return _render_entry(token, _entry_or_404(token), body, error.fields, 422)
    except EntryEnded as error:
        return _render_entry(token, _entry_or_404(token), body, {"form": error.message}, 410)
    except WaitlistError:
        abort(404)
    return redirect(url_for("waitlist.entry", token=token, saved=1), code=303)


@bp.post("/waitlist/<token>/leave")
@token_lookup_limit
@manage_limit
def leave(token: str):
    try:
        service.leave(token)
    except WaitlistError:
        abort(404)
    return redirect(url_for("waitlist.entry", token=token), code=303)


@bp.get("/offers/<token>")
@token_lookup_limit
def offer(token: str):
    try:
        found = claims.open_offer(token)
    except WaitlistError:
        abort(404)
    return _render_offer(found, token)


def _render_offer(
    found, token: str, problem: str | None = None, mode_error: str | None = None, chosen: str | None = None
):
    return render_template(
        "waitlist/offer.html",
        offer=found,
        token=token,
        state=claims.state(found),
        modes=claims.offered_modes(found),
        chosen=chosen,
        problem=problem,
        mode_error=mode_error,
    )


@bp.post("/offers/<token>/decline")
@token_lookup_limit
@manage_limit
def decline(token: str):
    try:
        claims.decline(token)
    except WaitlistError:
        abort(404)
    return redirect(url_for("waitlist.offer", token=token), code=303)


@bp.post("/offers/<token>")
@token_lookup_limit
@manage_limit
def claim(token: str):
    chosen = request.form.get("mode") or None
    try:
        result = claims.claim(token, mode=chosen)
    except InvalidChoices as error:
        return _render_offer(
            claims.find_offer(token), token, mode_error=error.fields["mode"], chosen=chosen
        ), error.http_status
    except WaitlistError as error:
        if error.http_status == 404:
            abort(404)
        return _render_offer(claims.find_offer(token), token, problem=error.message), error.http_status
    except BookingError as error:
        return _render_offer(claims.find_offer(token), token, problem=error.message), error.http_status
    if result.manage_token:
        return redirect(url_for("manage.confirmed", token=result.manage_token), code=303)
    return render_template("waitlist/moved.html", booking=result.booking)
