"""The audit log: one row per staff action, written in the same transaction as the action
(a service that owns its transaction calls `record` inside it; a booking change through
its hooks, app.booking.changes). Only `record` adds rows; nothing changes or deletes them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.extensions import db
from app.models.staff import AuditLog, StaffUser

CLI_ACTOR = "command line"

ACTION_LABELS = {
    "sign_in": "Signed in",
    "sign_out": "Signed out",
    "account.create": "Created a staff account",
    "account.disable": "Disabled a staff account",
    "account.enable": "Enabled a staff account",
    "account.role": "Changed a staff account's role",
    "account.password": "Changed a password",
    "hours.add": "Added opening hours",
    "hours.remove": "Removed opening hours",
    "hours.edit": "Changed opening hours",
    "override.closed": "Closed the clinic on a date",
    "override.extra": "Added extra hours on a date",
    "override.remove": "Removed a date change",
    "slot.add": "Added a one-off time",
    "slot.block": "Blocked times",
    "slot.unblock": "Unblocked times",
    "slot.delete": "Deleted free times",
    "booking.create": "Booked for a caller",
    "booking.resend": "Resent the confirmation (new manage link)",
    "booking.cancel": "Cancelled a booking",
    "booking.move": "Moved a booking",
    "booking.edit": "Edited a booking's details",
    "booking.attendance": "Recorded attendance",
    "booking.note": "Added an internal note",
    "booking.text": "Sent a text to the patient",
    "booking.view": "Viewed a booking",
    "patient.erase": "Erased a patient's data",
    "export.csv": "Exported bookings",
    "waitlist.add": "Added a caller to the waiting list",
    "day.print": "Printed the day list",
    "course.plan": "Planned a treatment course",
    "course.attended": "Marked a course session attended",
    "course.missed": "Marked a course session missed",
    "course.add_session": "Added a session at the end of a course",
    "course.move": "Moved course sessions",
    "course.pause": "Paused a course",
    "course.resume": "Resumed a course",
    "course.end": "Ended a course early",
    "chair.save": "Saved a treatment chair",
    "appointment_type.save": "Saved an appointment type",
    "course_template.save": "Saved a course template",
    "feed.create": "Created a calendar feed",
    "feed.revoke": "Revoked a calendar feed",
    "token.create": "Created an API token",
    "token.revoke": "Revoked an API token",
}


def record(
    session: Session, actor: StaffUser | None, action: str, *, booking_id: int | None = None, details: str = ""
) -> AuditLog:
    """Add an entry to the caller's transaction. `details` must not name the patient or hold
    health information: the entry outlives an erasure."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else CLI_ACTOR,
        action=action,
        booking_id=booking_id,
        details=details[:2000],
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditLog]
    page: int
    has_next: bool
    total: int


def entries(page: int = 1, per_page: int = 50, action: str | None = None, booking_id: int | None = None) -> AuditPage:
    query = select(AuditLog)
    if action:
        query = query.where(AuditLog.action == action)
    if booking_id is not None:
        query = query.where(AuditLog.booking_id == booking_id)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = (
        db.session.execute(
            query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
        )
        .scalars()
        .all()
    )
    return AuditPage(entries=list(rows[:per_page]), page=page, has_next=len(rows) > per_page, total=total)


def for_booking(booking_id: int) -> list[AuditLog]:
    return list(
        db.session.execute(
            select(AuditLog)
            .where(AuditLog.booking_id == booking_id, AuditLog.action != "booking.view")
            .order_by(AuditLog.at, AuditLog.id)
        ).scalars()
    )
