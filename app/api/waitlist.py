"""The waiting list: join, look up, change, leave, and claim or decline an offer."""

from __future__ import annotations

from flask import current_app, jsonify

from app.api import bp
from app.api.common import checked_body, invalid_fields, iso, json_body, no_body_or_json
from app.api.schema import body_errors
from app.core.ratelimits import booking_limit, manage_limit, token_lookup_limit
from app.models import Booking, WaitlistEntry, WaitlistOffer
from app.schedule.clinic_time import clinic_today
from app.waitlist import claims, service
from app.waitlist.errors import EntryNotFound
from app.waitlist.validation import join_fields


def entry_json(entry: WaitlistEntry) -> dict:
    return {
        "id": entry.public_id,
        "status": service.state(entry),
        "name": entry.name,
        "email": entry.email,
        "phone": entry.phone,
        "locale": entry.locale,
        "sms_consent": entry.sms_consent_at is not None,
        "earliest": entry.earliest.isoformat(),
        "latest": entry.latest.isoformat(),
        "weekdays": entry.weekday_list,
        "parts_of_day": entry.part_list,
        "modes": entry.mode_list,
        "booking_id": entry.booking.public_id if entry.booking is not None else None,
        "created_at": iso(entry.created_at),
        "expires_at": iso(entry.expires_at),
    }


def claimed_json(booking: Booking) -> dict:
    """What a claim answers: the time taken and the booking's reference, no more. A claim
    may move a booking joined by its manage link, so the answer carries none of the
    booking's contact or health details (the confirmation email and manage link have them)."""
    return {
        "id": booking.public_id,
        "reference": booking.reference_display,
        "status": booking.status,
        "start": iso(booking.slot.starts_at),
        "end": iso(booking.slot.ends_at),
        "mode": booking.mode,
    }


@bp.post("/waitlist")
@booking_limit
def join_waitlist():
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
def show_entry(token: str):
    return jsonify(entry=entry_json(_entry_or_404(token)))


@bp.patch("/waitlist/<token>")
@token_lookup_limit
@manage_limit
def change_entry(token: str):
    """Change the entry's dates, days, parts of day or meeting types; a field left out stays."""
    return jsonify(entry=entry_json(service.change(token, checked_body("WaitlistChange"))))


@bp.post("/waitlist/<token>/leave")
@token_lookup_limit
@manage_limit
def leave_waitlist(token: str):
    no_body_or_json()
    return jsonify(entry=entry_json(service.leave(token)))


@bp.post("/offers/<token>/claim")
@token_lookup_limit
@manage_limit
def claim_offer(token: str):
    no_body_or_json()
    result = claims.claim(token)
    return jsonify(booking=claimed_json(result.booking), moved=result.moved), 200 if result.moved else 201


def offer_json(offer: WaitlistOffer) -> dict:
    """An offer's state after "No thanks", and the time it was for (no one's details)."""
    return {"status": claims.state(offer), "start": iso(offer.slot.starts_at), "end": iso(offer.slot.ends_at)}


@bp.post("/offers/<token>/decline")
@token_lookup_limit
@manage_limit
def decline_offer(token: str):
    """ "No thanks": the offer ends and the time goes to the next person at once; the person
    stays on the list. Declining an offer that has already ended changes nothing."""
    no_body_or_json()
    return jsonify(offer=offer_json(claims.decline(token)))
