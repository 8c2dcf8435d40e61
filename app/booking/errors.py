"""What can go wrong when booking, as exceptions that say what happened."""

from __future__ import annotations

from app.core.errors import DomainError


class BookingError(DomainError):
    """A booking change that cannot be made; `code` is stable, the message is for people."""

    code = "booking_error"
    http_status = 409


class SlotNotFound(BookingError):
    """No slot has the id sent: a field of the request is wrong, the thing asked about exists."""

    code = "slot_not_found"
    http_status = 422


class SlotTaken(BookingError):
    """Somebody else holds the slot. `alternatives` are the nearest free slots."""

    code = "slot_taken"
    http_status = 409

    def __init__(self, message: str, alternatives: list | None = None) -> None:
        super().__init__(message)
        self.alternatives = alternatives or []


class SlotUnavailable(BookingError):
    """The slot exists but cannot be booked: past, too soon, too far ahead, or blocked."""

    code = "slot_unavailable"
    http_status = 409


class ModeNotOffered(BookingError):
    code = "mode_not_offered"
    http_status = 422


class BookingNotFound(BookingError):
    code = "not_found"
    http_status = 404


class BookingClosed(BookingError):
    """The booking can no longer be changed: cancelled, or its time has come."""

    code = "booking_closed"
    http_status = 409


class TooManyBookings(BookingError):
    code = "too_many_bookings"
    http_status = 409
