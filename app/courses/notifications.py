"""What the patient is told when their course is planned or changes (email with calendar data).

The course service calls these inside the change's transaction, after changing the rows and
before committing, so a change and its message land together or not at all.
"""

from __future__ import annotations

from app.models.schedule import Course, CourseSession


def course_planned(course: Course) -> None:
    """Queue the one email that carries the whole course and the private course page link."""


def course_changed(
    course: Course, changed: list[CourseSession], cancelled: list[CourseSession]
) -> None:
    """Queue the calendar update for sessions moved or added (`changed`) and removed (`cancelled`).

    One call per change the staff or patient made (moving every later session is one call).
    """
