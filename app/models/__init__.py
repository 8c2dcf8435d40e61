"""All models, importable from one place (Alembic and the app load them from here)."""

from app.models.availability import AvailabilityRule, DateOverride
from app.models.base import Base, UTCDateTime, new_public_id, utcnow
from app.models.booking import Booking, Slot
from app.models.busy import BusyInterval, BusySource
from app.models.mail import CalendarFeed, OutboxMessage
from app.models.schedule import (
    AppointmentType,
    Chair,
    ChairHold,
    Course,
    CourseSession,
    CourseTemplate,
)
from app.models.sms import SmsOptOut, SmsReply
from app.models.waitlist import FreedSlot, WaitlistEntry, WaitlistOffer

# Every model module is imported here so that the metadata (and Alembic) sees all tables.
from app.models import staff  # noqa: E402,F401  isort: skip

__all__ = [
    "AppointmentType",
    "Chair",
    "ChairHold",
    "Course",
    "CourseSession",
    "CourseTemplate",
    "AvailabilityRule",
    "Base",
    "Booking",
    "BusyInterval",
    "BusySource",
    "CalendarFeed",
    "OutboxMessage",
    "DateOverride",
    "FreedSlot",
    "Slot",
    "SmsOptOut",
    "SmsReply",
    "UTCDateTime",
    "new_public_id",
    "utcnow",
    "WaitlistEntry",
    "WaitlistOffer",
]
