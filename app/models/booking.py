"""Consultation slots and the bookings made for them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    exists,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from app.models.base import Base, UTCDateTime, new_public_id, new_video_room, utcnow

MODES = ("in_person", "phone", "video")
INTERESTS = ("tms", "ketamine", "not_sure")

# The language the patient booked in; every message they get is written in it.
LOCALES = ("en", "es")
LOCALE_NAMES = {"en": "English", "es": "Español"}

STATUS_CONFIRMED = "confirmed"
STATUS_CANCELLED = "cancelled"
STATUSES = (STATUS_CONFIRMED, STATUS_CANCELLED)

ATTENDANCE = ("attended", "no_show")

# The patient's answer from their calendar (an iMIP REPLY's PARTSTAT, app.replies).
CALENDAR_ACCEPTED, CALENDAR_TENTATIVE, CALENDAR_DECLINED = "accepted", "tentative", "declined"
CALENDAR_REPLIES = (CALENDAR_ACCEPTED, CALENDAR_TENTATIVE, CALENDAR_DECLINED)
# Where a patient agreed to text messages: the booking form, the API, staff on the phone, or
# the waiting-list form (carried to the booking made from a claimed offer).
SMS_CONSENT_SOURCES = ("web", "api", "staff", "waitlist")


class Slot(Base):
    """A bookable consultation time. Starts are unique: the clinic runs one consultation at a time."""

    __tablename__ = "slot"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, unique=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Comma-separated subset of MODES.
    modes: Mapped[str] = mapped_column(String(64), default=",".join(MODES))
    is_blocked: Mapped[bool] = mapped_column(default=False)
    # "rule" for slots generated from weekly hours, "manual" for one-off slots staff add.
    source: Mapped[str] = mapped_column(String(16), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bookings: Mapped[list[Booking]] = relationship(back_populates="slot")

    @property
    def mode_list(self) -> list[str]:
        return [m for m in self.modes.split(",") if m]

    def offers(self, mode: str) -> bool:
        return mode in self.mode_list

    @hybrid_property
    def is_booked(self) -> bool:
        """Whether a confirmed booking holds this slot: the one way to ask, in a query
        (`select(Slot).where(~Slot.is_booked)`) or of a slot (read from the database now, in
        the caller's transaction, never from a relationship loaded earlier)."""
        session = object_session(self)
        assert session is not None, "a slot not in a session cannot say whether it is booked"
        return bool(session.execute(select(Slot.is_booked).where(Slot.id == self.id)).scalar_one())

    @is_booked.inplace.expression
    @classmethod
    def _is_booked_expression(cls) -> ColumnElement[bool]:
        return exists().where(Booking.slot_id == cls.id, BOOKING_IS_CONFIRMED)

    def __repr__(self) -> str:
        return f"<Slot {self.starts_at.isoformat()}>"


class BookingShown:
    """How a booking reads on a page, for the model and for the rows staff lists read
    (app.staff.bookings_admin.BookingRow) alike."""

    if TYPE_CHECKING:  # the columns it reads (annotations at run time would be mapped)
        name: str
        email: str | None
        locale: str
        reference: str

    @property
    def first_name_initial(self) -> str:
        return first_name_initial(self.name)

    @property
    def is_phone_only(self) -> bool:
        return self.email is None

    @property
    def language_name(self) -> str:
        return LOCALE_NAMES.get(self.locale, self.locale)

    @property
    def reference_display(self) -> str:
        return format_reference(self.reference)


class Booking(Base, BookingShown):
    """A patient's consultation. Rescheduling moves it to another slot, keeping its UID."""

    __tablename__ = "booking"
    __table_args__ = (
        # The guarantee against double booking: at most one confirmed booking per slot,
        # enforced by the database itself.
        Index(
            "uq_booking_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'confirmed'"),
            postgresql_where=text("status = 'confirmed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    # What the patient reads aloud on the phone (app.booking.reference): Crockford base32.
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_CONFIRMED)
    mode: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    # None: a caller with no email, booked by staff ("phone only"): no emails or invites go
    # out, and the front desk calls to remind them.
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str] = mapped_column(String(32))
    interest: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Agreement to text messages (None: no texts), and where it was given (SMS_CONSENT_SOURCES).
    sms_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sms_consent_source: Mapped[str | None] = mapped_column(String(16), default=None)
    # Only a SHA-256 of the manage token is kept; the token itself lives in the patient's link.
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # iCalendar identity: the UID never changes, SEQUENCE grows with every change.
    ical_uid: Mapped[str] = mapped_column(String(128), unique=True)
    ical_sequence: Mapped[int] = mapped_column(default=0)
    # Self-check answers (JSON), only when the patient chose to attach them.
    self_check: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cancelled_by: Mapped[str | None] = mapped_column(String(16), default=None)
    # The patient's optional reason for cancelling: for staff only, never in an email.
    cancel_reason: Mapped[str | None] = mapped_column(Text, default=None)
    attendance: Mapped[str | None] = mapped_column(String(16), default=None)
    staff_notes: Mapped[str] = mapped_column(Text, default="")
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The staff member's name when staff booked it for a caller (None: the patient booked online).
    booked_by: Mapped[str | None] = mapped_column(String(100), default=None)
    # The last answer read from the patient's calendar (CALENDAR_REPLIES) and when it came.
    calendar_reply: Mapped[str | None] = mapped_column(String(16), default=None)
    calendar_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The name and email folded for staff search (app.booking.search), kept with them.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A video call's address (app.invites.video): VIDEO_URL with `{room}` as this room, unless
    # staff set the booking's own address.
    video_room: Mapped[str | None] = mapped_column(String(32), default=new_video_room)
    custom_video_url: Mapped[str | None] = mapped_column(String(500), default=None)

    slot: Mapped[Slot] = relationship(back_populates="bookings")

    @property
    def is_active(self) -> bool:
        return self.status == STATUS_CONFIRMED

    def __repr__(self) -> str:
        return f"<Booking {self.public_id} {self.status}>"


def format_reference(reference: str | None) -> str:
    """'K7Q492MP' -> 'K7Q4-92MP': how a booking reference is shown and read aloud."""
    if not reference:
        return ""
    return f"{reference[:4]}-{reference[4:]}"


def first_name_initial(name: str) -> str:
    """'Ada Lovelace' -> 'Ada L.': how staff notices and feeds name a patient."""
    parts = name.split()
    if not parts:
        return "Patient"
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."


# The per-email limit on active bookings compares addresses case-insensitively.
Index("ix_booking_email_lower_status", func.lower(Booking.email), Booking.status)

# "The booking is confirmed", for queries, with the status written into the SQL (as in the
# partial index uq_booking_active_slot), so the planner can always match that index.
BOOKING_IS_CONFIRMED = Booking.status == literal_column(f"'{STATUS_CONFIRMED}'")
