"""Composing emails: subjects and bodies from the templates in templates/email/ (a .txt and
an .html for each kind), and the MIME message a calendar client reads as an invite.

Headers are built from `email.headerregistry.Address` objects under `email.policy.SMTP`, and
every piece of text in a header (display names, subjects, the first name and initial a
notice shows) passes through `one_line`, which drops line breaks and breaks up RFC 2047
encoded-words, so a name can never add a header, whatever validation happened earlier.
`as_bytes` then reads the serialized message back and refuses it if its headers or
recipients are not the ones composed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from flask import current_app
from flask_babel import gettext as _

from app.core.i18n import PREFIXES
from app.core.labels import mode_label
from app.core.text import one_line
from app.core.timefmt import clinic_zone, clock_with_zone, current_locale, short_day, to_local, when_with_zone_name
from app.core.urls import public_url
from app.invites import ics
from app.invites.video import video_link
from app.models import Booking, OutboxMessage

CALENDAR_METHODS = ("REQUEST", "CANCEL", "PUBLISH")
_ADDR_SPEC = re.compile(r"^[^\s@<>()\[\]\\,;:\"]+@[^\s@<>()\[\]\\,;:\"]+$")


class InvalidMessage(ValueError):
    """The message cannot be built (for example a malformed address): never retried."""


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str


# --- words -------------------------------------------------------------------------------

# A first name as people write one: letters, perhaps joined by an apostrophe or a hyphen
# (O'Neil, Jean-Luc), perhaps an initial's dot (J.); never digits, a formula or a domain.
_FIRST_NAME = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*\.?")
_FIRST_NAME_MAX = 30


def first_name(name: str) -> str:
    """The neutralised first name every patient email greets and addresses (the To display
    name): the first word of `name` when it reads as a name, else "" (the greeting then says
    "there"). A name is whatever was typed into a form, so "=1+1" or "claim your prize at
    evil.example" is never written into an email as if the clinic had said it."""
    words = one_line(name).split(" ")
    word = words[0] if words else ""
    return word if len(word) <= _FIRST_NAME_MAX and _FIRST_NAME.fullmatch(word) else ""


def local_when(instant: datetime) -> str:
    """'Tuesday, December 1, 2026 at 9:00 AM MST (Mountain Time)'; Spanish
    'martes, 1 de diciembre de 2026, 9:00 a. m. (hora de Colorado)'"""
    return when_with_zone_name(instant, clinic_zone())


def _clinic(suffix: str) -> str:
    return f"{suffix} – {current_app.config['CLINIC_NAME']}"


def _render(kind: str, subject: str, **context) -> Content:
    # Straight from the Jinja environment: emails need no request context processors, and
    # this runs inside the booking's write transaction, so it should be quick.
    context.setdefault("subject", subject)
    context.setdefault("email_language", current_locale().language)
    env = current_app.jinja_env
    return Content(
        subject=one_line(subject),
        text=env.get_template(f"email/{kind}.txt").render(**context),
        html=env.get_template(f"email/{kind}.html").render(**context),
    )


def _booking_context(booking: Booking, manage_url: str | None) -> dict:
    return {
        "booking": booking,
        "first_name": first_name(booking.name) or _("there"),
        "starts": local_when(booking.slot.starts_at),
        "ends": clock_with_zone(booking.slot.ends_at),
        "minutes": int((booking.slot.ends_at - booking.slot.starts_at).total_seconds() // 60),
        "mode_label": mode_label(booking.mode),
        "address": ics.clinic_address(),
        "manage_url": manage_url,
        "video_url": video_link(booking),
        "book_url": public_url(f"{PREFIXES.get(current_locale().language, '')}/book"),
    }


def confirmation(booking: Booking, manage_url: str) -> Content:
    return _render("confirmation", _clinic(_("Your consultation is booked")), **_booking_context(booking, manage_url))


def update(booking: Booking, previous_start: datetime, manage_url: str | None = None) -> Content:
    return _render(
        "update",
        _clinic(_("Your consultation has moved")),
        previous=local_when(previous_start),
        **_booking_context(booking, manage_url),
    )


def cancellation(booking: Booking, message: str | None = None) -> Content:
    return _render(
        "cancellation",
        _clinic(_("Your consultation is cancelled")),
        message=(message or "").strip(),
        **_booking_context(booking, None),
    )


def contact_changed() -> Content:
    """To the address a booking no longer uses: that its address changed, with no name, time
    or link (the address may be a stranger's, typed by mistake)."""
    return _render("contact_changed", _clinic(_("The email address of a booking was changed")))


def reminder_subject(starts_at: datetime, sent_at: datetime) -> str:
    start_day = to_local(starts_at).date()
    send_day = to_local(sent_at).date()
    if start_day == send_day:
        return _clinic(_("Reminder: your consultation today"))
    if start_day == send_day + timedelta(days=1):
        return _clinic(_("Reminder: your consultation tomorrow"))
    return _clinic(_("Reminder: your consultation on %(day)s", day=short_day(starts_at)))


def reminder(booking: Booking, sent_at: datetime, manage_url: str | None) -> Content:
    return _render(
        "reminder", reminder_subject(booking.slot.starts_at, sent_at), **_booking_context(booking, manage_url)
    )


def staff_notice(booking: Booking, event: str, staff_url: str, previous_start: datetime | None = None) -> Content:
    """A short notice for the clinic's staff address: no contact or health details."""
    headline = {
        "booked": "New consultation booked",
        "moved": "Consultation moved",
        "cancelled": "Consultation cancelled",
    }[event]
    if event == "cancelled" and getattr(booking, "calendar_reply", None) == "declined":
        headline = "Consultation cancelled: the patient declined it in their calendar"
    slot = booking.slot
    subject = f"{headline}: {short_day(slot.starts_at)} at {clock_with_zone(slot.starts_at)}"
    return _render(
        "staff_notice",
        subject,
        headline=headline,
        event=event,
        who=one_line(booking.first_name_initial),
        starts=local_when(slot.starts_at),
        previous=local_when(previous_start) if previous_start else None,
        mode_label=mode_label(booking.mode),
        staff_url=staff_url,
    )


def inbound_notice(event: dict) -> Content:
    """Mail to the clinic's address passed on to staff (a calendar reply staff must act on,
    or a message the service does not read), with its sender, subject and text."""
    starts_at = event.get("starts_at")
    subject = f"{event['headline']}: {event.get('subject') or '(no subject)'}"
    context = {"event": event, "starts": local_when(datetime.fromisoformat(starts_at)) if starts_at else None}
    env = current_app.jinja_env
    return Content(
        subject=one_line(subject)[:200],
        text=env.get_template("staff/email/inbound_notice.txt").render(subject=subject, **context),
        html=env.get_template("staff/email/inbound_notice.html").render(subject=subject, **context),
    )


def offer(event: dict) -> Content:
    """A waiting-list offer: a free time and the link to claim it. Only the time, the
    meeting types and the link: no health words (it may be read on a shared screen)."""
    starts_at = datetime.fromisoformat(event["starts_at"])
    ends_at = datetime.fromisoformat(event["ends_at"])
    return _render(
        "offer",
        _("An earlier consultation time is free"),
        first_name=first_name(event.get("name") or "") or _("there"),
        starts=local_when(starts_at),
        minutes=int((ends_at - starts_at).total_seconds() // 60),
        mode_labels=[mode_label(m) for m in event["modes"]],
        claim_url=event["claim_url"],
        expires=local_when(datetime.fromisoformat(event["expires_at"])),
    )


def waitlist_joined(event: dict) -> Content:
    """The waiting list's private link, sent on joining: the only way to change or leave the
    place. No health words, as for an offer."""
    return _render(
        "waitlist_joined",
        _("You are on the waiting list"),
        first_name=first_name(event.get("name") or "") or _("there"),
        entry_url=event["entry_url"],
        until=local_when(datetime.fromisoformat(event["expires_at"])),
    )


# --- treatment courses -------------------------------------------------------------------
# Subjects, preview text and calendar titles say "appointment" and nothing about health: a
# lock screen or a shared calendar may show them.


def _course_visits(data: list[dict]) -> list[dict]:
    """Each session as the email lists it: its number, day and time, chair, and length."""
    visits = []
    for item in data:
        starts_at = datetime.fromisoformat(item["starts_at"])
        ends_at = datetime.fromisoformat(item["ends_at"])
        visits.append(
            {
                "number": item["number"],
                "total": item["total"],
                "when": local_when(starts_at),
                "short": f"{short_day(starts_at)}, {clock_with_zone(starts_at)}",
                "chair": item["chair"],
                "cancelled": item.get("cancelled", False),
                "minutes": int((ends_at - starts_at).total_seconds() // 60),
                "starts_at": starts_at,
            }
        )
    return visits


def _course_context(event: dict) -> dict:
    return {
        "first_name": first_name(event.get("name") or "") or _("there"),
        "page_url": event.get("page_url"),
        "address": ics.clinic_address(),
    }


def course_planned(event: dict, now: datetime) -> Content:
    """The one email of a planned course: every visit, the calendar data and the private page."""
    visits = _course_visits(event["sessions"])
    return _render(
        "course_planned",
        _clinic(_("Your appointments are booked")),
        visits=visits,
        first=visits[0],
        count=len(visits),
        **_course_context(event),
    )


def course_changed(event: dict, now: datetime) -> Content:
    """One email per change: the visits at their new times, those withdrawn, and the next ones."""
    visits = _course_visits(event["sessions"])
    upcoming = [v for v in _course_visits(event.get("upcoming", [])) if v["starts_at"] > now][:3]
    return _render(
        "course_changed",
        _clinic(_("Your appointments have changed")),
        moved=[v for v in visits if not v["cancelled"]],
        withdrawn=[v for v in visits if v["cancelled"]],
        upcoming=upcoming,
        **_course_context(event),
    )


def course_reminder_subject(starts_at: datetime, sent_at: datetime) -> str:
    start_day = to_local(starts_at).date()
    send_day = to_local(sent_at).date()
    if start_day == send_day:
        return _clinic(_("Reminder: your appointment today"))
    if start_day == send_day + timedelta(days=1):
        return _clinic(_("Reminder: your appointment tomorrow"))
    return _clinic(_("Reminder: your appointment on %(day)s", day=short_day(starts_at)))


def course_reminder(event: dict, sent_at: datetime) -> Content:
    """The reminder of one visit; "today" or "tomorrow" as of the moment it is sent."""
    [visit] = _course_visits(event["sessions"])
    return _render(
        "course_reminder", course_reminder_subject(visit["starts_at"], sent_at), visit=visit, **_course_context(event)
    )


# --- MIME --------------------------------------------------------------------------------


def address(addr_spec: str, name: str = "") -> Address:
    addr_spec = addr_spec.strip()
    if not _ADDR_SPEC.match(addr_spec):
        raise InvalidMessage("the address is not a plain mailbox (user@domain)")
    username, domain = addr_spec.rsplit("@", 1)
    if not username.isascii():
        # SMTPUTF8 is not assumed of the mail server: say so once instead of retrying.
        raise InvalidMessage("the address has non-ASCII characters before the @")
    try:
        domain = domain.encode("idna").decode("ascii")
        return Address(display_name=display_name(name), username=username, domain=domain)
    except (ValueError, IndexError, UnicodeError) as error:
        raise InvalidMessage(f"the address cannot be used: {error}") from None


# The longest display name (escapes counted) whose quoted form fits on one header line.
_DISPLAY_NAME_MAX = 70


def display_name(name: str) -> str:
    """`one_line(name)`, shortened if need be so that, quoted, it fits on one header line.
    Python 3.11's folding drops the quotes around a display name it has to split, and the
    specials inside (`,` `<` `@` ...) would then read as more addresses: `verify` would
    refuse such a message, so the name is kept short enough never to be split."""
    name = one_line(name)
    while len(name) + name.count('"') + name.count("\\") > _DISPLAY_NAME_MAX:
        name = name[:-1]
    return name.rstrip()


def sender_address() -> Address:
    name, addr_spec = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return address(addr_spec, name or current_app.config["CLINIC_NAME"])


def _part(content: str, subtype: str, cte: str) -> MIMEPart:
    part = MIMEPart(policy=SMTP)
    part.set_content(content, subtype=subtype, cte=cte)
    return part


def calendar_part(calendar: str, method: str) -> MIMEPart:
    if method not in CALENDAR_METHODS or f"\r\nMETHOD:{method}\r\n" not in calendar:
        raise InvalidMessage("the calendar's METHOD and the MIME method must agree")
    # base64 keeps the calendar's CRLF line ends and folding byte for byte.
    part = _part(calendar, "calendar", "base64")
    part.replace_header("Content-Type", f"text/calendar; method={method}; charset=UTF-8")
    return part


def build(message: OutboxMessage, sent_at: datetime) -> EmailMessage:
    """The email for an outbox row, as sent at `sent_at` (its Date and the invite's DTSTAMP).

    With an invite: multipart/mixed [ multipart/alternative [ text/plain, text/html,
    text/calendar; method=... ], invite.ics ] - what Gmail, Outlook and Apple Mail all
    show as an invitation."""
    email = EmailMessage(policy=SMTP)
    email["From"] = sender_address()
    # A patient is addressed by their first name only (the staff address by the clinic's).
    to_name = message.to_name if message.kind == "staff_notice" else first_name(message.to_name)
    email["To"] = address(message.to_address, to_name)
    reply_to = current_app.config.get("CLINIC_EMAIL")
    if reply_to and message.kind not in ("staff_notice", "inbound"):
        email["Reply-To"] = address(reply_to, current_app.config["CLINIC_NAME"])
    email["Subject"] = one_line(message.subject)
    email["Date"] = format_datetime(sent_at)
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    email["MIME-Version"] = "1.0"

    alternative = MIMEPart(policy=SMTP)
    alternative.make_alternative()
    alternative.attach(_part(message.body_text, "plain", "quoted-printable"))
    if message.body_html:
        alternative.attach(_part(message.body_html, "html", "quoted-printable"))
    if message.ics:
        method = message.ics_method or ""
        calendar = ics.restamp(message.ics, sent_at)
        alternative.attach(calendar_part(calendar, method))
        email.make_mixed()
        email.attach(alternative)  # type: ignore[arg-type]  # typeshed: attach(Self); a sub-part is a MIMEPart
        attachment = MIMEPart(policy=SMTP)
        filename = "appointments.ics" if message.kind.startswith("course_") else "invite.ics"
        attachment.set_content(
            calendar.encode("utf-8"), maintype="application", subtype="ics", disposition="attachment", filename=filename
        )
        email.attach(attachment)  # type: ignore[arg-type]  # as above
    else:
        email.make_alternative()
        for part in alternative.iter_parts():
            email.attach(part)  # type: ignore[arg-type]  # as above
    return email


def as_bytes(email: EmailMessage) -> bytes:
    """The message as sent, once it has been read back to the same headers (`verify`)."""
    raw = email.as_bytes(policy=SMTP)
    verify(email, raw)
    return raw


_RECIPIENT_HEADERS = ("To", "Cc", "Bcc")


def _recipients(message: EmailMessage) -> dict[str, list[str]]:
    return {
        name: [address.addr_spec for header in message.get_all(name, []) for address in header.addresses]
        for name in _RECIPIENT_HEADERS
    }


def verify(email: EmailMessage, raw: bytes) -> None:
    """Defence in depth against header injection: parse the serialized bytes back and refuse
    the message (InvalidMessage: failed, never retried) unless a reader finds the very header
    names, in the same number, and the same To/Cc/Bcc addresses that were composed. A line
    break that slipped through folding shows up here as an extra header or as the header
    block ending early, whichever Python version did the folding."""
    read = BytesParser(policy=SMTP).parsebytes(raw)
    composed_names = [name.lower() for name in email.keys()]
    read_names = [name.lower() for name in read.keys()]
    if read_names != composed_names:
        extra = sorted(set(read_names) - set(composed_names))
        missing = sorted(set(composed_names) - set(read_names))
        detail = "; ".join(
            part
            for part in (
                f"extra {', '.join(extra)}"[:200] if extra else "",
                f"missing {', '.join(missing)}" if missing else "",
                f"{len(read_names)} headers read back, {len(composed_names)} composed",
            )
            if part
        )
        raise InvalidMessage(
            f"refused: the serialized headers differ from the composed ones (possible header injection): {detail}"
        )
    if _recipients(read) != _recipients(email):
        raise InvalidMessage(
            "refused: the serialized recipients (To/Cc/Bcc) differ from the composed ones (possible header injection)"
        )
