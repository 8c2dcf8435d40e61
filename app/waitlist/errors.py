"""What can go wrong on the waiting list, as exceptions that say what happened."""

from __future__ import annotations

from app.core.errors import DomainError


class WaitlistError(DomainError):
    """`code` is stable (the API's error code), the message is for people."""

    code = "waitlist_error"
    http_status = 409


class EntryNotFound(WaitlistError):
    code = "not_found"
    http_status = 404


class BookingNotLinkable(WaitlistError):
    """The manage token given names no booking that could still be moved."""

    code = "invalid"
    http_status = 422


class OfferNotFound(WaitlistError):
    code = "not_found"
    http_status = 404


class OfferGone(WaitlistError):
    """The offer expired, or was withdrawn (the person left, the slot is no longer offered)."""

    code = "offer_gone"
    http_status = 410


class OfferTaken(WaitlistError):
    """Someone else booked the slot first; the person stays on the list."""

    code = "slot_taken"
    http_status = 409


class EntryEnded(WaitlistError):
    """The person left the list, took an offer, or their place ran out: nothing to change."""

    code = "entry_ended"
    http_status = 410


class InvalidChoices(WaitlistError):
    """A change whose fields need attention; `fields` says what to fix, by field."""

    code = "invalid"
    http_status = 422

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("Some fields need attention.")
        self.field_errors = fields

    @property
    def fields(self) -> dict[str, str]:
        return self.field_errors
