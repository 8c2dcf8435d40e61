"""Field rules shared by the HTML forms and the JSON API: one place decides what is valid."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.models.booking import INTERESTS, MODES

# C0 and C1 control characters, DEL, and the Unicode line/paragraph separators: none of
# these belong in a name, an email header or an iCalendar property.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_EXCEPT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


# What no field of any request may carry: NUL (PostgreSQL refuses it in text, and it cuts
# strings short in C libraries) and lone UTF-16 surrogates (not Unicode: they cannot be
# encoded to UTF-8, so a database driver, a template or a log line would fail on them).
_UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff]")
# A value written as a whole date (YYYY-MM-DD, maybe with a time after it).
_ISO_DATE = re.compile(r"\s*(\d{4})-\d{2}-\d{2}(?:[T ][\d:.+\-Z]*)?\s*")
# The years a date in a request may name: a clinic calendar has no use for others, and
# date arithmetic (adding the booking horizon, a week, a day) near year 1 or 9999
# would overflow.
DATE_YEARS = range(1900, 3000)
# Longer runs of digits than any id or page number here: larger values would overflow a
# database's 64-bit integers.
MAX_WHOLE_NUMBER_DIGITS = 18


class Invalid(ValueError):
    """A value that cannot be accepted; the message tells the person what to fix."""


def is_unsafe_text(value: str) -> bool:
    """True when `value` holds a NUL or a lone surrogate: text no part of the app accepts."""
    return _UNSAFE_TEXT.search(value) is not None


def is_date_out_of_range(value: str) -> bool:
    """True for a value written as a date outside DATE_YEARS; other text is not a date."""
    date_match = _ISO_DATE.fullmatch(value)
    return date_match is not None and int(date_match.group(1)) not in DATE_YEARS


def is_out_of_range(value: str) -> bool:
    """True for a value no date or number parameter can use: a date outside DATE_YEARS, or a
    whole number too large for a database integer. Other text is left to each field's check."""
    if is_date_out_of_range(value):
        return True
    stripped = value.strip().lstrip("+-")
    return stripped.isdigit() and len(stripped.lstrip("0")) > MAX_WHOLE_NUMBER_DIGITS


def single_line(value: str, label: str, *, max_length: int, required: bool = True) -> str:
    value = unicodedata.normalize("NFC", value or "").strip()
    if _CONTROL.search(value):
        raise Invalid(f"{label} cannot contain line breaks or control characters.")
    if required and not value:
        raise Invalid(f"Please enter your {label.lower()}.")
    if len(value) > max_length:
        raise Invalid(f"{label} must be {max_length} characters or fewer.")
    return value


def multi_line(value: str, label: str, *, max_length: int) -> str:
    value = unicodedata.normalize("NFC", (value or "").replace("\r\n", "\n")).strip()
    if _CONTROL_EXCEPT_NEWLINE.search(value):
        raise Invalid(f"{label} cannot contain control characters.")
    if len(value) > max_length:
        raise Invalid(f"{label} must be {max_length} characters or fewer "
                      f"(it is {len(value)} now).")
    return value


def person_name(value: str) -> str:
    name = single_line(value, "Name", max_length=100)
    if not any(ch.isalpha() for ch in name):
        raise Invalid("Please enter your name using letters.")
    return name


def email_address(value: str) -> str:
    raw = single_line(value, "Email address", max_length=254)
    try:
        # Deliverability (DNS) is not checked: the clinic's network may not resolve,
        # and a syntax check plus the confirmation email is what a booking needs.
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as error:
        raise Invalid(f"Please check your email address: {error}") from None
    return result.normalized


def phone_number(value: str, region: str = "US") -> str:
    """Returns E.164 (+19705550100)."""
    raw = single_line(value, "Phone number", max_length=32)
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise Invalid("Please enter a phone number we can call, such as 970-555-0123.") from None
    # Most numbers are local: checking against the clinic's region first is half the work
    # of finding the number's own region (for +1, up to 25 of them) and checking there.
    if not (phonenumbers.is_valid_number_for_region(parsed, region)
            or phonenumbers.is_valid_number(parsed)):
        raise Invalid("That phone number does not look complete. "
                      "Please enter it with its area code, such as 970-555-0123.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def display_phone(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL if parsed.country_code == 1
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, fmt)


# --- a booking request as a whole (the JSON API; the HTML form runs the same field checks
# through WTForms, see app.forms) ----------------------------------------------------------

# The text fields of a booking request, in the order they are checked (consent is a yes/no).
BOOKING_TEXT_FIELDS = ("slot_id", "mode", "name", "email", "phone", "interest", "note")
CONSENT_REQUIRED = "Please tick the box to agree to the privacy notice, so we can keep your details."


def _choice(value: str, choices: tuple[str, ...] | None, required: str) -> str:
    """A required value, one of `choices` (any text when None)."""
    if not value:
        raise Invalid(required)
    if choices is not None and value not in choices:
        raise Invalid(f"Not a valid choice: use one of {', '.join(choices)}.")
    return value


def booking_fields(raw: dict[str, str], phone_region: str, *, consent: bool
                   ) -> tuple[dict[str, str], dict[str, str]]:
    """Check every field of a booking request and return (clean values, errors by field).

    All fields are checked, so one answer lists everything to fix. `raw` holds the text of
    each field that was sent (absent ones are simply missing)."""
    checks = {
        "slot_id": lambda v: _choice(v, None, "slot_id is required."),
        "mode": lambda v: _choice(v, MODES, "mode is required."),
        "name": person_name,
        "email": email_address,
        "phone": lambda v: phone_number(v, phone_region),
        "interest": lambda v: _choice(v, INTERESTS,
                                      "Please choose what you would like to talk about."),
        "note": lambda v: multi_line(v, "Your note", max_length=1000),
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
        errors["consent"] = CONSENT_REQUIRED
    return clean, errors
