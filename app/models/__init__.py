"""All models, importable from one place (Alembic and the app load them from here)."""

from app.models.availability import AvailabilityRule, DateOverride
from app.models.base import Base, UTCDateTime, new_public_id, utcnow
from app.models.booking import Booking, Slot

__all__ = [
    "AvailabilityRule",
    "Base",
    "Booking",
    "DateOverride",
    "Slot",
    "UTCDateTime",
    "new_public_id",
    "utcnow",
]
