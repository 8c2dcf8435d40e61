"""Who makes a change: one explicit `Actor` passed to every service function that changes a
booking (and to the others that keep an audit line), so the rules that depend on who acts
(the minimum notice, changing a consultation that has started) and what is recorded
(`booked_by`, `cancelled_by`, the audit log) read it from one place."""

from __future__ import annotations

from dataclasses import dataclass

from app.models.staff import StaffUser

PATIENT, STAFF, CALENDAR, SYSTEM = "patient", "staff", "calendar", "system"
KINDS = (PATIENT, STAFF, CALENDAR, SYSTEM)


@dataclass(frozen=True)
class Actor:
    """The patient (their form, their manage link, a waiting-list offer they claim), a staff
    member, the patient's calendar answering an invite, or the system (a command, the worker)."""

    kind: str
    member: StaffUser | None = None  # STAFF: the signed-in member (the audit log names them)
    offer_id: int | None = None  # PATIENT: the waiting-list offer they are claiming
    reply_sequence: int | None = None  # CALENDAR: the invite SEQUENCE the reply answers

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor {self.kind!r}")

    @property
    def is_staff(self) -> bool:
        return self.kind == STAFF

    @classmethod
    def staff(cls, member: StaffUser | None) -> Actor:
        return cls(STAFF, member=member)

    @classmethod
    def claiming(cls, offer_id: int) -> Actor:
        return cls(PATIENT, offer_id=offer_id)

    @classmethod
    def calendar(cls, reply_sequence: int) -> Actor:
        return cls(CALENDAR, reply_sequence=reply_sequence)


THE_PATIENT = Actor(PATIENT)
THE_SYSTEM = Actor(SYSTEM)
