"""Booking windows from settings: how soon and how far ahead a slot may be booked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app


@dataclass(frozen=True)
class BookingWindow:
    earliest: datetime
    latest: datetime

    def contains(self, instant: datetime) -> bool:
        return self.earliest <= instant <= self.latest


def booking_window(now: datetime) -> BookingWindow:
    config = current_app.config
    return BookingWindow(
        earliest=now + timedelta(hours=config["BOOKING_MIN_NOTICE_HOURS"]),
        latest=now + timedelta(days=config["BOOKING_HORIZON_DAYS"]),
    )
