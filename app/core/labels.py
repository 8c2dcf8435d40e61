"""The one table of how a booking's choices read (ways to meet, interests), in the language
being shown: Spanish on a patient's Spanish page or email, English in the staff console
and staff notices. Its words live in the booking catalog (babel/booking.cfg)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MODE_LABELS = {"in_person": _l("In person at the clinic"), "phone": _l("Phone call"), "video": _l("Video call")}
INTEREST_LABELS = {"tms": _l("TMS"), "ketamine": _l("Ketamine therapy"), "not_sure": _l("Not sure yet")}


def mode_label(mode: str) -> str:
    return str(MODE_LABELS.get(mode, mode))


def interest_label(interest: str) -> str:
    return str(INTEREST_LABELS.get(interest, interest))


def mode_choices(modes) -> list[tuple[str, str]]:
    return [(m, MODE_LABELS[m]) for m in modes]
