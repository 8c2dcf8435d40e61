"""The waiting list in the JSON API (/api/v1): join, look up, change, leave, and claim an offer."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from app.api.views import _json_body, api_error, booking_json, iso
from app.core.extensions import csrf
from app.core.ratelimits import booking_limit, manage_limit, token_lookup_limit
from app.core.timefmt import clinic_zone
from app.models import WaitlistEntry, utcnow
from app.waitlist import service
from app.waitlist.errors import EntryNotFound, InvalidChoices, WaitlistError
from app.waitlist.validation import join_fields

bp = Blueprint("waitlist_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def entry_json(entry: WaitlistEntry) -> dict:
    return {
        "id": entry.public_id, "status": service.state(entry), "name": entry.name,
        "email": entry.email, "phone": entry.phone, "locale": entry.locale,
        "sms_consent": entry.sms_consent_at is not None,
        "earliest": entry.earliest.isoformat(), "latest": entry.latest.isoformat(),
        "weekdays": entry.weekday_list, "parts_of_day": entry.part_list, "modes": entry.mode_list,
        "booking_id": entry.booking.public_id if entry.booking is not None else None,
        "created_at": iso(entry.created_at), "expires_at": iso(entry.expires_at),
    }


def _error(error: WaitlistError):
    if isinstance(error, InvalidChoices):
        return api_error(error.http_status, error.code, error.message, fields=error.fields)
    if error.field:
        return api_error(error.http_status, error.code, "Some fields need attention.",
                         fields={error.field: error.message})
    return api_error(error.http_status, error.code, error.message)


@bp.post("/waitlist")
@booking_limit
def join():
    today = utcnow().astimezone(clinic_zone()).date()
    joining, errors = join_fields(_json_body(), current_app.config["PHONE_DEFAULT_REGION"], today)
    if errors:
        return api_error(422, "invalid", "Some fields need attention.", fields=errors)
    try:
        result = service.join(joining)
    except WaitlistError as error:
        return _error(error)
    return jsonify(entry=entry_json(result.entry), token=result.token), 201


def _entry_or_404(token: str) -> WaitlistEntry:
    entry = service.find_by_token(token)
    if entry is None:
        raise EntryNotFound("No waiting-list entry has that token.")
    return entry


@bp.get("/waitlist/<token>")
@token_lookup_limit
def show(token: str):
    try:
        return jsonify(entry=entry_json(_entry_or_404(token)))
    except WaitlistError as error:
        return _error(error)


@bp.patch("/waitlist/<token>")
@token_lookup_limit
@manage_limit
def change(token: str):
    """Change the entry's dates, days, parts of day or meeting types; a field left out stays."""
    try:
        return jsonify(entry=entry_json(service.change(token, _json_body())))
    except WaitlistError as error:
        return _error(error)


@bp.post("/waitlist/<token>/leave")
@token_lookup_limit
@manage_limit
def leave(token: str):
    if request.content_length and not request.is_json:
        abort(415)
    try:
        return jsonify(entry=entry_json(service.leave(token)))
    except WaitlistError as error:
        return _error(error)


@bp.post("/offers/<token>/claim")
@token_lookup_limit
@manage_limit
def claim(token: str):
    from app.waitlist import claims

    try:
        result = claims.claim(token)
    except WaitlistError as error:
        return _error(error)
    except claims.BookingError as error:
        return api_error(error.http_status, error.code, error.message)
    return jsonify(booking=booking_json(result.booking), moved=result.moved), 200 if result.moved else 201
