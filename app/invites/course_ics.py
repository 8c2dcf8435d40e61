"""Calendar data for a treatment course: one VEVENT per session, each with its own UID.

Why one event per session and not one recurring event with overrides:
- A course is not a rule. Holidays, closures, the taper (3, 2, 1 a week), the nearest free
  time when the usual one is taken and every later move make an RRULE carry a long tail of
  EXDATEs, RDATEs and overrides. Outlook drops an event with RDATE but no RRULE
  (MS-OXCICAL; SparkDevNetwork/Rock #4112) and Google hides RDATEs after an RRULE's UNTIL
  (esrg-knights/Squire #107): an added session at the end would vanish there.
- Times stay UTC instants (the consultation invite's rule, app.invites.ics): each session's
  instant is worked out from the clinic's wall clock when it is planned, so a course across
  the March and November DST changes needs no VTIMEZONE and no client's zone arithmetic.
- Every session already has its UID and SEQUENCE (CourseSession), so a change touches only
  its own event.
How each message is written (the one rule, `course_calendar`):
- About one session: an iTIP REQUEST (new or moved) or CANCEL, exactly as a consultation's
  invite, which Gmail, Outlook and Apple apply to the event with that UID. RFC 5546 allows
  one UID per REQUEST or CANCEL, and Outlook reads only the first VEVENT of an iMIP part
  (MS-STANOICAL 2.2.175).
- About several (the planned course, "move every later session"): METHOD:PUBLISH, which may
  carry many UIDs (RFC 5546 3.2.1), with the events' own SEQUENCE and STATUS (CANCELLED for
  withdrawn ones), attached as an .ics file: Apple Calendar and Outlook import every event of
  it in one step and replace an event they hold by UID; Gmail's invitation card shows only the
  first event of a multi-event file, so the email and the course page also offer the whole
  course as one file for Google Calendar's import (and the page's link to add it).
No health words: the title is "Appointment – <clinic>".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _

from app.invites import ics
from app.invites.ics import CANCEL, PUBLISH, REQUEST, InviteEvent, Party


@dataclass(frozen=True)
class SessionEntry:
    """What the patient's calendar says about one session, as it stood when a message was queued."""

    uid: str
    sequence: int
    number: int
    total: int
    starts_at: datetime
    ends_at: datetime
    chair: str
    cancelled: bool = False

    def to_json(self) -> dict:
        return {
            "uid": self.uid,
            "sequence": self.sequence,
            "number": self.number,
            "total": self.total,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "chair": self.chair,
            "cancelled": self.cancelled,
        }

    @classmethod
    def from_json(cls, data: dict) -> SessionEntry:
        return cls(
            **{
                **data,
                "starts_at": datetime.fromisoformat(data["starts_at"]),
                "ends_at": datetime.fromisoformat(data["ends_at"]),
            }
        )


def session_summary() -> str:
    # No "n of N" in the title: a visit moved or added elsewhere would leave other events'
    # numbers stale in the calendar (only the changed events are sent again).
    return _("Appointment – %(clinic)s", clinic=current_app.config["CLINIC_NAME"])


def session_description(entry: SessionEntry, page_url: str | None) -> str:
    config = current_app.config
    lines = [
        _("Your visit to %(clinic)s.", clinic=config["CLINIC_NAME"]),
        _("Where: %(address)s (%(chair)s).", address=ics.clinic_address(), chair=entry.chair),
    ]
    if page_url:
        lines.append(_("All your visits, and to ask to move one: %(url)s", url=page_url))
    lines.append(_("Questions: call %(phone)s.", phone=config["CLINIC_PHONE"]))
    lines.append(_("In a crisis, call or text 988, or call 911."))
    return "\n".join(lines)


def session_event(entry: SessionEntry, attendee: Party | None, page_url: str | None) -> InviteEvent:
    return InviteEvent(
        uid=entry.uid,
        sequence=entry.sequence,
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        summary=session_summary(),
        location=ics.clinic_address(),
        description=session_description(entry, page_url),
        organizer=ics.organizer(),
        attendee=attendee,
        cancelled=entry.cancelled,
        url=page_url,
    )


def course_method(entries: Sequence[SessionEntry]) -> str:
    """REQUEST or CANCEL for a message about one session, PUBLISH for one about several."""
    if len(entries) == 1:
        return CANCEL if entries[0].cancelled else REQUEST
    return PUBLISH


def course_calendar(
    entries: Sequence[SessionEntry], dtstamp: datetime, attendee: Party | None, page_url: str | None
) -> tuple[str, str]:
    """(method, VCALENDAR text) of one message about `entries` (see the module's rule)."""
    if not entries:
        raise ValueError("a course calendar needs at least one session")
    method = course_method(entries)
    events = [session_event(entry, attendee, page_url) for entry in entries]
    return method, ics.build_calendar(events, method, dtstamp)


def course_download(entries: Sequence[SessionEntry], dtstamp: datetime, page_url: str | None) -> str:
    """Every session as one file to import (METHOD:PUBLISH, the same UIDs as the emails, so
    later emails update what it added)."""
    return ics.build_calendar([session_event(entry, None, page_url) for entry in entries], PUBLISH, dtstamp)
