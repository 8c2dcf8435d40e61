"""Field rules shared by the HTML forms and the JSON API: one place decides what is valid."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models.booking import INTERESTS, MODES

# C0 and C1 control characters, DEL, and the Unicode line/paragraph separators: none of
# these belong in a name, an email header or an iCalendar property.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class Invalid(ValueError):
    """A value that cannot be accepted; the message tells the person what to fix."""


def single_line(value: str, label: str, *, max_length: int, required: bool = True, missing: str | None = None) -> str:
    """One line of text; `missing` is what to say when a required one is empty."""
    value = unicodedata.normalize("NFC", value or "").strip()
    if _CONTROL.search(value):
        raise Invalid(_("%(label)s cannot contain line breaks or control characters.", label=label))
    if required and not value:
        raise Invalid(missing or _("Please fill in: %(label)s.", label=label))
    if len(value) > max_length:
        raise Invalid(_("%(label)s must be %(count)d characters or fewer.", label=label, count=max_length))
    return value


def multi_line(value: str, label: str, *, max_length: int) -> str:
    value = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n")).strip()
    if _CONTROL_EXCEPT_NEWLINE.search(value):
        raise Invalid(_("%(label)s cannot contain control characters.", label=label))
    if len(value) > max_length:
        raise Invalid(
            _(
                "%(label)s must be %(count)d characters or fewer (it is %(now)d now).",
                label=label,
                count=max_length,
                now=len(value),
            )
        )
    return value


@dataclass(frozen=True)
class Voice:
    """How the problems with a person's details are worded. The rules that find them are the
    same for everyone; only the words differ: a patient's own form asks them ("Please enter
    your name."), the staff console tells staff about the person they book for ("Enter the
    caller's name.")."""

    name_missing: str
    name_letters: str
    email_missing: str
    email_accents: str
    email_shape: str
    phone_missing: str
    phone_unreadable: str
    phone_incomplete: str
    interest_missing: str
    consent_missing: str


# The patient's own forms, in their language (lazy: worded when the message is shown).
PATIENT = Voice(
    name_missing=_l("Please enter your name."),
    name_letters=_l("Please enter your name using letters."),
    email_missing=_l("Please enter your email address."),
    email_accents=_l(
        "Please check your email address: letters with accents (such as í or ñ) cannot be used before the @."
    ),
    email_shape=_l("Please check your email address: it should look like name@example.com."),
    phone_missing=_l("Please enter your phone number."),
    phone_unreadable=_l("Please enter a phone number we can call, such as 970-555-0123."),
    phone_incomplete=_l(
        "That phone number does not look complete. Please enter it with its area code, such as 970-555-0123."
    ),
    interest_missing=_l("Please choose what you would like to talk about."),
    consent_missing=_l("Please tick the box to agree to the privacy notice, so we can keep your details."),
)


def staff_voice(person: str) -> Voice:
    """The staff console's words about `person` ("caller", "patient"); the console is in English."""
    return Voice(
        name_missing=f"Enter the {person}'s name.",
        name_letters=f"Enter the {person}'s name using letters.",
        email_missing=f"Enter the {person}'s email address.",
        email_accents=f"Check the {person}'s email address: letters with accents (such as í or ñ) "
        "cannot be used before the @ (mail servers refuse them).",
        email_shape=f"Check the {person}'s email address: it should look like name@example.com.",
        phone_missing=f"Enter the {person}'s phone number.",
        phone_unreadable=f"Enter the {person}'s phone number in digits, such as 970-555-0123.",
        phone_incomplete=f"The {person}'s phone number does not look complete: enter it with its "
        "area code, such as 970-555-0123 (or +52 and the number for Mexico).",
        interest_missing=f"Choose what the {person} would like to talk about.",
        consent_missing=f"Tick the box once the {person} has agreed to the privacy notice.",
    )


CALLER = staff_voice("caller")


def person_name(value: str, voice: Voice = PATIENT) -> str:
    name = single_line(value, _("Name"), max_length=100, missing=str(voice.name_missing))
    if not any(ch.isalpha() for ch in name):
        raise Invalid(str(voice.name_letters))
    return name


def email_address(value: str, voice: Voice = PATIENT) -> str:
    raw = single_line(value, _("Email address"), max_length=254, missing=str(voice.email_missing))
    if not raw.rpartition("@")[0].isascii():
        # Mail servers without SMTPUTF8 refuse such a mailbox, so the confirmation could never
        # be sent: say so at the field rather than accept an address no email reaches.
        raise Invalid(str(voice.email_accents))
    try:
        # Deliverability (DNS) is not checked: the clinic's network may not resolve,
        # and a syntax check plus the confirmation email is what a booking needs.
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        # email_validator explains the problem in English only, so people get a plain request.
        raise Invalid(str(voice.email_shape)) from None
    return result.normalized


def mailbox_key(address: str) -> str:
    """One person's mailbox however the address is written: lower case, and without a
    `+tag` (`Flood+2@Example.com` -> `flood@example.com`), for limits that count people."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return domain
    return f"{local.split('+', 1)[0] or local}@{domain}"


def optional_email_address(value: str, voice: Voice = PATIENT) -> str | None:
    """An email address, or None when left empty (staff booking a caller who has none)."""
    if not unicodedata.normalize("NFC", value or "").strip():
        return None
    return email_address(value, voice)


def optional_web_address(value: str, label: str) -> str | None:
    """An http(s) address (a video call's), or None when left empty."""
    raw = single_line(value, label, max_length=500, required=False)
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.netloc or " " in raw:
        raise Invalid(_("Please enter the full address, starting with https://"))
    return raw


def phone_number(value: str, region: str = "US", voice: Voice = PATIENT) -> str:
    """Returns E.164 (+19705550100)."""
    raw = single_line(value, _("Phone number"), max_length=32, missing=str(voice.phone_missing))
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise Invalid(str(voice.phone_unreadable)) from None
    # Most numbers are local: checking against the clinic's region first is half the work
    # of finding the number's own region (for +1, up to 25 of them) and checking there.
    if not (phonenumbers.is_valid_number_for_region(parsed, region) or phonenumbers.is_valid_number(parsed)):
        raise Invalid(str(voice.phone_incomplete))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def display_phone(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


# --- a booking request as a whole (the JSON API; the HTML form runs the same field checks
# through WTForms, see app.forms) ----------------------------------------------------------

# The text fields of a booking request, in the order they are checked (consent is a yes/no).
BOOKING_TEXT_FIELDS = ("slot_id", "mode", "name", "email", "phone", "interest", "note")
CONSENT_REQUIRED = PATIENT.consent_missing
INTEREST_REQUIRED = PATIENT.interest_missing
MODE_REQUIRED = _l("Please choose how you would like to meet.")


def _choice(value: str, choices: tuple[str, ...] | None, required: str) -> str:
    """A required value, one of `choices` (any text when None)."""
    if not value:
        raise Invalid(required)
    if choices is not None and value not in choices:
        raise Invalid(_("Not a valid choice: use one of %(choices)s.", choices=", ".join(choices)))
    return value


def booking_fields(raw: dict[str, str], phone_region: str, *, consent: bool) -> tuple[dict[str, str], dict[str, str]]:
    """Check every field of a booking request and return (clean values, errors by field).

    All fields are checked, so one answer lists everything to fix. `raw` holds the text of
    each field that was sent (absent ones are simply missing)."""
    checks = {
        "slot_id": lambda v: _choice(v, None, "slot_id is required."),
        "mode": lambda v: _choice(v, MODES, "mode is required."),
        "name": person_name,
        "email": email_address,
        "phone": lambda v: phone_number(v, phone_region),
        "interest": lambda v: _choice(v, INTERESTS, str(INTEREST_REQUIRED)),
        "note": lambda v: multi_line(v, _("Your note"), max_length=1000),
    }
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in BOOKING_TEXT_FIELDS:
        check = checks[field]
        try:
            clean[field] = check(raw.get(field, ""))
        except Invalid as error:
            errors[field] = str(error)
    if not consent:
        errors["consent"] = str(CONSENT_REQUIRED)
    return clean, errors
