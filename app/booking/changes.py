"""One way into a booking change. Every change (booked, moved, cancelled, confirmation
resent) is made by an `Actor` (app.core.actors) and, once made, runs the one list of hooks
`HOOKS` inside its own transaction: a feature's hooks first (a waiting-list claim, a calendar
reply: they may still refuse the change), then the audit line, the waiting-list records and
the queued messages. A hook that raises undoes the whole change.

A feature above booking takes part by adding its hook with `@changes.hook` where it makes
the actor that needs it, never by a callback argument or a session listener."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.booking import notifications, slot_records
from app.core import audit
from app.core.actors import Actor
from app.core.extensions import db
from app.core.timefmt import when
from app.models import Booking

BOOKED, MOVED, CANCELLED, RESENT = "booked", "moved", "cancelled", "resent"


@dataclass(frozen=True)
class Change:
    """What the hooks see: the change, the booking as it now stands, who made it and when."""

    what: str
    booking: Booking
    actor: Actor
    now: datetime
    manage_token: str | None = None  # the link its messages carry (booked, moved, resent)
    slot_waitlisted: bool = False  # booked, moved: the waiting list had something open on the slot now held
    previous_start: datetime | None = None  # moved
    previous_slot_id: int | None = None  # moved
    previous_mode: str | None = None  # moved
    message: str | None = None  # cancelled: the clinic's note to the patient


Hook = Callable[[Change], None]

_AUDIT_ACTIONS = {
    BOOKED: "booking.create",
    MOVED: "booking.move",
    CANCELLED: "booking.cancel",
    RESENT: "booking.resend",
}


def _audit_details(change: Change) -> str:
    """What the audit line says: dates and whether a message went, never the patient or the
    message itself (it may mention health)."""
    if change.what == BOOKED:
        return f"for a caller, {when(change.booking.slot.starts_at)}"
    if change.what == CANCELLED:
        return "with a message to the patient" if change.message else "without a message"
    if change.what == MOVED:
        assert change.previous_start is not None
        details = f"from {when(change.previous_start)} to {when(change.booking.slot.starts_at)}"
        if change.booking.mode != change.previous_mode:
            details += f", now {change.booking.mode.replace('_', ' ')}"
        return details
    return ""


def record_audit(change: Change) -> None:
    """A change a staff member made is written in the audit log, in its own transaction."""
    if change.actor.member is not None:
        audit.record(
            db.session(),
            change.actor.member,
            _AUDIT_ACTIONS[change.what],
            booking_id=change.booking.id,
            details=_audit_details(change),
        )


def record_for_waiting_list(change: Change) -> None:
    """What the waiting list reads (app.booking.slot_records): a slot freed or taken, a
    manage link replaced or ended."""
    booking, now = change.booking, change.now
    if change.what in (CANCELLED, RESENT):
        slot_records.manage_link_ended(booking.id, now)
    if change.what in (BOOKED, MOVED) and change.slot_waitlisted:
        slot_records.slot_taken(booking.slot_id, now)
    if change.what == MOVED:
        assert change.previous_slot_id is not None
        slot_records.slot_freed(change.previous_slot_id, slot_records.MOVED, now)
    if change.what == CANCELLED:
        slot_records.slot_freed(booking.slot_id, slot_records.CANCELLED, now)


def queue_messages(change: Change) -> None:
    """The patient's and the staff's messages, queued in the outbox (app.booking.notifications)."""
    booking, token = change.booking, change.manage_token
    if change.what == BOOKED:
        assert token is not None
        notifications.booking_confirmed(booking, token)
    elif change.what == MOVED:
        assert token is not None and change.previous_start is not None
        notifications.booking_rescheduled(booking, change.previous_start, token)
    elif change.what == CANCELLED:
        notifications.booking_cancelled(booking, change.message)
    elif change.what == RESENT:
        assert token is not None
        notifications.confirmation_resent(booking, token)


HOOKS: list[Hook] = [record_audit, record_for_waiting_list, queue_messages]


def hook(function: Hook) -> Hook:
    """Add a feature's hook to HOOKS (once), ahead of booking's own; use as a decorator."""
    if function not in HOOKS:
        HOOKS.insert(0, function)
    return function


def run_hooks(change: Change) -> None:
    """Inside the change's transaction, after the change is made."""
    for each in list(HOOKS):
        each(change)
