"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from app.models.booking import LOCALES, MODES

_MODE = {"type": "string", "enum": list(MODES)}
_LOCALE = {"type": "string", "enum": list(LOCALES), "default": "en",
           "description": "The patient's language: their emails and invites are written in it"}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
        },
    }},
}


def _json(schema_ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _resp(description: str, schema_ref: str = "Error") -> dict[str, Any]:
    return {"description": description, **_json(schema_ref)}


_TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "The manage token from the booking's private link."}
_WAITLIST_TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
                   "description": "The token from the waiting-list entry's private link."}
_OFFER_TOKEN = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
                "description": "The token from an offer email's claim link."}
_COMMON_ERRORS = {"429": _resp("Too many requests"), "503": _resp("Database briefly unavailable; retry")}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mindset TMS consultation booking API", "version": "1.0.0",
                 "description": "Free consultation slots and bookings. Times are ISO 8601 with "
                                "the clinic's UTC offset; ids are opaque strings."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/slots": {"get": {
                "summary": "Free, bookable slots between two dates (inclusive, clinic time)",
                "parameters": [
                    {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"}},
                ],
                "responses": {"200": _resp("Free slots", "SlotList"),
                              "400": _resp("Bad or too wide date range"), **_COMMON_ERRORS},
            }},
            "/bookings": {"post": {
                "summary": "Book a free slot",
                "requestBody": {"required": True, **_json("BookingRequest")},
                "responses": {"201": _resp("Booked", "NewBooking"),
                              "400": _resp("Body is not a JSON object"),
                              "404": _resp("No such slot"),
                              "409": _resp("Slot taken or not bookable (alternatives offered)"),
                              "415": _resp("Body is not application/json"),
                              "422": _resp("Invalid fields"), **_COMMON_ERRORS},
            }},
            "/bookings/{token}": {"get": {
                "summary": "A booking, by its manage token",
                "parameters": [_TOKEN],
                "responses": {"200": _resp("The booking", "BookingEnvelope"),
                              "404": _resp("Unknown token"), **_COMMON_ERRORS},
            }},
            "/bookings/{token}/cancel": {"post": {
                "summary": "Cancel a booking",
                "parameters": [_TOKEN],
                "responses": {"200": _resp("Cancelled", "BookingEnvelope"),
                              "404": _resp("Unknown token"),
                              "409": _resp("Already cancelled or already started"),
                              "415": _resp("A body was sent that is not JSON"), **_COMMON_ERRORS},
            }},
            "/bookings/{token}/reschedule": {"post": {
                "summary": "Move a booking to another free slot; on failure it stays as it was",
                "parameters": [_TOKEN],
                "requestBody": {"required": True, **_json("RescheduleRequest")},
                "responses": {"200": _resp("Moved", "BookingEnvelope"),
                              "400": _resp("Body is not a JSON object"),
                              "404": _resp("Unknown token or slot"),
                              "409": _resp("Slot taken, or booking cannot change"),
                              "415": _resp("Body is not application/json"),
                              "422": _resp("Invalid fields"), **_COMMON_ERRORS},
            }},
            "/waitlist": {"post": {
                "summary": "Join the waiting list for an earlier time (missing lists mean any)",
                "requestBody": {"required": True, **_json("WaitlistRequest")},
                "responses": {"201": _resp("On the list; keep the token", "NewWaitlistEntry"),
                              "400": _resp("Body is not a JSON object"),
                              "415": _resp("Body is not application/json"),
                              "422": _resp("Invalid fields"), **_COMMON_ERRORS},
            }},
            "/waitlist/{token}": {"get": {
                "summary": "A waiting-list entry, by its token",
                "parameters": [_WAITLIST_TOKEN],
                "responses": {"200": _resp("The entry", "WaitlistEnvelope"),
                              "404": _resp("Unknown token"), **_COMMON_ERRORS},
            }, "patch": {
                "summary": "Change a waiting entry's choices; it keeps its place in the queue",
                "description": "Fields left out stay as they are; an empty list or null means any. "
                               "Checked by the same rules as joining. Offers already sent stand.",
                "parameters": [_WAITLIST_TOKEN],
                "requestBody": {"required": True, **_json("WaitlistChange")},
                "responses": {"200": _resp("Changed", "WaitlistEnvelope"),
                              "400": _resp("Body is not a JSON object"),
                              "404": _resp("Unknown token"),
                              "410": _resp("The entry has ended (left, fulfilled or expired)"),
                              "415": _resp("Body is not application/json"),
                              "422": _resp("Invalid fields"), **_COMMON_ERRORS},
            }},
            "/waitlist/{token}/leave": {"post": {
                "summary": "Leave the waiting list; offers still out are withdrawn",
                "parameters": [_WAITLIST_TOKEN],
                "responses": {"200": _resp("Left", "WaitlistEnvelope"),
                              "404": _resp("Unknown token"),
                              "415": _resp("A body was sent that is not JSON"), **_COMMON_ERRORS},
            }},
            "/offers/{token}/claim": {"post": {
                "summary": "Claim an offered time: first come, first served",
                "description": "Books the time, or moves the booking the entry is linked to "
                               "(same calendar UID, higher SEQUENCE).",
                "parameters": [_OFFER_TOKEN],
                "responses": {"201": _resp("Booked", "ClaimedBooking"),
                              "200": _resp("The linked booking was moved", "ClaimedBooking"),
                              "404": _resp("Unknown token"),
                              "409": _resp("Someone else took the time (code slot_taken); still on the list"),
                              "410": _resp("The offer expired or was withdrawn"), **_COMMON_ERRORS},
            }},
        },
        "components": {"schemas": {
            "Error": _ERROR,
            "Slot": {"type": "object", "required": ["id", "start", "end", "modes"], "properties": {
                "id": {"type": "string"},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "modes": {"type": "array", "items": _MODE},
            }},
            "SlotList": {"type": "object", "required": ["timezone", "slots"], "properties": {
                "timezone": {"type": "string"},
                "slots": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
            }},
            "BookingRequest": {"type": "object",
                               "required": ["slot_id", "mode", "name", "email", "phone", "interest", "consent"],
                               "properties": {
                                   "slot_id": {"type": "string"}, "mode": _MODE,
                                   "name": {"type": "string", "maxLength": 100},
                                   "email": {"type": "string", "format": "email"},
                                   "phone": {"type": "string"},
                                   "interest": {"type": "string", "enum": ["tms", "ketamine", "not_sure"]},
                                   "note": {"type": "string", "maxLength": 1000},
                                   "consent": {"type": "boolean"},
                                   "sms_consent": {"type": "boolean", "default": False,
                                                   "description": "The patient agreed to text reminders at `phone` "
                                                                  "(a confirmation and a reminder; STOP ends them)"},
                                   "locale": _LOCALE,
                               }},
            "RescheduleRequest": {"type": "object", "required": ["slot_id"], "properties": {
                "slot_id": {"type": "string"}, "mode": _MODE}},
            "Booking": {"type": "object",
                        "required": ["id", "reference", "status", "start", "end", "mode"],
                        "properties": {
                            "id": {"type": "string"},
                            "reference": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$",
                                          "description": "What the patient reads aloud, e.g. K7Q4-92MP"},
                            "status": {"type": "string", "enum": ["confirmed", "cancelled"]},
                            "start": {"type": "string", "format": "date-time"},
                            "end": {"type": "string", "format": "date-time"},
                            "mode": _MODE, "name": {"type": "string"}, "email": {"type": "string"},
                            "phone": {"type": "string"}, "interest": {"type": "string"},
                            "note": {"type": "string"}, "locale": _LOCALE, "sms_consent": {"type": "boolean"},
                            "created_at": {"type": "string", "format": "date-time"},
                        }},
            "BookingEnvelope": {"type": "object", "required": ["booking"], "properties": {
                "booking": {"$ref": "#/components/schemas/Booking"}}},
            "WaitlistRequest": {"type": "object",
                                "required": ["name", "email", "phone", "consent", "earliest", "latest"],
                                "properties": {
                                    "name": {"type": "string", "maxLength": 100},
                                    "email": {"type": "string", "format": "email"},
                                    "phone": {"type": "string"},
                                    "locale": _LOCALE,
                                    "consent": {"type": "boolean"},
                                    "sms_consent": {"type": "boolean", "default": False,
                                                    "description": "The patient agreed to text reminders at `phone` "
                                                                   "(a confirmation and a reminder; STOP ends them)"},
                                    "earliest": {"type": "string", "format": "date"},
                                    "latest": {"type": "string", "format": "date"},
                                    "weekdays": {"type": "array", "items": {
                                        "type": "integer", "minimum": 1, "maximum": 7},
                                        "description": "ISO weekdays, Monday = 1"},
                                    "parts_of_day": {"type": "array", "items": {
                                        "type": "string", "enum": ["morning", "afternoon"]}},
                                    "modes": {"type": "array", "items": _MODE},
                                    "manage_token": {"type": "string",
                                                     "description": "Link the entry to this booking, "
                                                                    "which a claim then moves"},
                                }},
            "WaitlistChange": {"type": "object", "properties": {
                "earliest": {"type": "string", "format": "date"},
                "latest": {"type": "string", "format": "date"},
                "weekdays": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1, "maximum": 7},
                             "description": "ISO weekdays, Monday = 1"},
                "parts_of_day": {"type": ["array", "null"], "items": {
                    "type": "string", "enum": ["morning", "afternoon"]}},
                "modes": {"type": ["array", "null"], "items": _MODE},
            }},
            "WaitlistEntry": {"type": "object",
                              "required": ["id", "status", "earliest", "latest", "expires_at"],
                              "properties": {
                                  "id": {"type": "string"},
                                  "status": {"type": "string",
                                             "enum": ["waiting", "left", "fulfilled", "expired"]},
                                  "name": {"type": "string"}, "email": {"type": "string"},
                                  "phone": {"type": "string"}, "locale": {"type": "string"},
                                  "sms_consent": {"type": "boolean"},
                                  "earliest": {"type": "string", "format": "date"},
                                  "latest": {"type": "string", "format": "date"},
                                  "weekdays": {"type": "array", "items": {"type": "integer"}},
                                  "parts_of_day": {"type": "array", "items": {"type": "string"}},
                                  "modes": {"type": "array", "items": _MODE},
                                  "booking_id": {"type": ["string", "null"]},
                                  "created_at": {"type": "string", "format": "date-time"},
                                  "expires_at": {"type": "string", "format": "date-time"},
                              }},
            "WaitlistEnvelope": {"type": "object", "required": ["entry"], "properties": {
                "entry": {"$ref": "#/components/schemas/WaitlistEntry"}}},
            "NewWaitlistEntry": {"type": "object", "required": ["entry", "token"], "properties": {
                "entry": {"$ref": "#/components/schemas/WaitlistEntry"}, "token": {"type": "string"}}},
            "ClaimedBooking": {"type": "object", "required": ["booking", "moved"], "properties": {
                "booking": {"$ref": "#/components/schemas/Booking"}, "moved": {"type": "boolean"}}},
            "NewBooking": {"type": "object", "required": ["booking", "manage_url", "manage_token"],
                           "properties": {"booking": {"$ref": "#/components/schemas/Booking"},
                                          "manage_url": {"type": "string"},
                                          "manage_token": {"type": "string"}}},
        }},
    }
