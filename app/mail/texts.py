"""The words of text messages: short, in the patient's language, with no health words (a text
is read on a lock screen), and in the GSM-7 alphabet so each fits one 160-character segment
where it can.

Rendered by the worker from the same queued event as an email (app.mail.rendering), so a
reminder says "today" or "tomorrow" as of the moment it is sent.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.core.timefmt import clock, clock_with_zone, short_day, to_local, zone_abbreviation
from babel import Locale

CONFIRMATION = "confirmation"
REMINDER = "reminder"
STAFF_TEXT = "staff_text"  # a one-off text staff write ("running 10 minutes late")
KINDS = (CONFIRMATION, REMINDER, STAFF_TEXT)

# The GSM 03.38 default alphabet and its extension table (each extension character takes two).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
SEGMENT_GSM7, SEGMENT_GSM7_MULTI = 160, 153
SEGMENT_UCS2, SEGMENT_UCS2_MULTI = 70, 67
# No text may carry these words (any case): what a consultation is about stays private.
HEALTH_WORDS = (
    "tms",
    "ketamine",
    "ketamina",
    "depression",
    "depresión",
    "depresion",
    "treatment",
    "tratamiento",
    "therapy",
    "terapia",
)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def segments(text: str) -> int:
    """How many SMS segments `text` takes (GSM-7 when it can, else UCS-2)."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi = SEGMENT_GSM7, SEGMENT_GSM7_MULTI
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi = SEGMENT_UCS2, SEGMENT_UCS2_MULTI
    return 1 if units <= single else math.ceil(units / multi)


def to_gsm7(text: str) -> str:
    """`text` with every character outside GSM-7 replaced by its nearest letter ('á' -> 'a',
    a no-break space -> a space), so Spanish dates and clocks do not force UCS-2 (70 characters
    a segment)."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif unicodedata.category(ch) == "Zs":
            out.append(" ")
        else:
            plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(plain if plain and is_gsm7(plain) else "?")
    return "".join(out)


def sender_name() -> str:
    """How texts name the clinic (SMS_CLINIC_NAME: the clinic's name without health words)."""
    return current_app.config["SMS_CLINIC_NAME"]


def _day_words(starts_at: datetime, sent_at: datetime) -> str:
    start_day, send_day = to_local(starts_at).date(), to_local(sent_at).date()
    if start_day == send_day:
        return _("today")
    if start_day == send_day + timedelta(days=1):
        return _("tomorrow")
    return short_day(starts_at)


def _time(starts_at: datetime) -> str:
    """'10:00 AM MST'; Spanish '10:00 a. m. MST' (the zone's short English name, where the
    language has none: 'hora de Colorado' would not leave room for the link)."""
    local = to_local(starts_at)
    short = zone_abbreviation(local) or zone_abbreviation(local, Locale.parse("en"))
    return f"{clock(local, local.tzinfo)} {short}" if short else clock_with_zone(starts_at)


def _day_and_time(starts_at: datetime, now: datetime | None) -> str:
    """'Wed, Dec 9 at 10:00 AM MST', or 'tomorrow at ...' when `now` is given."""
    day = short_day(starts_at) if now is None else _day_words(starts_at, now)
    return _("%(day)s at %(time)s", day=day, time=_time(starts_at))


def _words(kind: str, event: dict, now: datetime) -> str:
    clinic = sender_name()
    if kind == STAFF_TEXT:
        text = _("%(clinic)s: %(text)s", clinic=clinic, text=event["text"])
    else:
        starts_at = datetime.fromisoformat(event["booking"]["starts_at"])
        if kind == CONFIRMATION:
            text = _("%(clinic)s: booked for %(when)s.", clinic=clinic, when=_day_and_time(starts_at, None))
        elif kind == REMINDER:
            text = _("%(clinic)s: reminder for %(when)s.", clinic=clinic, when=_day_and_time(starts_at, now))
        else:
            raise ValueError(f"no text for message kind {kind!r}")
        link = event.get("sms_link")
        text += " " + (
            _("Manage: %(link)s", link=link)
            if link
            else _("Questions: %(phone)s", phone=current_app.config["CLINIC_PHONE"])
        )
    return text + " " + _("Reply STOP to opt out.")


def render(kind: str, event: dict, now: datetime, locale: str) -> str:
    """The whole text of one message, as sent at `now`, in `locale`, in GSM-7."""
    with force_locale(locale):
        return to_gsm7(_words(kind, event, now))
