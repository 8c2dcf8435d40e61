"""Free slots and bookings by manage token, and the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, jsonify, request

from app.api import bp
from app.api.common import api_error, checked_body, error_extra, invalid_fields, iso, json_body, no_body_or_json
from app.api.schema import body_errors, openapi_document
from app.booking import notifications, service, validation
from app.booking.errors import BookingNotFound, SlotTaken
from app.booking.slots import free_slots
from app.core.actors import THE_PATIENT
from app.core.ratelimits import api_read_limit, booking_limit, manage_limit, token_lookup_limit
from app.core.timefmt import clinic_zone, parse_day
from app.models import Booking, utcnow
from app.models.booking import LOCALES

MAX_RANGE_DAYS = 92


def slot_json(slot, zone: ZoneInfo | None = None) -> dict:
    """A slot (a Slot or a row of its columns) as the API shows it."""
    return {
        "id": slot.public_id,
        "start": iso(slot.starts_at, zone),
        "end": iso(slot.ends_at, zone),
        "modes": [mode for mode in slot.modes.split(",") if mode],
    }


@error_extra(SlotTaken)
def _alternatives(error: SlotTaken) -> dict:
    return {"alternatives": [slot_json(slot) for slot in error.alternatives]}


def shows_health_details(booking: Booking, now: datetime) -> bool:
    """The interest and note are health data: the API returns them only while the booking
    is still to come, when the patient may want to check them. A cancelled or past booking's
    token (an old email, a shared device) no longer reveals them."""
    return booking.is_active and booking.slot.ends_at > now


def booking_json(booking: Booking, now: datetime | None = None) -> dict:
    found = {
        "id": booking.public_id,
        "reference": booking.reference_display,
        "status": booking.status,
        "start": iso(booking.slot.starts_at),
        "end": iso(booking.slot.ends_at),
        "mode": booking.mode,
        "name": booking.name,
        "email": booking.email,
        "phone": booking.phone,
        "locale": booking.locale,
        "sms_consent": booking.sms_consent_at is not None,
        "created_at": iso(booking.created_at),
    }
    if shows_health_details(booking, now or utcnow()):
        found.update(interest=booking.interest, note=booking.note)
    return found


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
    return jsonify(
        {
            "timezone": zone.key,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "slots": [slot_json(s, zone) for s in slots],
        }
    )


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
    fields, errors = validation.booking_fields(raw, current_app.config["PHONE_DEFAULT_REGION"], consent=consent is True)
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
    patient = service.PatientDetails(
        name=clean["name"],
        email=clean["email"],
        phone=clean["phone"],
        interest=clean["interest"],
        note=clean["note"],
        locale=clean["locale"],
        sms_consent=clean["sms_consent"],
    )
    result = service.book(clean["slot_id"], clean["mode"], patient, actor=THE_PATIENT)
    return jsonify(
        booking=booking_json(result.booking),
        # The same link as in the confirmation email: on the clinic's public address.
        manage_url=notifications.manage_url(result.manage_token, result.booking.locale),
        manage_token=result.manage_token,
    ), 201


def _booking_by_token(token: str) -> Booking:
    booking = service.find_by_token(token)
    if booking is None:
        raise BookingNotFound("No booking has that token.")
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
    service.cancel(booking.public_id, actor=THE_PATIENT)
    return jsonify(booking=booking_json(_booking_by_token(token)))


@bp.post("/bookings/<token>/reschedule")
@token_lookup_limit
@manage_limit
def reschedule_booking(token: str):
    booking = _booking_by_token(token)
    body = checked_body("RescheduleRequest")
    service.reschedule(booking.public_id, body["slot_id"], body.get("mode"), actor=THE_PATIENT, manage_token=token)
    return jsonify(booking=booking_json(_booking_by_token(token)))
