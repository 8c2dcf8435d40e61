"""The one table of how a booking's choices read (ways to meet, interests), in the language
being shown: Spanish on a patient's Spanish page or email, English in the staff console
and staff notices. Its words live in the booking catalog (babel/booking.cfg)."""

from __future__ import annotations

from flask_babel import LazyString

from app.core.i18n import catalog


def _translated(text: str) -> str:
    return catalog().ugettext(text)


def _l(text: str) -> LazyString:
    """Flask-Babel's lazy_gettext, translated through the catalog kept for the request
    (i18n.catalog): Flask-Babel's own finds the context, locale and catalog again each time a
    label is shown, 20 µs, and a staff list shows two per row."""
    return LazyString(_translated, text)


MODE_LABELS = {"in_person": _l("In person at the clinic"), "phone": _l("Phone call"), "video": _l("Video call")}
INTEREST_LABELS = {"tms": _l("TMS"), "ketamine": _l("Ketamine therapy"), "not_sure": _l("Not sure yet")}


class _Texts(dict):
    def __missing__(self, key: str) -> str:
        return key  # a value with no label shows as it is


def label_texts(labels: dict[str, LazyString]) -> dict[str, str]:
    """A table of labels in the language being shown, for a template that shows one per row
    (`{% set how = label_texts(MODE_LABELS) %}`, then `how[b.mode]`): translated once per
    table, not per row. A value with no label reads as itself."""
    return _Texts({key: str(label) for key, label in labels.items()})


def mode_label(mode: str) -> str:
    return str(MODE_LABELS.get(mode, mode))


def interest_label(interest: str) -> str:
    return str(INTEREST_LABELS.get(interest, interest))


def mode_choices(modes) -> list[tuple[str, str]]:
    return [(m, MODE_LABELS[m]) for m in modes]
