"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json, and the check of a
request body against it: the document states every rule of a body's shape, and the API refuses
what the document calls invalid, so the two cannot drift apart."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs

from app.models.booking import INTERESTS, LOCALES, MODES
from app.waitlist.matching import PARTS_OF_DAY

# The years a date in a request may name (app.core.security.DATE_YEARS: 1900-2999).
_YEARS = "^(19[0-9]{2}|2[0-9]{3})-"
_DATE = {"type": "string", "format": "date", "pattern": _YEARS,
         "description": "A date written YYYY-MM-DD, in the years 1900-2999"}
_MODE = {"type": "string", "enum": list(MODES)}
_LOCALE = {"type": "string", "enum": list(LOCALES), "default": "en",
           "description": "The patient's language: their emails and invites are written in it"}


# Control characters (app.booking.validation): never in one line of text; in a note only
# line breaks (\n, or \r\n).
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_ONE_LINE = rf"^[^{_CONTROLS}]*[^\s{_CONTROLS}][^{_CONTROLS}]*$"
_NOTE = r"^(?:[^\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]|\r\n)*$"


def _text(max_length: int, example: str, description: str, pattern: str = _ONE_LINE) -> dict[str, Any]:
    """One line of text: more than spaces, no control characters."""
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": pattern,
            "examples": [example], "description": description}


_NAME = _text(100, "Ana Díaz", "The person's name: one line, with a letter (422 invalid without one)")
_EMAIL = {**_text(254, "ana.diaz@example.com", "An email address (its domain is not looked up)"),
          "format": "email"}
_PHONE = _text(32, "970-555-0123", "A phone number we can call, in digits; without a country code it "
                                   "is read as a US number (422 invalid when it cannot be dialled)",
               pattern=r"^[0-9+(). -]*[0-9][0-9+(). -]*$")
_SLOT_ID = {"type": "string", "minLength": 1}  # opaque; an unknown one is 422 slot_not_found
_WEEKDAYS = {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1, "maximum": 7},
            "description": "ISO weekdays, Monday = 1; empty or null means any"}
_PARTS_LIST = {"type": ["array", "null"], "items": {"type": "string", "enum": list(PARTS_OF_DAY)},
               "description": "Parts of the day; empty or null means any"}
_MODES_LIST = {"type": ["array", "null"], "items": _MODE,
               "description": "Ways to meet; empty or null means any"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(description: str, schema_name: str, links: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = {"description": description, **_json(_ref(schema_name))}
    return {**answer, "links": links} if links else answer


def _error(description: str, *codes: str) -> dict[str, Any]:
    """An error answer: the one error shape, with the codes this answer may carry."""
    schema = {"allOf": [_ref("Error"), {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}}]}
    return {"description": f"{description} (code: {', '.join(codes)})", **_json(schema)}


def _errors(*extra: tuple[str, str, tuple[str, ...]], body: bool = False) -> dict[str, Any]:
    """The error answers of an operation: its own, and those any request may get."""
    answers: dict[str, tuple[str, tuple[str, ...]]] = {
        "400": ("Malformed input: a NUL, a lone surrogate, a date outside 1900-2999",
                ("malformed_input",)),
        "429": ("Too many requests from this address; see Retry-After", ("rate_limited",)),
        "503": ("Database briefly unavailable; nothing was changed; retry", ("unavailable",)),
    }
    if body:
        answers["400"] = ("Malformed input, or the body is not a JSON object", ("malformed_input", "bad_request"))
        answers["413"] = ("The body is larger than the service accepts", ("too_much_data",))
        answers["415"] = ("The body is not application/json", ("unsupported_media_type",))
    for status, description, codes in extra:
        if status in answers:
            description = f"{answers[status][0]}; or {description[0].lower()}{description[1:]}"
            codes = (*answers[status][1], *codes)
        answers[status] = (description, codes)
    return {status: _error(description, *codes) for status, (description, codes) in sorted(answers.items())}


def _token(description: str) -> dict[str, Any]:
    return {"name": "token", "in": "path", "required": True,
            "schema": {"type": "string", "minLength": 20, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"},
            "description": f"{description} An unknown token is answered 404 not_found."}


_BOOKING_TOKEN = _token("The manage token from the booking's private link (`manage_token`).")
_ENTRY_TOKEN = _token("The token of the waiting-list entry (`token` in the answer to joining).")
_OFFER_TOKEN = _token("The token from an offer email's claim link.")

_NOT_FOUND = ("404", "Unknown token", ("not_found",))
_FIELDS = ("422", "Fields that need attention, listed in `fields`", ("invalid",))
_SLOT_FIELDS = ("422", "Fields that need attention (in `fields`), no slot has that id, or the way "
                       "to meet is not offered at that time", ("invalid", "slot_not_found", "mode_not_offered"))


def _links_with(token_expression: str, **targets: str) -> dict[str, Any]:
    return {name: {"operationId": operation, "parameters": {"token": token_expression},
                   "description": f"The {operation} operation with the token of this answer"}
            for name, operation in targets.items()}


_BOOKING_LINKS = _links_with("$response.body#/manage_token", ShowBooking="showBooking",
                             CancelBooking="cancelBooking", RescheduleBooking="rescheduleBooking")
_ENTRY_LINKS = _links_with("$response.body#/token", ShowEntry="showWaitlistEntry",
                           ChangeEntry="changeWaitlistEntry", LeaveWaitlist="leaveWaitlist")
_SLOT_LINKS = {
    "BookSlot": {"operationId": "createBooking",
                 "requestBody": {"slot_id": "$response.body#/slots/0/id"},
                 "description": "Book the first free slot of the answer"},
    "WaitForEarlier": {"operationId": "joinWaitlist",
                       "requestBody": {"earliest": "$response.body#/start", "latest": "$response.body#/end"},
                       "description": "Wait for a time between the answer's dates"},
}


def _paths() -> dict[str, Any]:
    return {
        "/slots": {"get": {
            "operationId": "listSlots",
            "summary": "Free, bookable slots between two dates (inclusive, clinic time)",
            "parameters": [
                {"name": "start", "in": "query", "schema": _DATE,
                 "description": "The first day; today (clinic time) when left out"},
                {"name": "end", "in": "query", "schema": _DATE,
                 "description": "The last day; 13 days after start when left out"},
            ],
            "responses": {"200": _ok("Free slots", "SlotList", _SLOT_LINKS),
                          **_errors(("400", "A date that is empty or not YYYY-MM-DD, end before start, "
                                            "or more than 92 days", ("bad_request",)))},
        }},
        "/bookings": {"post": {
            "operationId": "createBooking",
            "summary": "Book a free slot",
            "requestBody": {"required": True, **_json(_ref("BookingRequest"))},
            "responses": {"201": _ok("Booked; keep the manage token", "NewBooking", _BOOKING_LINKS),
                          **_errors(("409", "The slot is taken (nearest free `alternatives` given), past, "
                                            "too soon, too far ahead or no longer offered, or this email "
                                            "holds the most upcoming bookings allowed",
                                     ("slot_taken", "slot_unavailable", "too_many_bookings")),
                                    _SLOT_FIELDS, body=True)},
        }},
        "/bookings/{token}": {"get": {
            "operationId": "showBooking",
            "summary": "A booking, by its manage token",
            "parameters": [_BOOKING_TOKEN],
            "responses": {"200": _ok("The booking", "BookingEnvelope"), **_errors(_NOT_FOUND)},
        }},
        "/bookings/{token}/cancel": {"post": {
            "operationId": "cancelBooking",
            "summary": "Cancel a booking (no body, or a JSON one, which is ignored)",
            "parameters": [_BOOKING_TOKEN],
            "responses": {"200": _ok("Cancelled", "BookingEnvelope"),
                          **_errors(_NOT_FOUND, ("409", "Already cancelled or already started",
                                                 ("booking_closed",)), body=True)},
        }},
        "/bookings/{token}/reschedule": {"post": {
            "operationId": "rescheduleBooking",
            "summary": "Move a booking to another free slot; on failure it stays as it was",
            "parameters": [_BOOKING_TOKEN],
            "requestBody": {"required": True, **_json(_ref("RescheduleRequest"))},
            "responses": {"200": _ok("Moved", "BookingEnvelope"),
                          **_errors(_NOT_FOUND,
                                    ("409", "The booking cannot change (cancelled or started), or the "
                                            "slot is taken (`alternatives` given), the same, past, too "
                                            "soon, too far ahead or no longer offered",
                                     ("booking_closed", "slot_taken", "slot_unavailable")),
                                    _SLOT_FIELDS, body=True)},
        }},
        "/waitlist": {"post": {
            "operationId": "joinWaitlist",
            "summary": "Join the waiting list for an earlier time (missing lists mean any)",
            "description": "Rules that depend on today are answered 422 invalid: the latest date must "
                           "not have passed, and the dates must lie within a year.",
            "requestBody": {"required": True, **_json(_ref("WaitlistRequest"))},
            "responses": {"201": _ok("On the list; keep the token", "NewWaitlistEntry", _ENTRY_LINKS),
                          **_errors(_FIELDS, body=True)},
        }},
        "/waitlist/{token}": {"get": {
            "operationId": "showWaitlistEntry",
            "summary": "A waiting-list entry, by its token",
            "parameters": [_ENTRY_TOKEN],
            "responses": {"200": _ok("The entry", "WaitlistEnvelope"), **_errors(_NOT_FOUND)},
        }, "patch": {
            "operationId": "changeWaitlistEntry",
            "summary": "Change a waiting entry's choices; it keeps its place in the queue",
            "description": "Fields left out stay as they are; an empty list or null means any. "
                           "Checked by the same rules as joining. Offers already sent stand.",
            "parameters": [_ENTRY_TOKEN],
            "requestBody": {"required": True, **_json(_ref("WaitlistChange"))},
            "responses": {"200": _ok("Changed", "WaitlistEnvelope"),
                          **_errors(_NOT_FOUND, _FIELDS,
                                    ("410", "The entry has ended (left, fulfilled or expired)", ("entry_ended",)),
                                    body=True)},
        }},
        "/waitlist/{token}/leave": {"post": {
            "operationId": "leaveWaitlist",
            "summary": "Leave the waiting list (again: no change); offers still out are withdrawn",
            "parameters": [_ENTRY_TOKEN],
            "responses": {"200": _ok("Left", "WaitlistEnvelope"), **_errors(_NOT_FOUND, body=True)},
        }},
        "/offers/{token}/claim": {"post": {
            "operationId": "claimOffer",
            "summary": "Claim an offered time: first come, first served",
            "description": "Books the time, or moves the booking the entry is linked to (same "
                           "calendar UID, higher SEQUENCE). The token arrives only in the offer "
                           "email, so no answer of this API links here.",
            "parameters": [_OFFER_TOKEN],
            "responses": {"201": _ok("Booked", "ClaimedBooking"),
                          "200": _ok("The linked booking was moved", "ClaimedBooking"),
                          **_errors(_NOT_FOUND,
                                    ("409", "Someone else took the time (still on the list), or the "
                                            "booking cannot be made (the email holds the most upcoming "
                                            "bookings allowed, the time can no longer be booked)",
                                     ("slot_taken", "too_many_bookings", "slot_unavailable", "booking_closed")),
                                    ("410", "The offer expired or was withdrawn", ("offer_gone",)),
                                    ("422", "The time no longer exists, or the way to meet is not offered "
                                            "at it", ("slot_not_found", "mode_not_offered")),
                                    body=True)},
        }},
    }


_SMS_CONSENT = {"type": "boolean", "default": False,
                "description": "The patient agreed to text reminders at `phone` (a confirmation and "
                               "a reminder, at most one a day; STOP ends them)"}
_BOOKING_SUMMARY = {
    "id": {"type": "string"},
    "reference": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$",
                  "description": "What the patient reads aloud, e.g. K7Q4-92MP"},
    "status": {"type": "string", "enum": ["confirmed", "cancelled"]},
    "start": {"type": "string", "format": "date-time"},
    "end": {"type": "string", "format": "date-time"},
    "mode": _MODE,
}


def _schemas() -> dict[str, Any]:
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable; what went wrong"},
                "message": {"type": "string", "description": "For people"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "What to fix, by field"},
                "alternatives": {"type": "array", "items": _ref("Slot"),
                                 "description": "The nearest free slots, when the one asked for is taken"},
            },
        }}},
        "Slot": {"type": "object", "required": ["id", "start", "end", "modes"], "properties": {
            "id": {"type": "string"},
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "modes": {"type": "array", "items": _MODE},
        }},
        "SlotList": {"type": "object", "required": ["timezone", "start", "end", "slots"], "properties": {
            "timezone": {"type": "string"},
            "start": {"type": "string", "format": "date", "description": "The first day the answer covers"},
            "end": {"type": "string", "format": "date", "description": "The last day the answer covers"},
            "slots": {"type": "array", "items": _ref("Slot")},
        }},
        "BookingRequest": {
            "type": "object",
            "examples": [{"slot_id": "f7_mdgguT6WmRLK8", "mode": "phone", "name": "Ana Díaz",
                          "email": "ana.diaz@example.com", "phone": "970-555-0123", "interest": "tms",
                          "consent": True, "locale": "es"}],
            "required": ["slot_id", "mode", "name", "email", "phone", "interest", "consent"],
            "properties": {
                "slot_id": {**_SLOT_ID, "description": "A slot's id, from GET /slots"},
                "mode": _MODE, "name": _NAME, "email": _EMAIL, "phone": _PHONE,
                "interest": {"type": "string", "enum": list(INTERESTS)},
                "note": {"type": "string", "maxLength": 1000, "pattern": _NOTE,
                         "examples": ["Evenings are best."],
                         "description": "Anything the clinic should know; line breaks allowed"},
                "consent": {"const": True, "description": "The person agrees to the privacy notice"},
                "sms_consent": _SMS_CONSENT, "locale": _LOCALE,
            }},
        "RescheduleRequest": {"type": "object", "required": ["slot_id"], "properties": {
            "slot_id": {**_SLOT_ID, "description": "The new slot's id, from GET /slots"},
            "mode": {**_MODE, "description": "The way to meet; the booking's own when left out"}}},
        "BookingSummary": {"type": "object", "required": list(_BOOKING_SUMMARY),
                           "properties": _BOOKING_SUMMARY},
        "Booking": {"type": "object", "required": list(_BOOKING_SUMMARY), "properties": {
            **_BOOKING_SUMMARY,
            "name": {"type": "string"}, "email": {"type": "string"}, "phone": {"type": "string"},
            "interest": {"type": "string", "enum": list(INTERESTS),
                         "description": "Only while the booking is still to come"},
            "note": {"type": "string", "description": "Only while the booking is still to come"},
            "locale": _LOCALE, "sms_consent": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
        }},
        "BookingEnvelope": {"type": "object", "required": ["booking"], "properties": {
            "booking": _ref("Booking")}},
        "NewBooking": {"type": "object", "required": ["booking", "manage_url", "manage_token"],
                       "properties": {"booking": _ref("Booking"),
                                      "manage_url": {"type": "string"},
                                      "manage_token": {"type": "string"}}},
        "WaitlistRequest": {
            "type": "object",
            "examples": [{"name": "Ana Díaz", "email": "ana.diaz@example.com", "phone": "970-555-0123",
                          "consent": True, "earliest": "2026-12-07", "latest": "2026-12-31",
                          "weekdays": [1, 3], "parts_of_day": ["morning"], "modes": ["phone", "video"]}],
            "required": ["name", "email", "phone", "consent", "earliest", "latest"],
            "properties": {
                "name": _NAME, "email": _EMAIL, "phone": _PHONE, "locale": _LOCALE,
                "consent": {"const": True, "description": "The person agrees to the privacy notice"},
                "sms_consent": _SMS_CONSENT,
                "earliest": _DATE, "latest": {**_DATE, "description": "On or after earliest"},
                "weekdays": _WEEKDAYS, "parts_of_day": _PARTS_LIST, "modes": _MODES_LIST,
                "manage_token": {"type": "string", "description": "Link the entry to this booking, which "
                                                                  "a claim then moves (422 invalid when the "
                                                                  "booking cannot change)"},
            }},
        "WaitlistChange": {"type": "object", "properties": {
            "earliest": _DATE, "latest": _DATE,
            "weekdays": _WEEKDAYS, "parts_of_day": _PARTS_LIST, "modes": _MODES_LIST,
        }},
        "WaitlistEntry": {"type": "object", "required": ["id", "status", "earliest", "latest", "expires_at"],
                          "properties": {
                              "id": {"type": "string"},
                              "status": {"type": "string",
                                         "enum": ["waiting", "left", "fulfilled", "expired", "revoked"]},
                              "earliest": {"type": "string", "format": "date"},
                              "latest": {"type": "string", "format": "date"},
                              "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}},
                              "parts_of_day": {"type": "array", "items": {"type": "string",
                                                                          "enum": list(PARTS_OF_DAY)}},
                              "modes": {"type": "array", "items": _MODE},
                              "sms_consent": {"type": "boolean"},
                              "booking_id": {"type": ["string", "null"]},
                              "created_at": {"type": "string", "format": "date-time"},
                              "expires_at": {"type": "string", "format": "date-time"},
                          }},
        "WaitlistEnvelope": {"type": "object", "required": ["entry"], "properties": {
            "entry": _ref("WaitlistEntry")}},
        "NewWaitlistEntry": {"type": "object", "required": ["entry", "token"], "properties": {
            "entry": _ref("WaitlistEntry"), "token": {"type": "string"}}},
        "ClaimedBooking": {"type": "object", "required": ["booking", "moved"], "properties": {
            "booking": _ref("BookingSummary"), "moved": {"type": "boolean"}}},
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mindset TMS consultation booking API", "version": "1.0.0",
                 "description": "Free consultation slots, bookings and the waiting list. Times are "
                                "ISO 8601 with the clinic's UTC offset; ids are opaque strings. Every "
                                "error answer has the shape of `Error`, with a stable `code`. Fields "
                                "of a body that this document does not name are ignored."},
        "servers": [{"url": "/api/v1"}],
        "paths": _paths(),
        "components": {"schemas": _schemas()},
    }


@cache
def _validator(schema_name: str):
    document = openapi_document()
    return jsonschema_rs.validator_for({**_ref(schema_name), "components": document["components"]},
                                       validate_formats=True)


def body_errors(schema_name: str, body: Any) -> dict[str, str]:
    """What in `body` breaks the document's `schema_name` schema, by field ("" for the body as
    a whole). The messages name the rule, never echo the value sent."""
    errors: dict[str, str] = {}
    for error in _validator(schema_name).iter_errors(body):
        path = list(error.instance_path)
        kind = type(error.kind).__name__
        if kind == "Required":
            field, message = str(error.kind.property), "is required"
        else:
            field = str(path[0]) if path else ""
            message = _RULES.get(kind, "does not follow the API description (/api/v1/openapi.json)")
        errors.setdefault(field, f"{field or 'The body'} {message}.")
    return errors


_RULES = {
    "Type": "has the wrong type", "Enum": "is not one of the allowed values",
    "Constant": "must be true", "MinLength": "must not be empty", "MaxLength": "is too long",
    "Pattern": "does not have the accepted form", "Format": "is not written the right way",
    "Minimum": "is too small", "Maximum": "is too large",
}
