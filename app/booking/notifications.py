"""What a booking change tells people. Called inside the change's own transaction, so the
messages are queued atomically with it (see app.mail.outbox)."""

from __future__ import annotations

from datetime import datetime

from app.models import Booking


def booking_confirmed(booking: Booking) -> None:
    """Queue the patient's confirmation (with invite) and the staff notice."""


def booking_rescheduled(booking: Booking, previous_start: datetime) -> None:
    """Queue the patient's update (same UID, higher SEQUENCE)."""


def booking_cancelled(booking: Booking, message: str | None = None) -> None:
    """Queue the patient's cancellation (METHOD:CANCEL)."""
