"""Showing UTC instants in the clinic's time zone, in words people read easily."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from babel.dates import get_timezone_name as _zone_name
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.core.i18n import babel_state
from babel import Locale

DEFAULT_LOCALE = "en"
# A 12-hour clock in every language: patients read "9:00 AM" / "9:00 a. m." on the phone and
# in the clinic alike.
_CLOCK = "h:mm a"
_YEAR_AT_END = re.compile(r"[\s,]*(?:'[^']*'\s*)?y+\s*$")


# People's words for the US zones (the glossary's "hora de Colorado" for Mountain Time).
ZONE_NAMES = {
    "America/Denver": _l("Mountain Time"),
    "America/Chicago": _l("Central Time"),
    "America/New_York": _l("Eastern Time"),
    "America/Los_Angeles": _l("Pacific Time"),
}

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(text: str) -> date:
    """A date written YYYY-MM-DD and nothing else (date.fromisoformat would also read
    20261207 and week dates such as 2026-W50-1); ValueError for anything else."""
    if not _ISO_DAY.fullmatch(text):
        raise ValueError(f"not a YYYY-MM-DD date: {text!r}")
    return date.fromisoformat(text)


def current_locale() -> Locale:
    """The language being shown (flask_babel's, forced for emails); English outside a request.
    Read from Flask-Babel's per-request state when it is set (as i18n.catalog does): its
    get_locale() finds that state again through three context proxies on every call, and a
    staff list asks about 200 times."""
    locale = getattr(babel_state(), "babel_locale", None)
    if locale is not None:
        return locale
    from flask_babel import get_locale

    try:
        return get_locale() or Locale.parse(DEFAULT_LOCALE)
    except RuntimeError:  # an app context with no request and no forced locale (the worker)
        return Locale.parse(DEFAULT_LOCALE)


def _language(locale: Locale) -> str:
    """The cache key of a language: Babel's Locale hashes and compares itself through five
    attributes and hasattr() on each lookup, a plain string does not."""
    return (
        locale.language
        if locale.territory is None and locale.script is None and locale.variant is None
        else str(locale)
    )


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def to_local(instant: datetime, zone: tzinfo | None = None) -> datetime:
    return instant.astimezone(zone or clinic_zone())


# Lists show the same few days and times over and over: each is worded once per language
# (the words depend on nothing else).
@lru_cache(maxsize=4096)
def _clock_text(hour: int, minute: int, language: str) -> str:
    return format_time(time(hour, minute), _CLOCK, locale=language)


@lru_cache(maxsize=4096)
def _date_text(value: date, pattern: str, language: str) -> str:
    return format_date(value, pattern, locale=language)


@lru_cache(maxsize=16)
def _short_day_pattern(language: str) -> str:
    """'MMMEd' as the language writes it ('EEE, MMM d'; Spanish 'EEE, d MMM')."""
    from babel.dates import match_skeleton

    skeletons = Locale.parse(language).datetime_skeletons
    return str(skeletons[match_skeleton("MMMEd", skeletons)])


class Words:
    """Clock times and short days in one language and zone."""

    __slots__ = ("language", "zone", "_short_day")

    def __init__(self, language: str, zone: tzinfo) -> None:
        self.language, self.zone = language, zone
        self._short_day = _short_day_pattern(language)

    def clock(self, instant: datetime) -> str:
        local = instant.astimezone(self.zone)
        return _clock_text(local.hour, local.minute, self.language)

    def short_day(self, instant: datetime) -> str:
        return _date_text(instant.astimezone(self.zone).date(), self._short_day, self.language)


def time_words(zone: tzinfo | None = None) -> Words:
    """Words for the language being shown, in `zone`. The clinic zone's are kept beside
    Flask-Babel's locale for the request (as i18n.catalog keeps the catalog, so force_locale
    gets its own): a staff list words 200 values, and finding the language and the zone
    again for each was most of their cost."""
    if zone is not None:
        return Words(_language(current_locale()), zone)
    state = babel_state()
    locale = getattr(state, "babel_locale", None)
    kept = getattr(state, "mindset_words", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    words = Words(_language(current_locale()), clinic_zone())
    if state is not None and state.babel_locale is not None:
        state.mindset_words = (state.babel_locale, words)
    return words


def clock(instant: datetime, zone: tzinfo | None = None) -> str:
    """'9:00 AM'; Spanish '9:00 a. m.'"""
    return time_words(zone).clock(instant)


def zone_abbreviation(local: datetime, locale: Locale | None = None) -> str | None:
    """'MST' where the language has a short name for the zone, else None."""
    name = _zone_name(local, "short", locale=locale or current_locale())
    return name if name.isalpha() else None


def _city_time(zone: ZoneInfo, locale: Locale) -> str:
    """Babel's 'Denver Time' / 'hora de Denver', for a zone people have no words of ours for."""
    city = get_timezone_location(zone, locale=locale, return_city=True)
    return locale.zone_formats["region"] % city


def _zone_words(local: datetime, locale: Locale) -> str:
    """The zone in words where the language has no short name for it: 'hora de Colorado', or,
    in the hour the clocks repeat in the autumn, which of the two it is ('hora de Colorado,
    horario de verano' / '..., horario estándar'), as English says MDT or MST."""
    zone = local.tzinfo if isinstance(local.tzinfo, ZoneInfo) else clinic_zone()
    words = zone_label(zone, locale)
    if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
        if local.dst():
            return gettext("%(zone)s, daylight saving time", zone=words)
        return gettext("%(zone)s, standard time", zone=words)
    return words


def clock_with_zone(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'9:00 AM MST'; Spanish '9:00 a. m. (hora de Colorado)' (Spanish has no short name for it)."""
    local = to_local(instant, zone)
    locale = current_locale()
    abbreviation = zone_abbreviation(local, locale)
    if abbreviation:
        return f"{clock(local, local.tzinfo)} {abbreviation}"
    return locale.zone_formats["fallback"] % {"1": clock(local, local.tzinfo), "0": _zone_words(local, locale)}


def day(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tuesday, December 1, 2026'; Spanish 'martes, 1 de diciembre de 2026'"""
    locale = current_locale()
    return _date_text(to_local(instant, zone).date(), str(locale.date_formats["full"]), _language(locale))


def short_day(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tue, Dec 1'; Spanish 'mar, 1 dic'"""
    return time_words(zone).short_day(instant)


@lru_cache(maxsize=16)
def _weekday_and_date_pattern(language: str) -> str:
    """The language's full date without its year (CLDR has no such skeleton with a full weekday)."""
    return _YEAR_AT_END.sub("", str(Locale.parse(language).date_formats["full"]))


def weekday_and_date(value) -> str:
    """A calendar date: 'Tuesday, December 1'; Spanish 'martes, 1 de diciembre'."""
    language = _language(current_locale())
    return _date_text(value, _weekday_and_date_pattern(language), language)


def weekday_abbr(value) -> str:
    """'Tue'; Spanish 'mar'."""
    return _date_text(value, "EEE", _language(current_locale()))


def _date_and_time_pattern(locale: Locale) -> str:
    """How the language joins a full date and a time: English "{date} at {time}" (CLDR's
    relative form), Spanish "{date}, {time}"."""
    relative = locale._data.get("datetime_formats_relative") or {}
    return str(relative.get("full") or locale.datetime_formats["full"])


def when(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tuesday, December 1, 2026 at 9:00 AM MST'; Spanish
    'martes, 1 de diciembre de 2026, 9:00 a. m. (hora de Colorado)'"""
    local = to_local(instant, zone)
    locale = current_locale()
    pattern = _date_and_time_pattern(locale).replace("{1}", str(locale.date_formats["full"])).replace("{0}", _CLOCK)
    text = format_datetime(local, pattern, locale=locale)
    abbreviation = zone_abbreviation(local, locale)
    if abbreviation:
        return f"{text} {abbreviation}"
    return locale.zone_formats["fallback"] % {"1": text, "0": _zone_words(local, locale)}


def when_with_zone_name(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """when(), always naming the zone in words: 'Tuesday, December 1, 2026 at 9:00 AM MST
    (Mountain Time)'; Spanish 'martes, 1 de diciembre de 2026, 9:00 a. m. (hora de Colorado)'."""
    zone = zone or clinic_zone()
    locale = current_locale()
    if zone_abbreviation(to_local(instant, zone), locale) is None:
        return when(instant, zone)  # already names the zone in words
    return locale.zone_formats["fallback"] % {"1": when(instant, zone), "0": zone_label(zone, locale)}


def ago(instant: datetime | None, now: datetime | None = None) -> str:
    """'4 min ago', '2 hours ago', '3 days ago'; 'never' for no instant."""
    if instant is None:
        return "never"
    minutes = int(((now or datetime.now(UTC)) - instant).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{hours // 24} days ago"


def zone_label(zone: ZoneInfo | None = None, locale: Locale | None = None) -> str:
    """'Mountain Time' (Spanish 'hora de Colorado'): the one phrase every page, email and
    invite uses for the clinic's zone, never the zone's key nor Babel's 'hora de Denver'.
    A zone with no words of ours gets Babel's city wording ('hora de Chihuahua')."""
    zone = zone or clinic_zone()
    friendly = ZONE_NAMES.get(zone.key)
    return str(friendly) if friendly else _city_time(zone, locale or current_locale())


def register(app) -> None:
    app.jinja_env.filters.update(
        clock=clock,
        clock_with_zone=clock_with_zone,
        day=day,
        short_day=short_day,
        when=when,
        to_local=to_local,
        ago=ago,
        weekday_and_date=weekday_and_date,
        weekday_abbr=weekday_abbr,
    )
    app.jinja_env.globals["zone_label"] = zone_label
