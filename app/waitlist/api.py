"""The waiting list in the JSON API (/api/v1): join, look up, change, leave, and claim an offer."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.api.schema import body_errors
from app.api.views import checked_body, domain_error, invalid_fields, iso, json_body, no_body_or_json
from app.core.errors import DomainError
from app.core.extensions import csrf
from app.core.ratelimits import booking_limit, manage_limit, token_lookup_limit
from app.models import Booking, WaitlistEntry
from app.schedule.clinic_time import clinic_today
from app.waitlist import claims, service
from app.waitlist.errors import EntryNotFound
from app.waitlist.validation import join_fields

bp = Blueprint("waitlist_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.register_error_handler(DomainError, domain_error)


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


def claimed_json(booking: Booking) -> dict:
    """What a claim answers: the time taken and the booking's reference, no more. A claim
    may move a booking joined by its manage link, so the answer carries none of the
    booking's contact or health details (the confirmation email and manage link have them)."""
    return {"id": booking.public_id, "reference": booking.reference_display, "status": booking.status,
            "start": iso(booking.slot.starts_at), "end": iso(booking.slot.ends_at), "mode": booking.mode}


@bp.post("/waitlist")
@booking_limit
def join():
    body = json_body()
    today = clinic_today()
    joining, errors = join_fields(body, current_app.config["PHONE_DEFAULT_REGION"], today)
    # The field rules' own messages first; the document's rules catch the rest of the shape.
    errors = {**body_errors("WaitlistRequest", body), **errors}
    if errors:
        return invalid_fields(errors)
    result = service.join(joining)
    return jsonify(entry=entry_json(result.entry), token=result.token), 201


def _entry_or_404(token: str) -> WaitlistEntry:
    entry = service.find_by_token(token)
    if entry is None:
        raise EntryNotFound("No waiting-list entry has that token.")
    return entry


@bp.get("/waitlist/<token>")
@token_lookup_limit
def show(token: str):
    return jsonify(entry=entry_json(_entry_or_404(token)))


@bp.patch("/waitlist/<token>")
@token_lookup_limit
@manage_limit
def change(token: str):
    """Change the entry's dates, days, parts of day or meeting types; a field left out stays."""
    return jsonify(entry=entry_json(service.change(token, checked_body("WaitlistChange"))))


@bp.post("/waitlist/<token>/leave")
@token_lookup_limit
@manage_limit
def leave(token: str):
    no_body_or_json()
    return jsonify(entry=entry_json(service.leave(token)))


@bp.post("/offers/<token>/claim")
@token_lookup_limit
@manage_limit
def claim(token: str):
    no_body_or_json()
    result = claims.claim(token)
    return jsonify(booking=claimed_json(result.booking), moved=result.moved), 200 if result.moved else 201
