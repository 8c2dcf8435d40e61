"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json, and the check of a
request body against it: the document states every rule of a body's shape, and the API refuses
what the document calls invalid, so the two cannot drift apart."""

from __future__ import annotations

from functools import cache
from itertools import takewhile
from typing import Any

import jsonschema_rs

from app.models.booking import INTERESTS, LOCALES, MODES
from app.waitlist.matching import PARTS_OF_DAY

# The years a date in a request may name (app.core.security.DATE_YEARS: 1900-2999).
_YEARS = "^(19[0-9]{2}|2[0-9]{3})-"
_DATE = {
    "type": "string",
    "format": "date",
    "pattern": _YEARS,
    "description": "A date written YYYY-MM-DD, in the years 1900-2999",
}
_MODE = {"type": "string", "enum": list(MODES)}
_LOCALE = {
    "type": "string",
    "enum": list(LOCALES),
    "default": "en",
    "description": "The patient's language: their emails and invites are written in it",
}


# Control characters (app.booking.validation): never in one line of text; in a note only
# line breaks (\n, or \r\n).
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_ONE_LINE = rf"^[^{_CONTROLS}]*[^\s{_CONTROLS}][^{_CONTROLS}]*$"
_NOTE = r"^(?:[^\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]|\r\n)*$"


def _text(max_length: int, example: str, description: str, pattern: str = _ONE_LINE) -> dict[str, Any]:
    """One line of text: more than spaces, no control characters."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": pattern,
        "examples": [example],
        "description": description,
    }


_NAME = _text(100, "Ana Díaz", "The person's name: one line, with a letter (422 invalid without one)")
_EMAIL = {**_text(254, "ana.diaz@example.com", "An email address (its domain is not looked up)"), "format": "email"}
_PHONE = _text(
    32,
    "970-555-0123",
    "A phone number we can call, in digits; without a country code it "
    "is read as a US number (422 invalid when it cannot be dialled)",
    pattern=r"^[0-9+(). -]*[0-9][0-9+(). -]*$",
)
_SLOT_ID = {"type": "string", "minLength": 1}  # opaque; an unknown one is 422 slot_not_found
_WEEKDAYS = {
    "type": ["array", "null"],
    "items": {"type": "integer", "minimum": 1, "maximum": 7},
    "description": "ISO weekdays, Monday = 1; empty or null means any",
}
_PARTS_LIST = {
    "type": ["array", "null"],
    "items": {"type": "string", "enum": list(PARTS_OF_DAY)},
    "description": "Parts of the day; empty or null means any",
}
_MODES_LIST = {"type": ["array", "null"], "items": _MODE, "description": "Ways to meet; empty or null means any"}


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
        "400": ("Malformed input: a NUL, a lone surrogate, a date outside 1900-2999", ("malformed_input",)),
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
    return {
        "name": "token",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 20, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]+$"},
        "description": f"{description} An unknown token is answered 404 not_found.",
    }


_BOOKING_TOKEN = _token("The manage token from the booking's private link (`manage_token`).")
_ENTRY_TOKEN = _token("The token of the waiting-list entry (`token` in the answer to joining).")
_OFFER_TOKEN = _token("The token from an offer email's claim link.")

_NOT_FOUND = ("404", "Unknown token", ("not_found",))
_FIELDS = ("422", "Fields that need attention, listed in `fields`", ("invalid",))
_SLOT_FIELDS = (
    "422",
    "Fields that need attention (in `fields`), no slot has that id, or the way to meet is not offered at that time",
    ("invalid", "slot_not_found", "mode_not_offered"),
)


def _links_with(token_expression: str, **targets: str) -> dict[str, Any]:
    return {
        name: {
            "operationId": operation,
            "parameters": {"token": token_expression},
            "description": f"The {operation} operation with the token of this answer",
        }
        for name, operation in targets.items()
    }


_BOOKING_LINKS = _links_with(
    "$response.body#/manage_token",
    ShowBooking="showBooking",
    CancelBooking="cancelBooking",
    RescheduleBooking="rescheduleBooking",
)
_ENTRY_LINKS = _links_with(
    "$response.body#/token",
    ShowEntry="showWaitlistEntry",
    ChangeEntry="changeWaitlistEntry",
    LeaveWaitlist="leaveWaitlist",
)
_SLOT_LINKS = {
    "BookSlot": {
        "operationId": "createBooking",
        "requestBody": {"slot_id": "$response.body#/slots/0/id"},
        "description": "Book the first free slot of the answer",
    },
    "WaitForEarlier": {
        "operationId": "joinWaitlist",
        "requestBody": {"earliest": "$response.body#/start", "latest": "$response.body#/end"},
        "description": "Wait for a time between the answer's dates",
    },
}


def _paths() -> dict[str, Any]:
    return {
        "/slots": {
            "get": {
                "operationId": "listSlots",
                "summary": "Free, bookable slots between two dates (inclusive, clinic time)",
                "parameters": [
                    {
                        "name": "start",
                        "in": "query",
                        "schema": _DATE,
                        "description": "The first day; today (clinic time) when left out",
                    },
                    {
                        "name": "end",
                        "in": "query",
                        "schema": _DATE,
                        "description": "The last day; 13 days after start when left out",
                    },
                ],
                "responses": {
                    "200": _ok("Free slots", "SlotList", _SLOT_LINKS),
                    **_errors(
                        (
                            "400",
                            "A date that is empty or not YYYY-MM-DD, end before start, or more than 92 days",
                            ("bad_request",),
                        )
                    ),
                },
            }
        },
        "/bookings": {
            "post": {
                "operationId": "createBooking",
                "summary": "Book a free slot",
                "requestBody": {"required": True, **_json(_ref("BookingRequest"))},
                "responses": {
                    "201": _ok("Booked; keep the manage token", "NewBooking", _BOOKING_LINKS),
                    **_errors(
                        (
                            "409",
                            "The slot is taken (nearest free `alternatives` given), past, "
                            "too soon, too far ahead or no longer offered, or this email "
                            "holds the most upcoming bookings allowed",
                            ("slot_taken", "slot_unavailable", "too_many_bookings"),
                        ),
                        _SLOT_FIELDS,
                        body=True,
                    ),
                },
            }
        },
        "/bookings/{token}": {
            "get": {
                "operationId": "showBooking",
                "summary": "A booking, by its manage token",
                "parameters": [_BOOKING_TOKEN],
                "responses": {"200": _ok("The booking", "BookingEnvelope"), **_errors(_NOT_FOUND)},
            }
        },
        "/bookings/{token}/cancel": {
            "post": {
                "operationId": "cancelBooking",
                "summary": "Cancel a booking (no body, or a JSON one, which is ignored)",
                "parameters": [_BOOKING_TOKEN],
                "responses": {
                    "200": _ok("Cancelled", "BookingEnvelope"),
                    **_errors(
                        _NOT_FOUND, ("409", "Already cancelled or already started", ("booking_closed",)), body=True
                    ),
                },
            }
        },
        "/bookings/{token}/reschedule": {
            "post": {
                "operationId": "rescheduleBooking",
                "summary": "Move a booking to another free slot; on failure it stays as it was",
                "parameters": [_BOOKING_TOKEN],
                "requestBody": {"required": True, **_json(_ref("RescheduleRequest"))},
                "responses": {
                    "200": _ok("Moved", "BookingEnvelope"),
                    **_errors(
                        _NOT_FOUND,
                        (
                            "409",
                            "The booking cannot change (cancelled or started), or the "
                            "slot is taken (`alternatives` given), the same, past, too "
                            "soon, too far ahead or no longer offered",
                            ("booking_closed", "slot_taken", "slot_unavailable"),
                        ),
                        _SLOT_FIELDS,
                        body=True,
                    ),
                },
            }
        },
        "/waitlist": {
            "post": {
                "operationId": "joinWaitlist",
                "summary": "Join the waiting list for an earlier time (missing lists mean any)",
                "description": "Rules that depend on today are answered 422 invalid: the latest date must "
                "not have passed, and the dates must lie within a year.",
                "requestBody": {"required": True, **_json(_ref("WaitlistRequest"))},
                "responses": {
                    "201": _ok("On the list; keep the token", "NewWaitlistEntry", _ENTRY_LINKS),
                    **_errors(_FIELDS, body=True),
                },
            }
        },
        "/waitlist/{token}": {
            "get": {
                "operationId": "showWaitlistEntry",
                "summary": "A waiting-list entry, by its token",
                "parameters": [_ENTRY_TOKEN],
                "responses": {"200": _ok("The entry", "WaitlistEnvelope"), **_errors(_NOT_FOUND)},
            },
            "patch": {
                "operationId": "changeWaitlistEntry",
                "summary": "Change a waiting entry's choices; it keeps its place in the queue",
                "description": "Fields left out stay as they are; an empty list or null means any. "
                "Checked by the same rules as joining. Offers already sent stand.",
                "parameters": [_ENTRY_TOKEN],
                "requestBody": {"required": True, **_json(_ref("WaitlistChange"))},
                "responses": {
                    "200": _ok("Changed", "WaitlistEnvelope"),
                    **_errors(
                        _NOT_FOUND,
                        _FIELDS,
                        ("410", "The entry has ended (left, fulfilled or expired)", ("entry_ended",)),
                        body=True,
                    ),
                },
            },
        },
        "/waitlist/{token}/leave": {
            "post": {
                "operationId": "leaveWaitlist",
                "summary": "Leave the waiting list (again: no change); offers still out are withdrawn",
                "parameters": [_ENTRY_TOKEN],
                "responses": {"200": _ok("Left", "WaitlistEnvelope"), **_errors(_NOT_FOUND, body=True)},
            }
        },
        "/offers/{token}/claim": {
            "post": {
                "operationId": "claimOffer",
                "summary": "Claim an offered time: first come, first served",
                "description": "Books the time, or moves the booking the entry is linked to (same "
                "calendar UID, higher SEQUENCE). The token arrives only in the offer "
                "email, so no answer of this API links here.",
                "parameters": [_OFFER_TOKEN],
                "responses": {
                    "201": _ok("Booked", "ClaimedBooking"),
                    "200": _ok("The linked booking was moved", "ClaimedBooking"),
                    **_errors(
                        _NOT_FOUND,
                        (
                            "409",
                            "Someone else took the time (still on the list), or the "
                            "booking cannot be made (the email holds the most upcoming "
                            "bookings allowed, the time can no longer be booked)",
                            ("slot_taken", "too_many_bookings", "slot_unavailable", "booking_closed"),
                        ),
                        ("410", "The offer expired or was withdrawn", ("offer_gone",)),
                        (
                            "422",
                            "The time no longer exists, or the way to meet is not offered at it",
                            ("slot_not_found", "mode_not_offered"),
                        ),
                        body=True,
                    ),
                },
            }
        },
        "/offers/{token}/decline": {
            "post": {
                "operationId": "declineOffer",
                "summary": '"No thanks": the offer ends and the time goes to the next person at once',
                "description": "The person stays on the waiting list for other times. Declining an offer "
                "that has already ended (claimed, expired, withdrawn, declined) changes "
                "nothing and answers its state. No body, or a JSON one, which is ignored.",
                "parameters": [_OFFER_TOKEN],
                "responses": {"200": _ok("The offer's state", "DeclinedOffer"), **_errors(_NOT_FOUND, body=True)},
            }
        },
        **_course_paths(),
    }


_STAFF: list[dict[str, list[str]]] = [{"staffToken": []}]  # an OpenAPI security requirement
_UNAUTHORISED = ("401", "No staff API token, or not a valid one (see WWW-Authenticate)", ("unauthorized",))
_FORBIDDEN = ("403", "The token was revoked, or its account is disabled", ("forbidden",))
_COURSE_ID = {
    "name": "course_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": "^[A-Za-z0-9_-]+$"},
    "description": "The course's `id` (from planning it). An unknown one is answered 404 course_not_found.",
}
_SESSION_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
    "description": "The session's number in its course (1 is the first session). "
    "One the course does not have is answered 404 session_not_found.",
}
_COURSE_LINKS = {
    name: {
        "operationId": operation,
        "parameters": {"course_id": "$response.body#/course/id", **extra},
        "description": f"The {operation} operation on this course",
    }
    for name, operation, extra in (
        ("ShowCourse", "showCourse", {}),
        ("MoveFirstSession", "moveCourseSession", {"number": 1}),
        ("RecordFirstAttendance", "recordAttendance", {"number": 1}),
    )
}
_PLAN_CLASH = (
    "409",
    "A chair time of the plan was taken meanwhile (`clash` names the session, "
    "`proposals` is a fresh plan), or no free time was found for a session "
    "(`clash` names it)",
    ("chair_taken", "no_free_time"),
)
_MOVE_CLASH = (
    "409",
    "The chair is taken then (`clash`, with the nearest free starts that day in "
    "`proposals`), the clinic is not open for the whole time or it "
    "has passed, no free time was found for a later session, the session is not a "
    "planned one still to come, or the course has ended",
    ("chair_taken", "time_not_open", "no_free_time", "session_not_changeable", "course_not_active"),
)
_COURSE_NOT_FOUND = (
    "404",
    "No course has that id (not_found: the path is not one of this API's)",
    ("course_not_found", "not_found"),
)
_SESSION_NOT_FOUND = (
    "404",
    "No course has that id, or it has no session with that number (not_found: the path is not one of this API's)",
    ("course_not_found", "session_not_found", "not_found"),
)


def _staff(operation: dict[str, Any], *extra: tuple[str, str, tuple[str, ...]], body: bool = False) -> dict[str, Any]:
    """An operation for staff integrations: it needs a personal API token."""
    return {
        **operation,
        "security": _STAFF,
        "tags": ["staff"],
        "responses": {**operation["responses"], **_errors(_UNAUTHORISED, _FORBIDDEN, *extra, body=body)},
    }


def _course_paths() -> dict[str, Any]:
    return {
        "/course-templates": {
            "get": _staff(
                {
                    "operationId": "listCourseTemplates",
                    "summary": "The course templates staff plan from (active ones)",
                    "responses": {"200": _ok("The templates", "CourseTemplateList")},
                }
            )
        },
        "/courses": {
            "post": _staff(
                {
                    "operationId": "planCourse",
                    "summary": "Plan and confirm a course: every session on a chair, in one step",
                    "description": "Sessions fall inside opening hours, never on a closure, one a day, at "
                    "`time` where it is free and at the nearest free time where it is not. "
                    "The patient gets one email with the whole course.",
                    "requestBody": {"required": True, **_json(_ref("CourseRequest"))},
                    "responses": {"201": _ok("Planned", "CourseEnvelope", _COURSE_LINKS)},
                },
                _PLAN_CLASH,
                (
                    "422",
                    "Fields that need attention (in `fields`): a first day that has passed, "
                    "an unknown template, chair or consultation reference",
                    ("invalid", "template_not_found", "chair_not_found"),
                ),
                body=True,
            )
        },
        "/courses/{course_id}": {
            "get": _staff(
                {
                    "operationId": "showCourse",
                    "summary": "A course and its sessions",
                    "parameters": [_COURSE_ID],
                    "responses": {"200": _ok("The course", "CourseEnvelope")},
                },
                _COURSE_NOT_FOUND,
            )
        },
        "/courses/{course_id}/sessions/{number}": {
            "patch": _staff(
                {
                    "operationId": "moveCourseSession",
                    "summary": "Move one session to another time (its chair, or another that is free)",
                    "parameters": [_COURSE_ID, _SESSION_NUMBER],
                    "requestBody": {"required": True, **_json(_ref("SessionMove"))},
                    "responses": {"200": _ok("Moved; the patient's calendar is updated", "CourseEnvelope")},
                },
                _SESSION_NOT_FOUND,
                _MOVE_CLASH,
                (
                    "422",
                    "Fields that need attention (in `fields`): a start off the five-minute grid, a day "
                    "with another of the patient's sessions, an unknown chair",
                    ("invalid", "chair_not_found"),
                ),
                body=True,
            )
        },
        "/courses/{course_id}/sessions/{number}/attendance": {
            "post": _staff(
                {
                    "operationId": "recordAttendance",
                    "summary": "Record that the patient attended or missed a session",
                    "parameters": [_COURSE_ID, _SESSION_NUMBER],
                    "requestBody": {"required": True, **_json(_ref("Attendance"))},
                    "responses": {"200": _ok("Recorded", "CourseEnvelope")},
                },
                _SESSION_NOT_FOUND,
                ("409", "The session was cancelled, or its day has not come", ("session_not_changeable",)),
                _FIELDS,
                body=True,
            )
        },
    }


_SMS_CONSENT = {
    "type": "boolean",
    "default": False,
    "description": "The patient agreed to text reminders at `phone` (a confirmation and "
    "a reminder, at most one a day; STOP ends them)",
}
_BOOKING_SUMMARY = {
    "id": {"type": "string"},
    "reference": {
        "type": "string",
        "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$",
        "description": "What the patient reads aloud, e.g. K7Q4-92MP",
    },
    "status": {"type": "string", "enum": ["confirmed", "cancelled"]},
    "start": {"type": "string", "format": "date-time"},
    "end": {"type": "string", "format": "date-time"},
    "mode": _MODE,
}


def _schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "Stable; what went wrong"},
                        "message": {"type": "string", "description": "For people"},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "What to fix, by field",
                        },
                        "alternatives": {
                            "type": "array",
                            "items": _ref("Slot"),
                            "description": "The nearest free slots, when the one asked for is taken",
                        },
                        "clash": {
                            "type": "object",
                            "description": "The course session, or the time, that could not be held",
                            "properties": {
                                "number": {"type": "integer"},
                                "start": {"type": "string", "format": "date-time"},
                                "end": {"type": "string", "format": "date-time"},
                                "chair": {"type": ["string", "null"]},
                            },
                        },
                        "proposals": {
                            "type": "array",
                            "description": "A fresh plan (planning), or the nearest free starts that day (moving)",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "number": {"type": "integer"},
                                    "start": {"type": "string", "format": "date-time"},
                                    "end": {"type": "string", "format": "date-time"},
                                    "chair": {"type": "string"},
                                },
                            },
                        },
                    },
                }
            },
        },
        "Slot": {
            "type": "object",
            "required": ["id", "start", "end", "modes"],
            "properties": {
                "id": {"type": "string"},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "modes": {"type": "array", "items": _MODE},
            },
        },
        "SlotList": {
            "type": "object",
            "required": ["timezone", "start", "end", "slots"],
            "properties": {
                "timezone": {"type": "string"},
                "start": {"type": "string", "format": "date", "description": "The first day the answer covers"},
                "end": {"type": "string", "format": "date", "description": "The last day the answer covers"},
                "slots": {"type": "array", "items": _ref("Slot")},
            },
        },
        "BookingRequest": {
            "type": "object",
            "examples": [
                {
                    "slot_id": "f7_mdgguT6WmRLK8",
                    "mode": "phone",
                    "name": "Ana Díaz",
                    "email": "ana.diaz@example.com",
                    "phone": "970-555-0123",
                    "interest": "tms",
                    "consent": True,
                    "locale": "es",
                }
            ],
            "required": ["slot_id", "mode", "name", "email", "phone", "interest", "consent"],
            "properties": {
                "slot_id": {**_SLOT_ID, "description": "A slot's id, from GET /slots"},
                "mode": _MODE,
                "name": _NAME,
                "email": _EMAIL,
                "phone": _PHONE,
                "interest": {"type": "string", "enum": list(INTERESTS)},
                "note": {
                    "type": "string",
                    "maxLength": 1000,
                    "pattern": _NOTE,
                    "examples": ["Evenings are best."],
                    "description": "Anything the clinic should know; line breaks allowed",
                },
                "consent": {"const": True, "description": "The person agrees to the privacy notice"},
                "sms_consent": _SMS_CONSENT,
                "locale": _LOCALE,
            },
        },
        "RescheduleRequest": {
            "type": "object",
            "required": ["slot_id"],
            "properties": {
                "slot_id": {**_SLOT_ID, "description": "The new slot's id, from GET /slots"},
                "mode": {**_MODE, "description": "The way to meet; the booking's own when left out"},
            },
        },
        "BookingSummary": {"type": "object", "required": list(_BOOKING_SUMMARY), "properties": _BOOKING_SUMMARY},
        "Booking": {
            "type": "object",
            "required": list(_BOOKING_SUMMARY),
            "properties": {
                **_BOOKING_SUMMARY,
                "name": {"type": "string"},
                "email": {"type": "string"},
                "phone": {"type": "string"},
                "interest": {
                    "type": "string",
                    "enum": list(INTERESTS),
                    "description": "Only while the booking is still to come",
                },
                "note": {"type": "string", "description": "Only while the booking is still to come"},
                "locale": _LOCALE,
                "sms_consent": {"type": "boolean"},
                "created_at": {"type": "string", "format": "date-time"},
            },
        },
        "BookingEnvelope": {"type": "object", "required": ["booking"], "properties": {"booking": _ref("Booking")}},
        "NewBooking": {
            "type": "object",
            "required": ["booking", "manage_url", "manage_token"],
            "properties": {
                "booking": _ref("Booking"),
                "manage_url": {"type": "string"},
                "manage_token": {"type": "string"},
            },
        },
        "WaitlistRequest": {
            "type": "object",
            "examples": [
                {
                    "name": "Ana Díaz",
                    "email": "ana.diaz@example.com",
                    "phone": "970-555-0123",
                    "consent": True,
                    "earliest": "2026-12-07",
                    "latest": "2026-12-31",
                    "weekdays": [1, 3],
                    "parts_of_day": ["morning"],
                    "modes": ["phone", "video"],
                }
            ],
            "required": ["name", "email", "phone", "consent", "earliest", "latest"],
            "properties": {
                "name": _NAME,
                "email": _EMAIL,
                "phone": _PHONE,
                "locale": _LOCALE,
                "consent": {"const": True, "description": "The person agrees to the privacy notice"},
                "sms_consent": _SMS_CONSENT,
                "earliest": _DATE,
                "latest": {**_DATE, "description": "On or after earliest"},
                "weekdays": _WEEKDAYS,
                "parts_of_day": _PARTS_LIST,
                "modes": _MODES_LIST,
                "manage_token": {
                    "type": "string",
                    "description": "Link the entry to this booking, which "
                    "a claim then moves (422 invalid when the "
                    "booking cannot change)",
                },
            },
        },
        "WaitlistChange": {
            "type": "object",
            "properties": {
                "earliest": _DATE,
                "latest": _DATE,
                "weekdays": _WEEKDAYS,
                "parts_of_day": _PARTS_LIST,
                "modes": _MODES_LIST,
            },
        },
        "WaitlistEntry": {
            "type": "object",
            "required": ["id", "status", "earliest", "latest", "expires_at"],
            "properties": {
                "id": {"type": "string"},
                "status": {"type": "string", "enum": ["waiting", "left", "fulfilled", "expired", "revoked"]},
                "earliest": {"type": "string", "format": "date"},
                "latest": {"type": "string", "format": "date"},
                "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}},
                "parts_of_day": {"type": "array", "items": {"type": "string", "enum": list(PARTS_OF_DAY)}},
                "modes": {"type": "array", "items": _MODE},
                "sms_consent": {"type": "boolean"},
                "booking_id": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
            },
        },
        "WaitlistEnvelope": {"type": "object", "required": ["entry"], "properties": {"entry": _ref("WaitlistEntry")}},
        "NewWaitlistEntry": {
            "type": "object",
            "required": ["entry", "token"],
            "properties": {"entry": _ref("WaitlistEntry"), "token": {"type": "string"}},
        },
        "ClaimedBooking": {
            "type": "object",
            "required": ["booking", "moved"],
            "properties": {"booking": _ref("BookingSummary"), "moved": {"type": "boolean"}},
        },
        "DeclinedOffer": {
            "type": "object",
            "required": ["offer"],
            "properties": {
                "offer": {
                    "type": "object",
                    "required": ["status", "start", "end"],
                    "properties": {
                        "status": {
                            "type": "string",
                            "enum": ["open", "claimed", "taken", "expired", "withdrawn", "declined"],
                        },
                        "start": {"type": "string", "format": "date-time"},
                        "end": {"type": "string", "format": "date-time"},
                    },
                }
            },
        },
        **_course_schemas(),
    }


_SESSION_STATUSES = ["planned", "attended", "missed", "cancelled"]
# Chair time is held in five-minute cells: a start on a five-minute mark, in a zone whose
# offset is too (the API checks the instant itself as well).
_ON_THE_GRID = (
    r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][05]:00(\.0+)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][05])$"
)


def _course_schemas() -> dict[str, Any]:
    return {
        "CourseTemplate": {
            "type": "object",
            "required": ["id", "name", "sessions"],
            "properties": {
                "id": {"type": "string", "description": "What `template` names when planning"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "sessions": {"type": "integer", "minimum": 1, "description": "How many sessions a course has"},
                "phases": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["weeks", "per_week"],
                        "properties": {"weeks": {"type": "integer"}, "per_week": {"type": "integer"}},
                    },
                },
                "first_session_minutes": {"type": "integer"},
                "session_minutes": {"type": "integer"},
            },
        },
        "CourseTemplateList": {
            "type": "object",
            "required": ["templates"],
            "properties": {"templates": {"type": "array", "items": _ref("CourseTemplate")}},
        },
        "CoursePatient": {
            "type": "object",
            "required": ["name", "phone"],
            "properties": {
                "name": _NAME,
                "email": {
                    **_EMAIL,
                    "description": "The patient's email: the course and its "
                    "changes are sent to it (none: the clinic calls)",
                },
                "phone": _PHONE,
                "locale": _LOCALE,
            },
        },
        "CourseRequest": {
            "type": "object",
            "examples": [
                {
                    "patient": {
                        "name": "Ana Díaz",
                        "email": "ana.diaz@example.com",
                        "phone": "970-555-0123",
                        "locale": "es",
                    },
                    "template": "rtms_36",
                    "start": "2027-01-11",
                    "time": "09:30",
                }
            ],
            "required": ["patient", "template", "start", "time"],
            "properties": {
                "patient": _ref("CoursePatient"),
                "template": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 40,
                    "description": "A template's `id`, from GET /course-templates",
                },
                "start": {**_DATE, "description": "The first session's day (or the first open day after it)"},
                "time": {
                    "type": "string",
                    "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                    "description": "The time of day wanted for every session, HH:MM clinic time",
                },
                "chair": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 60,
                    "description": "A chair's name; any free chair when left out",
                },
                "booking": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 20,
                    "description": "The consultation's reference (K7Q4-92MP) the course comes from",
                },
                "self_pay": {
                    "type": "boolean",
                    "default": False,
                    "description": "The patient pays: no authorisation applies",
                },
                "authorised_sessions": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "description": "Sessions the insurer authorised; later ones are flagged",
                },
                "authorised_until": {
                    **_DATE,
                    "description": "The authorisation's last day; later sessions are flagged",
                },
            },
        },
        "CourseSession": {
            "type": "object",
            "required": ["number", "start", "end", "chair", "status"],
            "properties": {
                "number": {"type": "integer", "minimum": 1},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "chair": {"type": "string", "description": "The chair's name"},
                "status": {"type": "string", "enum": _SESSION_STATUSES},
                "past_authorisation": {"type": "boolean", "description": "Past the authorised count or date"},
            },
        },
        "Course": {
            "type": "object",
            "required": ["id", "status", "template", "sessions"],
            "properties": {
                "id": {"type": "string"},
                "status": {"type": "string", "enum": ["planned", "paused", "ended", "completed"]},
                "template": {"type": "string"},
                "name": {"type": "string"},
                "email": {"type": ["string", "null"]},
                "phone": {"type": "string"},
                "locale": _LOCALE,
                "sessions": {"type": "array", "items": _ref("CourseSession")},
            },
        },
        "CourseEnvelope": {"type": "object", "required": ["course"], "properties": {"course": _ref("Course")}},
        "SessionMove": {
            "type": "object",
            "required": ["start"],
            "properties": {
                # The pattern alone (an RFC 3339 date-time on the grid): with `format` as well, too few
                # generated strings pass both for a fuzzer to work with.
                "start": {
                    "type": "string",
                    "pattern": _YEARS + _ON_THE_GRID,
                    "examples": ["2027-01-12T10:00:00-07:00"],
                    "description": "The new start, an RFC 3339 date-time with its UTC offset, on a "
                    "five-minute mark (422 invalid otherwise, or for a day the month does "
                    "not have); the session keeps its length",
                },
                "chair": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 60,
                    "description": "A chair's name; its own chair, or else the first free one, when left out",
                },
                "later": {
                    "type": "boolean",
                    "default": False,
                    "description": "Every later planned session moves to the new time of day too (on its "
                    "own day, or the next free one)",
                },
            },
        },
        "Attendance": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["attended", "missed"]}},
        },
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mindset TMS API",
            "version": "1.1.0",
            "description": "Free consultation slots, bookings and the waiting list; for staff "
            "integrations with a personal API token, treatment courses. Times are "
            "ISO 8601 with the clinic's UTC offset; ids are opaque strings. Every "
            "error answer has the shape of `Error`, with a stable `code`. Fields "
            "of a body that this document does not name are ignored.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "staffToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A staff member's personal API token (`flask --app wsgi staff token create "
                    "--email ...`), for the staff operations (tag `staff`)",
                }
            },
        },
    }


@cache
def _validator(schema_name: str):
    document = openapi_document()
    return jsonschema_rs.validator_for(
        {**_ref(schema_name), "components": document["components"]}, validate_formats=True
    )


def body_errors(schema_name: str, body: Any) -> dict[str, str]:
    """What in `body` breaks the document's `schema_name` schema, by field ("" for the body as
    a whole). The messages name the rule, never echo the value sent."""
    errors: dict[str, str] = {}
    for error in _validator(schema_name).iter_errors(body):
        # A field inside an object is named by its path ("patient.email"); an item of a list
        # by its list ("weekdays").
        keys = list(takewhile(lambda part: isinstance(part, str), error.instance_path))
        kind = type(error.kind).__name__
        if kind == "Required":
            keys.append(str(error.kind.property))
            message = "is required"
        else:
            message = _RULES.get(kind, "does not follow the API description (/api/v1/openapi.json)")
        field = ".".join(keys)
        errors.setdefault(field, f"{field or 'The body'} {message}.")
    return errors


_RULES = {
    "Type": "has the wrong type",
    "Enum": "is not one of the allowed values",
    "Constant": "must be true",
    "MinLength": "must not be empty",
    "MaxLength": "is too long",
    "Pattern": "does not have the accepted form",
    "Format": "is not written the right way",
    "Minimum": "is too small",
    "Maximum": "is too large",
}
