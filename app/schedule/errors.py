"""What can go wrong when holding a time, as exceptions that say what happened."""

from __future__ import annotations

from datetime import datetime

from app.core.errors import DomainError


class ScheduleError(DomainError):
    code = "schedule_error"
    http_status = 409


class ChairTaken(ScheduleError):
    """Another session already holds part of this time on this chair (the database said so)."""

    code = "chair_taken"
    http_status = 409

    def __init__(self, chair_id: int, starts_at: datetime, ends_at: datetime) -> None:
        super().__init__("That chair is taken at that time.", field="start")
        self.chair_id = chair_id
        self.starts_at = starts_at
        self.ends_at = ends_at
