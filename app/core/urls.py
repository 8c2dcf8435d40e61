"""Absolute addresses for links that leave the request (emails, invites, texts, feeds):
every one starts at PUBLIC_BASE_URL."""

from __future__ import annotations

from flask import current_app

from app.models import Booking


def public_url(path: str) -> str:
    """`path` (starting with "/") at the service's public address."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def staff_booking_url(booking: Booking) -> str:
    """The booking's page in the staff console."""
    return public_url(f"/staff/bookings/{booking.public_id}")
