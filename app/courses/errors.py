"""What can go wrong when planning or running a course, as exceptions that say what happened."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.core.errors import DomainError


class CourseError(DomainError):
    code = "course_error"
    http_status = 409


class TemplateNotFound(CourseError):
    code = "template_not_found"
    http_status = 422

    def __init__(self) -> None:
        super().__init__("Choose one of the course templates.", field="template")


class ChairNotFound(CourseError):
    code = "chair_not_found"
    http_status = 422

    def __init__(self) -> None:
        super().__init__("Choose one of the chairs in use, or any chair.", field="chair")


class CourseNotFound(CourseError):
    code = "course_not_found"
    http_status = 404

    def __init__(self) -> None:
        super().__init__("No such course.")


class SessionNotFound(CourseError):
    code = "session_not_found"
    http_status = 404

    def __init__(self) -> None:
        super().__init__("No such session in this course.")


class InvalidCourseInput(CourseError):
    """A value a person typed that cannot be used; `field` says which."""

    code = "invalid"
    http_status = 422


class NoFreeTime(CourseError):
    """The planner found no open, free time for a session within its reach."""

    code = "no_free_time"
    http_status = 409

    def __init__(self, number: int) -> None:
        super().__init__(
            f"No free time was found for session {number}: the chairs are full or the "
            "clinic is closed for months. Try another start, time or chair.",
            field="start",
        )
        self.number = number


class TimeNotOpen(CourseError):
    code = "time_not_open"
    http_status = 409

    def __init__(self, message: str = "The clinic is not open for the whole of that time.") -> None:
        super().__init__(message, field="start")


class PlanClash(CourseError):
    """A chair time of the plan was taken meanwhile. `clash` is the session that clashed
    (number, chair_id, starts_at, ends_at); `proposals` a fresh plan from the same choices
    (empty when none could be made)."""

    code = "chair_taken"
    http_status = 409

    def __init__(
        self, number: int, chair_id: int, starts_at: datetime, ends_at: datetime, proposals: Sequence = ()
    ) -> None:
        super().__init__(f"Session {number} clashes: its chair was taken at that time meanwhile. Here is a fresh plan.")
        self.number, self.chair_id, self.starts_at, self.ends_at = number, chair_id, starts_at, ends_at
        self.proposals = list(proposals)


class CourseNotActive(CourseError):
    code = "course_not_active"
    http_status = 409

    def __init__(self, message: str = "This course has ended; its sessions cannot change.") -> None:
        super().__init__(message)


class SessionNotChangeable(CourseError):
    code = "session_not_changeable"
    http_status = 409
