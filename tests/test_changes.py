"""One way into a booking change: an explicit actor, and one list of hooks run inside the
change's transaction (app.booking.changes)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.booking import changes, service
from app.core.actors import THE_PATIENT, Actor
from app.core.extensions import db
from app.models import Booking, OutboxMessage, Slot
from app.models.staff import AuditLog
from tests.conftest import make_slot, patient
from tests.fixtures_staff import make_staff


@pytest.fixture
def app(any_app):
    return any_app


def counts() -> tuple[int, int, int]:
    db.session.rollback()
    return tuple(
        db.session.execute(select(func.count(model.id))).scalar_one() for model in (Booking, OutboxMessage, AuditLog)
    )


def test_features_hooks_run_before_the_bookings_own():
    from app.replies.service import record_decline
    from app.waitlist.claims import record_claim

    hooks = changes.HOOKS
    own = [hooks.index(h) for h in (changes.record_audit, changes.record_for_waiting_list, changes.queue_messages)]
    assert own == sorted(own) and own[-1] == len(hooks) - 1
    assert max(hooks.index(record_claim), hooks.index(record_decline)) < own[0]
    changes.hook(record_claim)  # adding a hook again changes nothing
    assert hooks.count(record_claim) == 1


def test_a_hook_that_refuses_undoes_the_whole_change(ctx, monkeypatch):
    seen: list[changes.Change] = []

    def refuse(change: changes.Change) -> None:
        seen.append(change)
        raise RuntimeError("refused")

    slot, member = make_slot(), make_staff()
    before = counts()
    monkeypatch.setattr(changes, "HOOKS", [refuse, *changes.HOOKS])
    with pytest.raises(RuntimeError):
        service.book(slot.public_id, "phone", patient(), actor=Actor.staff(member))
    assert seen[0].what == changes.BOOKED and seen[0].actor.is_staff
    assert counts() == before  # no booking, no message, no audit line
    assert not db.session.get(Slot, slot.id).is_booked


def test_a_staff_members_change_writes_its_audit_line_with_it_and_a_patients_none(ctx):
    member = make_staff()
    by_staff = service.book(make_slot().public_id, "phone", patient(), actor=Actor.staff(member)).booking
    by_patient = service.book(make_slot().public_id, "phone", patient(email="b@example.com"), actor=THE_PATIENT).booking
    service.cancel(by_patient.public_id, actor=THE_PATIENT)
    service.cancel(by_staff.public_id, actor=Actor.staff(member), message="Closed that day.")
    lines = db.session.execute(
        select(AuditLog.action, AuditLog.booking_id, AuditLog.details).order_by(AuditLog.id)
    ).all()
    assert [(a, b) for a, b, _d in lines if a.startswith("booking.")] == [
        ("booking.create", by_staff.id),
        ("booking.cancel", by_staff.id),
    ]
    assert lines[-1].details == "with a message to the patient"
    assert by_staff.booked_by == member.name and by_staff.cancelled_by == "staff"
    assert by_patient.cancelled_by == "patient"


def test_an_unknown_actor_is_refused():
    with pytest.raises(ValueError):
        Actor("robot")
