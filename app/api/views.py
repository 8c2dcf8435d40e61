"""JSON API v1 for the clinic's other tools: free slots and bookings by manage token."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, jsonify, request

from app.api.schema import body_errors, openapi_document
from app.booking import notifications, service, validation
from app.booking.errors import SlotTaken
from app.booking.slots import free_slots
from app.core.errors import DomainError
from app.core.extensions import csrf
from app.core.ratelimits import api_read_limit, booking_limit, manage_limit, token_lookup_limit
from app.core.timefmt import clinic_zone, parse_day, to_local
from app.models import Booking, utcnow
from app.models.booking import LOCALES

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_RANGE_DAYS = 92


def iso(instant: datetime, zone: ZoneInfo | None = None) -> str:
    return to_local(instant, zone).isoformat()


def slot_json(slot, zone: ZoneInfo | None = None) -> dict:
    """A slot (a Slot or a row of its columns) as the API shows it."""
    return {"id": slot.public_id, "start": iso(slot.starts_at, zone), "end": iso(slot.ends_at, zone),
            "modes": [mode for mode in slot.modes.split(",") if mode]}


def shows_health_details(booking: Booking, now: datetime) -> bool:
    """The interest and note are health data: the API returns them only while the booking
    is still to come, when the patient may want to check them. A cancelled or past booking's
    token (an old email, a shared device) no longer reveals them."""
    return booking.is_active and booking.slot.ends_at > now


def booking_json(booking: Booking, now: datetime | None = None) -> dict:
    found = {
        "id": booking.public_id, "reference": booking.reference_display, "status": booking.status,
        "start": iso(booking.slot.starts_at), "end": iso(booking.slot.ends_at),
        "mode": booking.mode, "name": booking.name, "email": booking.email,
        "phone": booking.phone, "locale": booking.locale, "sms_consent": booking.sms_consent_at is not None,
        "created_at": iso(booking.created_at),
    }
    if shows_health_details(booking, now or utcnow()):
        found.update(interest=booking.interest, note=booking.note)
    return found


def api_error(status: int, code: str, message: str, **extra):
    response = jsonify(error={"code": code, "message": message, **extra})
    response.status_code = status
    return response


def domain_error(error: DomainError):
    """Every refusal of a service, as the API's error body and status."""
    extra: dict = {}
    if isinstance(error, SlotTaken):
        extra["alternatives"] = [slot_json(s) for s in error.alternatives]
    if error.fields:
        return api_error(error.http_status, error.code, "Some fields need attention.", fields=error.fields, **extra)
    return api_error(error.http_status, error.code, error.message, **extra)


bp.register_error_handler(DomainError, domain_error)


def invalid_fields(fields: dict[str, str]):
    return api_error(422, "invalid", "Some fields need attention.", fields=fields)


def json_body() -> dict:
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(api_error(400, "bad_request", "The body must be a JSON object."))
    return body


def checked_body(schema_name: str) -> dict:
    """The JSON body, refused (422, by field) when it breaks the document's schema for it."""
    body = json_body()
    errors = body_errors(schema_name, body)
    if errors:
        abort(invalid_fields(errors))
    return body


def no_body_or_json() -> None:
    """Operations without a body take none, or a JSON one they ignore."""
    if request.content_length and not request.is_json:
        abort(415)


def _parse_day(name: str, default: date) -> date:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return parse_day(raw)
    except ValueError:
        abort(api_error(400, "bad_request", f"{name} must be a date written YYYY-MM-DD."))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


@bp.get("/slots")
@api_read_limit
def list_slots():
    zone = clinic_zone()
    today = utcnow().astimezone(zone).date()
    start = _parse_day("start", today)
    end = _parse_day("end", start + timedelta(days=13))
    if end < start:
        return api_error(400, "bad_request", "end must be on or after start.")
    if (end - start).days >= MAX_RANGE_DAYS:
        return api_error(400, "bad_request", f"Ask for at most {MAX_RANGE_DAYS} days at a time.")
    starts = datetime.combine(start, datetime.min.time(), zone)
    ends = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
    slots = free_slots(starts, ends, now=utcnow())
    return jsonify({"timezone": zone.key, "start": start.isoformat(), "end": end.isoformat(),
                    "slots": [slot_json(s, zone) for s in slots]})


def _booking_request(body: dict) -> tuple[dict[str, Any], dict[str, str]]:
    """The booking body's clean values and, by field, what to fix (all fields checked)."""
    type_errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    for field in validation.BOOKING_TEXT_FIELDS:
        value = body.get(field)
        if isinstance(value, str):
            raw[field] = value
        elif value is not None:
            type_errors[field] = f"{field} must be a string."
    consent = body.get("consent")
    for flag in ("consent", "sms_consent"):
        if body.get(flag) is not None and not isinstance(body.get(flag), bool):
            type_errors[flag] = f"{flag} must be true or false."
    fields, errors = validation.booking_fields(raw, current_app.config["PHONE_DEFAULT_REGION"],
                                               consent=consent is True)
    clean: dict[str, Any] = dict(fields)
    locale = body.get("locale", "en")
    if locale not in LOCALES:
        errors["locale"] = "locale must be en or es."
    else:
        clean["locale"] = locale
    clean["sms_consent"] = "api" if body.get("sms_consent") is True else None
    return clean, {**errors, **type_errors}


@bp.post("/bookings")
@booking_limit
def create_booking():
    body = json_body()
    clean, errors = _booking_request(body)
    # The field rules' own messages first; the document's rules catch the rest of the shape.
    errors = {**body_errors("BookingRequest", body), **errors}
    if errors:
        return invalid_fields(errors)
    patient = service.PatientDetails(name=clean["name"], email=clean["email"], phone=clean["phone"],
                                     interest=clean["interest"], note=clean["note"],
                                     locale=clean["locale"], sms_consent=clean["sms_consent"])
    result = service.book(clean["slot_id"], clean["mode"], patient)
    return jsonify(
        booking=booking_json(result.booking),
        # The same link as in the confirmation email: on the clinic's public address.
        manage_url=notifications.manage_url(result.manage_token, result.booking.locale),
        manage_token=result.manage_token,
    ), 201


def _booking_by_token(token: str) -> Booking:
    booking = service.find_by_token(token)
    if booking is None:
        abort(api_error(404, "not_found", "No booking has that token."))
    return booking


@bp.get("/bookings/<token>")
@token_lookup_limit
def show_booking(token: str):
    return jsonify(booking=booking_json(_booking_by_token(token)))


@bp.post("/bookings/<token>/cancel")
@token_lookup_limit
@manage_limit
def cancel_booking(token: str):
    booking = _booking_by_token(token)
    no_body_or_json()
    service.cancel(booking.public_id, by="patient")
    return jsonify(booking=booking_json(_booking_by_token(token)))


@bp.post("/bookings/<token>/reschedule")
@token_lookup_limit
@manage_limit
def reschedule_booking(token: str):
    booking = _booking_by_token(token)
    body = checked_body("RescheduleRequest")
    service.reschedule(booking.public_id, body["slot_id"], body.get("mode"), by="patient", manage_token=token)
    return jsonify(booking=booking_json(_booking_by_token(token)))
