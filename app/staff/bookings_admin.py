"""Bookings as staff see and handle them: search and filters, attendance, internal notes,
and cancel or move through the booking service (so the patient gets the same emails and
calendar updates as when they do it themselves)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, bindparam, false, func, or_, select

from app.booking import notifications, service, validation
from app.booking.errors import BookingError
from app.booking.reference import normalise as normalise_reference
from app.booking.search import search_text
from app.booking.search import words as search_words
from app.booking.slots import FreeFilter, SlotPicker, parse_day, picker_between
from app.core import audit
from app.core.actors import Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone, when
from app.core.tokens import hash_token, new_manage_token
from app.models import Booking, Slot, utcnow
from app.models.booking import (
    ATTENDANCE,
    INTERESTS,
    LOCALES,
    MODES,
    STATUS_CANCELLED,
    STATUS_CONFIRMED,
    STATUSES,
    BookingShown,
)
from app.models.staff import StaffUser
from app.schedule.clinic_time import day_range

PER_PAGE = 50
ATTENDANCE_LABELS = {"attended": "Attended", "no_show": "Did not attend (no-show)"}
STATUS_LABELS = {"confirmed": "Booked", "cancelled": "Cancelled"}
CALENDAR_REPLY_LABELS = {
    "accepted": "Accepted in their calendar",
    "tentative": "Maybe (tentative)",
    "declined": "Declined in their calendar",
}


class StaffActionError(Exception):
    """`field`, when set, is the form field the message belongs beside."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Filters:
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    status: str = ""
    mode: str = ""
    interest: str = ""
    when: str = "upcoming"  # upcoming | past | all
    page: int = 1

    def cleaned(self) -> Filters:
        self.q = " ".join((self.q or "").split())[:100]
        self.status = self.status if self.status in STATUSES else ""
        self.mode = self.mode if self.mode in MODES else ""
        self.interest = self.interest if self.interest in INTERESTS else ""
        self.when = self.when if self.when in ("upcoming", "past", "all") else "upcoming"
        self.page = max(1, self.page)
        return self


class _BookingColumns(NamedTuple):
    id: int
    public_id: str
    reference: str
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    status: str
    mode: str
    name: str
    email: str | None
    phone: str
    interest: str
    locale: str
    created_at: datetime
    cancelled_by: str | None
    attendance: str | None
    erased_at: datetime | None
    booked_by: str | None
    calendar_reply: str | None


class BookingRow(_BookingColumns, BookingShown):
    """A booking as the staff lists and the dashboard show it: one row with its slot's times,
    no ORM objects (a page of 50 made 100, a sixth of the list's time). `slot` is the row
    itself, so a template reads `b.slot.starts_at` of a row as of a Booking."""

    __slots__ = ()

    @property
    def slot(self) -> BookingRow:
        return self


_ROW_COLUMNS = [getattr(Slot if name in ("starts_at", "ends_at") else Booking, name) for name in BookingRow._fields]


def select_rows():
    """SELECT the BookingRow columns from booking JOIN slot; add WHERE, ORDER BY and LIMIT."""
    return select(*_ROW_COLUMNS).join(Slot, Booking.slot_id == Slot.id)


def booking_rows(statement, parameters: dict | None = None) -> list[BookingRow]:
    return [BookingRow._make(row) for row in db.session.execute(statement, parameters)]


@dataclass
class SearchResult:
    bookings: list[BookingRow]
    total: int
    page: int
    has_next: bool
    filters: Filters = field(default_factory=Filters)
    cancelled: int = 0  # of `total`: shown beside it, so a busy reader does not take all as live


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@lru_cache(maxsize=256)
def _search_statements(
    q: bool,
    words: int,
    digits: bool,
    reference: bool,
    date_from: bool,
    date_to: bool,
    equal: tuple[str, ...],
    when: str,
):
    """The count and the page statements for one shape of search (which filters are set, how
    many words), built once with bound parameters: building them each time was a fifth of the
    list's time. `equal` names the columns a filter must equal (status, mode, interest)."""
    conditions: list[ColumnElement[bool]] = []
    if q:
        # Every word in the name or email, in any order, accents and case aside; or the
        # phone number's digits; or the reference, with or without its dash.
        matches = (
            [and_(*(Booking.search_text.like(bindparam(f"word_{n}"), escape="\\") for n in range(words)))]
            if words
            else []
        )
        if digits:
            matches.append(Booking.phone.like(bindparam("digits")))
        if reference:
            matches.append(Booking.reference == bindparam("reference"))
        conditions.append(or_(*matches) if matches else false())
    if date_from:
        conditions.append(Slot.starts_at >= bindparam("date_from"))
    if date_to:
        conditions.append(Slot.starts_at < bindparam("date_to"))
    conditions += [getattr(Booking, name) == bindparam(name) for name in equal]
    # The starts_at bounds (no consultation lasts a day) let the index on starts_at find the
    # page directly, instead of walking years of history.
    if when == "upcoming":
        conditions += [Slot.ends_at > bindparam("now"), Slot.starts_at > bindparam("day_before")]
        order: tuple[SQLColumnExpression[Any], ...] = (Slot.starts_at, Booking.id)
    elif when == "past":
        conditions += [Slot.ends_at <= bindparam("now"), Slot.starts_at <= bindparam("now")]
        order = (Slot.starts_at.desc(), Booking.id.desc())
    else:
        order = (Slot.starts_at.desc(), Booking.id.desc())
    count = (
        select(func.count(Booking.id), func.count(Booking.id).filter(Booking.status == STATUS_CANCELLED))
        .join(Slot, Booking.slot_id == Slot.id)
        .where(*conditions)
    )
    return count, select_rows().where(*conditions).order_by(*order)


def search(filters: Filters, now: datetime | None = None) -> SearchResult:
    now = now or utcnow()
    filters.cleaned()
    parameters: dict[str, Any] = {"now": now, "day_before": now - timedelta(days=1)}
    words: list[str] = []
    digits = reference = ""
    if filters.q:
        words = search_words(filters.q)
        parameters.update({f"word_{n}": _like(word) for n, word in enumerate(words)})
        digits = re.sub(r"\D", "", filters.q)
        digits = digits if len(digits) >= 3 else ""
        parameters["digits"] = f"%{digits}%"
        reference = normalise_reference(filters.q) or ""
        parameters["reference"] = reference
    if filters.date_from:
        parameters["date_from"] = day_range(filters.date_from, filters.date_from)[0]
    if filters.date_to:
        parameters["date_to"] = day_range(filters.date_to, filters.date_to)[1]
    equal = tuple(name for name in ("status", "mode", "interest") if getattr(filters, name))
    parameters.update({name: getattr(filters, name) for name in equal})
    count, page = _search_statements(
        bool(filters.q),
        len(words),
        bool(digits),
        bool(reference),
        bool(filters.date_from),
        bool(filters.date_to),
        equal,
        filters.when,
    )
    total, cancelled = db.session.execute(count, parameters).one()
    found = booking_rows(page.offset((filters.page - 1) * PER_PAGE).limit(PER_PAGE + 1), parameters)
    return SearchResult(
        bookings=found[:PER_PAGE],
        total=total,
        page=filters.page,
        has_next=len(found) > PER_PAGE,
        filters=filters,
        cancelled=cancelled,
    )


def get(public_id: str) -> Booking | None:
    return service.find_by_public_id(public_id)


def record_view(booking: Booking, actor: StaffUser) -> None:
    """Opening a booking's details is itself logged: it shows a patient's personal data."""
    with write_transaction() as session:
        audit.record(session, actor, "booking.view", booking_id=booking.id)


@dataclass(frozen=True)
class SelfCheck:
    answers: list[tuple[str, str]]
    to_discuss: list[str]


def self_check(booking: Booking) -> SelfCheck | None:
    """The self-check the patient chose to attach: ({"answers": [{question, answer}],
    "to_discuss": [titles]}), read tolerantly so an older or odd shape still shows."""
    if not booking.self_check:
        return None
    try:
        data = json.loads(booking.self_check)
    except (TypeError, ValueError):
        return SelfCheck([("Answers", booking.self_check)], [])
    to_discuss: list[str] = []
    if isinstance(data, dict):
        to_discuss = [_text(t) for t in data.get("to_discuss") or []]
        data = data.get("answers", {k: v for k, v in data.items() if k != "to_discuss"})
    pairs: list[tuple[str, str]] = []
    if isinstance(data, dict):
        pairs = [(_label(k), _text(v)) for k, v in data.items()]
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                question = item.get("question") or item.get("label") or _label(item.get("key", ""))
                pairs.append((str(question), _text(item.get("answer", item.get("value", "")))))
            else:
                pairs.append(("", _text(item)))
    else:
        pairs = [("Answers", _text(data))]
    return SelfCheck(pairs, to_discuss)


def _label(key: str) -> str:
    return str(key).replace("_", " ").strip().capitalize()


def _text(value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{_label(k)}: {_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def _booking_id(public_id: str) -> int:
    booking_id = db.session.execute(select(Booking.id).where(Booking.public_id == public_id)).scalar_one_or_none()
    if booking_id is None:
        raise StaffActionError("We could not find that booking.")
    return booking_id


def cancel(public_id: str, message: str, actor: StaffUser) -> Booking:
    try:
        message = validation.multi_line(message or "", "The message", max_length=1000)
    except validation.Invalid as error:
        raise StaffActionError(str(error)) from None
    _booking_id(public_id)
    try:
        return service.cancel(public_id, actor=Actor.staff(actor), message=message or None)
    except BookingError as error:
        raise StaffActionError(error.message) from None


def move(public_id: str, slot_public_id: str, mode: str | None, actor: StaffUser) -> Booking:
    booking = get(public_id)
    if booking is None:
        raise StaffActionError("We could not find that booking.")
    new_slot = db.session.execute(select(Slot).where(Slot.public_id == slot_public_id)).scalar_one_or_none()
    if new_slot is None:
        raise StaffActionError("That time no longer exists. Please choose another.")
    try:
        return service.reschedule(public_id, slot_public_id, mode or None, actor=Actor.staff(actor))
    except BookingError as error:
        raise StaffActionError(error.message) from None


def free_slots(now: datetime | None = None, except_slot_id: int | None = None) -> list[Slot]:
    """Free times that have not started, within the booking horizon, offered by the same
    rule as the public pages (not blocked, not overlapping a busy time). Staff may choose
    times sooner than patients can (no minimum notice)."""
    lower, upper = _staff_window(now or utcnow())
    free = FreeFilter(lower, upper + timedelta(microseconds=1), except_slot_id=except_slot_id)
    return list(db.session.execute(select(Slot).where(*free.clauses).order_by(Slot.starts_at), free.params).scalars())


def _staff_window(now: datetime) -> tuple[datetime, datetime]:
    """The first and last instants a staff member may book: any time not yet started, up to
    the booking horizon."""
    return now + timedelta(microseconds=1), now + timedelta(days=current_app.config["BOOKING_HORIZON_DAYS"])


def time_picker(day_text: str | None, now: datetime | None = None, except_slot_id: int | None = None) -> SlotPicker:
    """What staff choose a time from (a new booking for a caller, or a move): a strip of days
    from today to the end of the booking horizon with each day's free times counted, and
    the chosen day's times (`day=YYYY-MM-DD` from the page; the first day with a free time
    when it is absent, unreadable or outside those days). One day at a time, as the public
    picker shows it, so that a caller's "Thursday afternoon?" is one tap away."""
    lower, upper = _staff_window(now or utcnow())
    zone = clinic_zone()
    first, last = lower.astimezone(zone).date(), upper.astimezone(zone).date()
    requested, unreadable = parse_day(day_text)
    notice = None
    if unreadable:
        notice = "That date could not be read, so the first day with a free time is shown."
    elif requested is not None and not first <= requested <= last:
        notice = (
            f"Times can be booked from today to {last:%A, %B} {last.day}, so the first day with a free time is shown."
        )
        requested = None
    return picker_between(lower, upper, requested, None, notice=notice, except_slot_id=except_slot_id)


def book_for_caller(
    slot_public_id: str, mode: str, patient: service.PatientDetails, actor: StaffUser
) -> service.NewBooking:
    """Book for someone on the phone, through the same service as the public form (same
    double-booking guarantee and emails), without its minimum notice. SlotTaken passes
    through, with its alternatives, for the page to offer."""
    return service.book(slot_public_id, mode, patient, actor=Actor.staff(actor))


def resend_confirmation(public_id: str, actor: StaffUser) -> Booking:
    try:
        return service.resend_confirmation(public_id, actor=Actor.staff(actor)).booking
    except BookingError as error:
        raise StaffActionError(error.message) from None


def _lock(session, public_id: str) -> Booking:
    booking = session.execute(
        select(Booking).where(Booking.public_id == public_id).with_for_update()
    ).scalar_one_or_none()
    if booking is None:
        raise StaffActionError("We could not find that booking.")
    return booking


def set_attendance(public_id: str, value: str | None, actor: StaffUser | None, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    if value not in (*ATTENDANCE, None):
        raise StaffActionError("Please choose attended or no-show.")
    with write_transaction() as session:
        booking = _lock(session, public_id)
        if booking.status != STATUS_CONFIRMED:
            raise StaffActionError("This booking was cancelled, so there is no attendance to record.")
        if booking.slot.starts_at > now:
            raise StaffActionError("Attendance can be recorded once the consultation has started.")
        if booking.attendance != value:
            booking.attendance = value
            booking.updated_at = now
            audit.record(session, actor, "booking.attendance", booking_id=booking.id, details=value or "cleared")
    return booking


def add_note(public_id: str, text: str, actor: StaffUser, now: datetime | None = None) -> Booking:
    now = now or utcnow()
    try:
        text = validation.multi_line(text or "", "The note", max_length=2000)
    except validation.Invalid as error:
        raise StaffActionError(str(error)) from None
    if not text:
        raise StaffActionError("Please type the note first.")
    with write_transaction() as session:
        booking = _lock(session, public_id)
        if booking.erased_at is not None:
            raise StaffActionError("This patient's data was erased; notes can no longer be added.")
        stamp = f"{when(now)}, {actor.name}"
        entry = f"[{stamp}]\n{text}"
        booking.staff_notes = f"{booking.staff_notes}\n\n{entry}" if booking.staff_notes else entry
        booking.updated_at = now
        audit.record(session, actor, "booking.note", booking_id=booking.id)
    return booking


@dataclass(frozen=True)
class Details:
    """A booking's contact details and how to meet, as staff may correct them (validated
    and normalised by the form, as for a new booking)."""

    name: str
    email: str | None  # None: phone only
    phone: str
    locale: str
    mode: str
    custom_video_url: str | None = None  # None: the clinic's VIDEO_URL


# What each field is called in the audit log (never its value: entries outlive an erasure).
DETAIL_LABELS = {
    "name": "name",
    "email": "email address",
    "phone": "phone number",
    "locale": "language",
    "mode": "meeting type",
    "custom_video_url": "video call link",
}
# The fields the patient's emails and invite show: changing one sends them the confirmation again.
_PATIENT_SEES = {"name", "email", "locale", "mode", "custom_video_url"}


def edit_details(public_id: str, details: Details, actor: StaffUser, now: datetime | None = None) -> list[str]:
    """Correct a booking's details in place; returns the fields that changed (none: nothing
    is written). When the patient's emails would read differently, they are sent the
    confirmation again (same UID, higher SEQUENCE, a new manage link; the old link stops
    working) at the address now on the booking; a changed address is first told only that
    it changed. Removing the address makes the booking phone only (nothing more is sent).
    One transaction: the change, its audit entry and its emails."""
    now = now or utcnow()
    if details.locale not in LOCALES:
        raise StaffActionError("Please choose the language for their emails.", field="locale")
    with write_transaction() as session:
        booking = _lock(session, public_id)
        if booking.erased_at is not None:
            raise StaffActionError("This patient's data was erased, so there is nothing to edit.")
        if booking.status != STATUS_CONFIRMED:
            raise StaffActionError("This consultation was cancelled, so its details can no longer be edited.")
        if details.mode != booking.mode and not booking.slot.offers(details.mode):
            offered = ", ".join(m.replace("_", " ") for m in booking.slot.mode_list)
            raise StaffActionError(f"This time is offered as: {offered}. Please choose one of those.", field="mode")
        changed = [name for name in DETAIL_LABELS if getattr(booking, name) != getattr(details, name)]
        if not changed:
            return []
        upcoming = booking.slot.ends_at > now
        if upcoming and "email" in changed:
            notifications.contact_changed(booking, to_new_address=details.email is not None)
        for name in changed:
            setattr(booking, name, getattr(details, name))
        booking.search_text = search_text(booking.name, booking.email)
        booking.updated_at = now
        if "email" in changed or (upcoming and _PATIENT_SEES.intersection(changed)):
            token = new_manage_token()
            booking.manage_token_hash = hash_token(token)  # the link sent so far stops working
            booking.ical_sequence += 1
            if upcoming:  # without an email (phone only) this only withdraws the reminder
                notifications.confirmation_resent(booking, token)
        audit.record(
            session,
            actor,
            "booking.edit",
            booking_id=booking.id,
            details="changed the " + ", ".join(DETAIL_LABELS[name] for name in changed),
        )
    return changed


def cancelled_by(booking: Booking, history: list) -> str:
    """Who cancelled: the patient (online), the clinic (the staff member, from the audit
    log), or a calendar reply (the patient declined the invite)."""
    if booking.cancelled_by == "patient":
        return "the patient"
    if booking.cancelled_by == "staff":
        entry = next((e for e in reversed(history) if e.action == "booking.cancel"), None)
        who = (entry.actor.name if entry.actor else entry.actor_email) if entry else None
        return f"the clinic ({who})" if who else "the clinic"
    if booking.cancelled_by == "calendar":
        return "a calendar reply (the patient declined the invite)"
    return booking.cancelled_by or "unknown"
