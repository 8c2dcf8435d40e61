"""The one home of template helpers: every global, filter and per-request value a template
(or a macro) can use is registered by `register`, which create_app calls once. Helpers
that belong to a feature (add-to-calendar links, the staff console's labels) are handed in
by create_app, since core imports no feature."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import quote

from flask import Flask, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.core import timefmt
from app.core.assets import static_url
from app.core.i18n import LANGUAGE_NAMES, LANGUAGES, address_in, current_language, is_translated_path
from app.core.labels import INTEREST_LABELS, MODE_LABELS, label_texts, mode_label
from app.models import utcnow

_hours_shown_as: ContextVar[str | None] = ContextVar("hours_shown_as", default=None)
# The sample address's note (the CLINIC_STREET default ends with it): said in the reader's language.
_SAMPLE_NOTE = " (sample address)"


def street_shown(street: str) -> str:
    """The street as people read it: the sample default's note in the page's or email's
    language ('(dirección de ejemplo)'), a real address as it was set."""
    if street.endswith(_SAMPLE_NOTE):
        return f"{street.removesuffix(_SAMPLE_NOTE)} {_('(sample address)')}"
    return street


class ClinicDetails(dict):
    """The clinic's settings for templates. `hours` is worked out each time it is shown (by
    the function given at registration), so the footer and emails follow what staff set;
    `arrival_note` is the one for the language of the page or email (English when the
    clinic has not written one in that language). Inside `hours_shown_as(mark)`, `hours` is
    the mark, for a page rendered once whose hours are put in on each request."""

    def __init__(self, values: dict, hours: Callable[[], str], arrival_notes: dict[str, str]) -> None:
        super().__init__(values)
        self._hours = hours
        self._arrival_notes = arrival_notes

    def __getitem__(self, key):
        if key == "hours":
            return _hours_shown_as.get() or self._hours()
        if key == "arrival_note":
            return self._arrival_notes.get(str(get_locale() or "en")) or self._arrival_notes["en"]
        if key == "street":
            return street_shown(super().__getitem__("street"))
        if key == "address":
            return f"{self['street']}, {self['city']}, {self['region']} {self['postcode']}"
        return super().__getitem__(key)


@contextmanager
def hours_shown_as(mark: str) -> Iterator[None]:
    token = _hours_shown_as.set(mark)
    try:
        yield
    finally:
        _hours_shown_as.reset(token)


def map_url(config) -> str:
    """An OpenStreetMap search for the clinic's address (a "(sample ...)" note left out)."""
    street = re.sub(r"\s*\([^)]*\)", "", config["CLINIC_STREET"])
    query = f"{street}, {config['CLINIC_CITY']}, {config['CLINIC_REGION']} {config['CLINIC_POSTCODE']}"
    return "https://www.openstreetmap.org/search?query=" + quote(query, safe="")


# Left as it is by url_for (an unreserved character), and in no day, id or token of ours.
_BLANK = "~"


def url_around(endpoint: str, blank: str, **values) -> tuple[str, str]:
    """(head, tail) with head + v + tail == url_for(endpoint, **{blank: v}, **values) for the
    values of a list of links (days, slot ids: characters url_for leaves as they are), so a
    list costs one url_for, not one per link."""
    url = url_for(endpoint, **{blank: _BLANK, **values})
    path, mark, query = url.partition("?")
    if _BLANK in path:
        head, _, tail = path.rpartition(_BLANK)
        return head, tail + mark + query
    head, _, tail = query.partition(f"{blank}={_BLANK}")
    return f"{path}{mark}{head}{blank}=", tail


def _per_request() -> dict:
    """Values that change with each request: its language, and the moment it is shown."""
    return {"current_language": current_language(), "now": utcnow()}


def register(
    app: Flask, *, hours: Callable[[], str], helpers: Mapping[str, object], filters: Mapping[str, Callable]
) -> None:
    """`hours` says the clinic's opening hours; `helpers` and `filters` are the features'."""
    config = app.config
    timefmt.register(app)
    app.jinja_env.filters.update(filters)
    app.context_processor(_per_request)
    app.jinja_env.globals.update(
        clinic=ClinicDetails(
            {
                "name": config["CLINIC_NAME"],
                "street": config["CLINIC_STREET"],
                "city": config["CLINIC_CITY"],
                "region": config["CLINIC_REGION"],
                "postcode": config["CLINIC_POSTCODE"],
                "phone": config["CLINIC_PHONE"],
                "email": config["CLINIC_EMAIL"],
                "hours": None,
                "timezone": config["CLINIC_TIMEZONE"],
                "address": (
                    f"{config['CLINIC_STREET']}, {config['CLINIC_CITY']}, "
                    f"{config['CLINIC_REGION']} {config['CLINIC_POSTCODE']}"
                ),
                "map_url": map_url(config),
                "arrival_note": None,
            },
            hours,
            {"en": config["CLINIC_ARRIVAL_NOTE"], "es": config["CLINIC_ARRIVAL_NOTE_ES"]},
        ),
        MODE_LABELS=MODE_LABELS,
        INTEREST_LABELS=INTEREST_LABELS,
        mode_label=mode_label,
        label_texts=label_texts,
        static_url=static_url,
        url_around=url_around,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        LANGUAGES=LANGUAGES,
        address_in=address_in,
        is_translated_path=is_translated_path,
        **helpers,
    )
