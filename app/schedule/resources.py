"""The clinic's resources: treatment chairs and appointment types (what a visit is, how long
it takes, whether it needs a chair). Admins keep them; a resource in use is deactivated,
never deleted, so past sessions keep their chair and type."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.database import write_transaction
from app.core.errors import DomainError
from app.core.extensions import db
from app.models import AppointmentType, Chair
from app.models.staff import StaffUser


class ResourceError(DomainError):
    code = "resource_error"
    http_status = 409


@dataclass(frozen=True)
class ChairInput:
    name: str
    position: int = 0
    is_active: bool = True


@dataclass(frozen=True)
class TypeInput:
    key: str
    name: str
    minutes: int
    needs_chair: bool = True
    is_active: bool = True


def chairs(active_only: bool = False) -> list[Chair]:
    query = select(Chair).order_by(Chair.position, Chair.id)
    if active_only:
        query = query.where(Chair.is_active.is_(True))
    return list(db.session.execute(query).scalars())


def appointment_types(active_only: bool = False) -> list[AppointmentType]:
    query = select(AppointmentType).order_by(AppointmentType.minutes.desc(), AppointmentType.id)
    if active_only:
        query = query.where(AppointmentType.is_active.is_(True))
    return list(db.session.execute(query).scalars())


def save_chair(values: ChairInput, actor: StaffUser | None, chair_id: int | None = None) -> Chair:
    """Add a chair, or change one (`chair_id`); names are unique."""
    name = " ".join(values.name.split())
    if not name:
        raise ResourceError("Enter the chair's name.", field="name")
    try:
        with write_transaction() as session:
            chair = session.get(Chair, chair_id) if chair_id is not None else Chair()
            if chair is None:
                raise ResourceError("That chair no longer exists.")
            chair.name, chair.position, chair.is_active = name, values.position, values.is_active
            session.add(chair)
            session.flush()
            audit.record(
                session,
                actor,
                "chair.save",
                details=f"chair {chair.id}: {name}{'' if values.is_active else ' (not in use)'}",
            )
    except IntegrityError:
        raise ResourceError("Another chair has that name.", field="name") from None
    return chair


def save_type(values: TypeInput, actor: StaffUser | None, type_id: int | None = None) -> AppointmentType:
    """Add an appointment type, or change one (`type_id`); short names are unique."""
    name = " ".join(values.name.split())
    if not name:
        raise ResourceError("Enter the name.", field="name")
    if values.minutes <= 0 or values.minutes % 5:
        raise ResourceError("Use a multiple of 5 minutes.", field="minutes")
    try:
        with write_transaction() as session:
            kind = session.get(AppointmentType, type_id) if type_id is not None else AppointmentType()
            if kind is None:
                raise ResourceError("That appointment type no longer exists.")
            kind.key, kind.name, kind.minutes = values.key, name, values.minutes
            kind.needs_chair, kind.is_active = values.needs_chair, values.is_active
            session.add(kind)
            session.flush()
            audit.record(
                session, actor, "appointment_type.save", details=f"type {kind.id}: {name}, {values.minutes} min"
            )
    except IntegrityError:
        raise ResourceError("Another appointment type has that short name.", field="key") from None
    return kind
