"""What the patient is told when their course is planned or changes (email with calendar data).

The course service calls these inside the change's transaction, after changing the rows and
before committing, so a change and its message land together or not at all. Like booking
emails, each is queued as a small event (app.mail.outbox) that the worker renders when it
sends it; a patient without an email address gets nothing. The course page token, like a
manage token, is kept only as a hash: the planned email is the one that carries the link
(`course_planned` issues the token when the service has not), and a change carries it only
when its caller knows it (a move from the course page).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import object_session

from app.core.i18n import PREFIXES
from app.core.tokens import hash_token, new_manage_token
from app.core.urls import public_url
from app.invites.course_ics import SessionEntry
from app.mail import outbox
from app.mail.outbox import Message
from app.models.schedule import SESSION_CANCELLED, Course, CourseSession


def new_course_page_token(course: Course) -> str:
    """A new private course page token (the manage-link rules): only its hash is stored on
    the course, replacing any earlier one; the token itself is returned once."""
    token = new_manage_token()
    course.page_token_hash = hash_token(token)
    return token


def course_page_url(token: str, locale: str = "en") -> str:
    """The course page, at the address of the patient's language."""
    return public_url(f"{PREFIXES.get(locale, '')}/course/{token}")


def session_entries(
    course: Course, sessions: Iterable[CourseSession], withdrawn: frozenset[int] = frozenset()
) -> list[SessionEntry]:
    """The calendar's view of `sessions` (those in `withdrawn` as cancelled whatever their
    status). A visit's number is its place among the course's visits in time order (n of N),
    as the patient counts them, whatever was moved, cancelled or added before it."""
    live = sorted(
        (s for s in course.sessions if s.status != SESSION_CANCELLED and s.id not in withdrawn),
        key=lambda s: (s.starts_at, s.number),
    )
    place = {s.id: n for n, s in enumerate(live, 1)}
    return [
        SessionEntry(
            uid=s.ical_uid,
            sequence=s.ical_sequence,
            number=place.get(s.id, s.number),
            total=len(live),
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            chair=s.chair.name,
            cancelled=s.id not in place,
        )
        for s in sorted(sessions, key=lambda s: (s.starts_at, s.number))
    ]


def course_event(
    course: Course,
    sessions: Iterable[CourseSession],
    page_url: str | None,
    withdrawn: frozenset[int] = frozenset(),
    **more,
) -> dict:
    return {
        "course": course.public_id,
        "name": course.name,
        "email": course.email,
        "locale": course.locale or "en",
        "page_url": page_url,
        "sessions": [entry.to_json() for entry in session_entries(course, sessions, withdrawn)],
        **more,
    }


def _flush(course: Course) -> None:
    # The caller's new rows need their ids and relationships before they are described.
    session = object_session(course)
    if session is not None:
        session.flush()
        session.refresh(course, ["sessions"])


def course_planned(course: Course, page_token: str | None = None) -> None:
    """Queue the one email that carries the whole course and the private course page link.

    The link's token is `page_token` (never stored: only its hash is); without it, a new one
    is issued here (`new_course_page_token`: the course's earlier hash, never sent, is replaced)."""
    token = page_token or new_course_page_token(course)
    if not course.email:
        return
    _flush(course)
    live = [s for s in course.sessions if s.status != SESSION_CANCELLED]
    if not live:
        return
    details = course_event(course, live, course_page_url(token, course.locale))
    outbox.enqueue_unbooked(
        Message(outbox.COURSE_PLANNED, to_address=course.email, to_name=course.name, details=details)
    )


def course_changed(
    course: Course,
    changed: list[CourseSession],
    cancelled: list[CourseSession],
    page_token: str | None = None,
) -> None:
    """Queue the calendar update for sessions moved or added (`changed`) and removed (`cancelled`).

    One call per change the staff or patient made (moving every later session is one call),
    and one email per call. The service has already raised each moved or cancelled session's
    `ical_sequence` (an added one starts at 0 under a new UID), so the patient's calendar
    replaces what it holds for that UID; a touched session's reminder is due again. The email
    carries the course page link when the caller knows the token (`page_token`: a move the
    patient asked for from the course page)."""
    touched = [*changed, *cancelled]
    if not touched:
        return
    for session in touched:
        session.reminded_at = None
    _flush(course)
    if not course.email:
        return
    page_url = course_page_url(page_token, course.locale) if page_token else None
    withdrawn = frozenset(s.id for s in cancelled)
    still_on = [s for s in course.sessions if s.status != SESSION_CANCELLED and s.id not in withdrawn]
    upcoming = [entry.to_json() for entry in session_entries(course, still_on, withdrawn)]
    details = course_event(course, touched, page_url, withdrawn, upcoming=upcoming)
    outbox.enqueue_unbooked(
        Message(outbox.COURSE_CHANGED, to_address=course.email, to_name=course.name, details=details)
    )
