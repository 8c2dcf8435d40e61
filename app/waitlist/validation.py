"""The fields of a request to join the waiting list, checked in one place for the JSON API
and the HTML form (name, email and phone by app.booking.validation's rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _

from app.booking import validation
from app.core.timefmt import parse_day
from app.models.booking import LOCALES, MODES
from app.waitlist.matching import PARTS_OF_DAY

MAX_SPAN_DAYS = 366


@dataclass(frozen=True)
class JoinRequest:
    name: str
    email: str
    phone: str
    locale: str
    earliest: date
    latest: date
    weekdays: tuple[int, ...] = ()
    parts_of_day: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    manage_token: str | None = None
    sms_consent: str | None = None  # where they agreed to texts (web or api); None: no texts


def _day(value: Any, problem: str) -> date:
    if not isinstance(value, str):
        raise validation.Invalid(problem)
    try:
        return parse_day(value)
    except ValueError:
        raise validation.Invalid(problem) from None


def _choices(value: Any, allowed: tuple, what: str) -> tuple:
    """A list of distinct allowed values, in `allowed` order; missing or empty means any."""
    if value is None:
        return ()
    if not isinstance(value, list) or any(v not in allowed for v in value):
        shown = ", ".join(str(a) for a in allowed)
        raise validation.Invalid(f"{what} must be a list of: {shown}.")
    return tuple(a for a in allowed if a in value)


PREFERENCE_FIELDS = ("earliest", "latest", "weekdays", "parts_of_day", "modes")


@dataclass(frozen=True)
class Choices:
    """What suits a person on the list: the fields a person may change after joining."""

    earliest: date
    latest: date
    weekdays: tuple[int, ...] = ()
    parts_of_day: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()


def _check_choices(body: dict[str, Any], today: date, clean: dict[str, Any], errors: dict[str, str]) -> None:
    """The one rule for dates, days, parts of day and meeting types, for joining and changing:
    fills `clean` with what is right and `errors` with what to fix, by field."""
    for field, problem in (
        ("earliest", _("Please enter the earliest date as YYYY-MM-DD.")),
        ("latest", _("Please enter the latest date as YYYY-MM-DD.")),
    ):
        try:
            clean[field] = _day(body.get(field), problem)
        except validation.Invalid as error:
            errors[field] = str(error)
    if "earliest" in clean and "latest" in clean:
        if clean["latest"] < clean["earliest"]:
            errors["latest"] = _("The latest date must be on or after the earliest date.")
        elif clean["latest"] < today:
            errors["latest"] = _("The latest date has already passed. Please choose a later one.")
        elif clean["latest"] - max(clean["earliest"], today) > timedelta(days=MAX_SPAN_DAYS):
            errors["latest"] = _("Please choose dates within a year.")
    lists = {
        "weekdays": (tuple(range(1, 8)), "weekdays (1 = Monday ... 7 = Sunday)"),
        "parts_of_day": (PARTS_OF_DAY, "parts_of_day"),
        "modes": (MODES, "modes"),
    }
    for field, (allowed, what) in lists.items():
        try:
            clean[field] = _choices(body.get(field), allowed, what)
        except validation.Invalid as error:
            errors[field] = str(error)


def choice_fields(body: dict[str, Any], today: date) -> tuple[Choices | None, dict[str, str]]:
    """The choices in `body` (all of PREFERENCE_FIELDS; a missing list means any), checked by
    the same rule as joining: (the choices, {}) or (None, what to fix by field)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    _check_choices(body, today, clean, errors)
    if errors:
        return None, errors
    return Choices(**{field: clean[field] for field in PREFERENCE_FIELDS}), {}


def join_fields(
    body: dict[str, Any],
    phone_region: str,
    today: date,
    source: str = "api",
    voice: validation.Voice = validation.PATIENT,
) -> tuple[JoinRequest | None, dict[str, str]]:
    """Check every field and return (the request, {}) or (None, what to fix by field);
    `source` is where an agreement to texts was given, `voice` words the problems (the
    patient's own, or the staff console's about a caller)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    checks = {
        "name": lambda v: validation.person_name(v, voice),
        "email": lambda v: validation.email_address(v, voice),
        "phone": lambda v: validation.phone_number(v, phone_region, voice),
    }
    for field, check in checks.items():
        value = body.get(field)
        if value is not None and not isinstance(value, str):
            errors[field] = f"{field} must be a string."
            continue
        try:
            clean[field] = check(value or "")
        except validation.Invalid as error:
            errors[field] = str(error)
    locale = body.get("locale") or "en"
    if locale not in LOCALES:
        errors["locale"] = "locale must be en or es."
    if body.get("consent") is not True:
        errors["consent"] = str(voice.consent_missing)
    if body.get("sms_consent") is not None and not isinstance(body.get("sms_consent"), bool):
        errors["sms_consent"] = "sms_consent must be true or false."
    _check_choices(body, today, clean, errors)
    token = body.get("manage_token")
    if token is not None and not isinstance(token, str):
        errors["manage_token"] = "manage_token must be a string."  # noqa: S105 - a message
    if errors:
        return None, errors
    return JoinRequest(
        name=clean["name"],
        email=clean["email"],
        phone=clean["phone"],
        locale=locale,
        earliest=clean["earliest"],
        latest=clean["latest"],
        weekdays=clean["weekdays"],
        parts_of_day=clean["parts_of_day"],
        modes=clean["modes"],
        manage_token=token or None,
        sms_consent=source if body.get("sms_consent") is True else None,
    ), {}
