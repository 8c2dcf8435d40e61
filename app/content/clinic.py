"""What the clinic says about itself, as facts (its name, address and hours are settings)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.content.facts import Fact, fact

OFFERS = fact(
    _l(
        "We offer TMS for treatment-resistant depression and other conditions, using FDA-cleared "
        "protocols and a treatment plan made for each person."
    ),
    "Offers: TMS (brain stimulation therapy) for treatment-resistant depression and other "
    "conditions, with FDA-cleared protocols and personalised treatment plans.",
)

CONSULTATION = fact(
    _l(
        "The first step is a free consultation. You can meet us in person at our Greeley office, by "
        "phone or by video, whichever is easiest for you."
    ),
    "The booking product books a free consultation with the clinic (in person at the Greeley "
    "office, by phone, or by video).",
)

CLINICIAN_DECIDES = fact(
    _l(
        "This website gives general information, not medical advice. A consultation with a "
        "clinician decides what care fits you."
    ),
    "Information only, not medical advice; a consultation with a clinician decides.",
)


def all_facts() -> list[Fact]:
    return [OFFERS, CONSULTATION, CLINICIAN_DECIDES]
