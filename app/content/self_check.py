"""The anonymous self-check: its questions, and the pure function that turns answers into
"things to discuss with a clinician". It never gives a verdict, a diagnosis or a ranking.
Its words are catalog messages, translated when a page shows them."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.content.facts import Fact, fact

YES, NO, NOT_SURE = "yes", "no", "not_sure"
YES_NO = ((YES, _l("Yes")), (NO, _l("No")), (NOT_SURE, _l("I'm not sure")))

FAST, MEDICATION_FREE, BOTH = "fast", "medication_free", "both"
PREFERENCES = (
    (FAST, _l("Feeling better as quickly as possible")),
    (MEDICATION_FREE, _l("An approach without medication")),
    (BOTH, _l("Both matter to me, or I'm not sure yet")),
)


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    hint: str | None
    choices: tuple[tuple[str, str], ...] = YES_NO

    def label(self, value: str) -> str:
        return dict(self.choices).get(value, value)


@dataclass(frozen=True)
class Point:
    """One thing to discuss: a short title, what it means in plain words, and which
    treatments it concerns (slugs), so the page can link to their guides."""

    key: str
    title: str
    facts: tuple[Fact, ...]
    treatments: tuple[str, ...] = ()


QUESTIONS: tuple[Question, ...] = (
    Question("seizures", _l("Have you ever had a seizure?"), None),
    Question(
        "metal_implants",
        _l("Do you have any metal implant or device in your head, or within 12 inches (30 cm) of it?"),
        _l(
            "Only implants that respond to magnets matter here. If you are unsure what yours "
            "is made of, choose \u201cI'm not sure\u201d."
        ),
    ),
    Question("blood_pressure", _l("Do you have high blood pressure that is not under control?"), None),
    Question("substance_misuse", _l("Have you ever had problems with alcohol or drug use (substance misuse)?"), None),
    Question("heart", _l("Do you have a heart condition?"), None),
    Question("bipolar", _l("Have you been diagnosed with bipolar disorder?"), None),
    Question("preference", _l("Which matters more to you right now?"), None, PREFERENCES),
)

QUESTION_KEYS = tuple(q.key for q in QUESTIONS)

_SEIZURES = fact(_l("A history of seizures is one of the things that can make TMS unsuitable."), "history of seizures")
_IMPLANTS = fact(
    _l(
        "TMS uses magnetic pulses, so metal implants that respond to magnets, in the head or within "
        "12 inches of it, can make TMS unsuitable. Bring any details you have about the implant."
    ),
    "magnetic-sensitive metal implants in the head or within 12 inches of it.",
)
_BLOOD_PRESSURE = fact(
    _l(
        "High blood pressure that is not under control can make ketamine unsuitable. Ketamine can "
        "also raise blood pressure during sessions."
    ),
    "uncontrolled high blood pressure",
    "raised blood pressure during sessions.",
)
_SUBSTANCE = fact(
    _l("A history of substance misuse is one of the things that can make ketamine unsuitable."),
    "history of substance misuse",
)
_HEART = fact(
    _l("Certain heart conditions can make ketamine unsuitable. It helps to bring what you know about your condition."),
    "certain heart conditions",
)
_BIPOLAR = (
    fact(
        _l(
            "TMS may be used for bipolar depression, with caution and under medical supervision, "
            "because there is a risk of triggering mania."
        ),
        "Bipolar depression: may be used under medical supervision, with caution (risk of triggering mania).",
    ),
    fact(
        _l("Ketamine also carries a risk of destabilizing mood, so a full psychiatric evaluation is needed first."),
        "Bipolar depression: also a risk of mood destabilisation; needs a full psychiatric evaluation first.",
    ),
)
_FAST = fact(
    _l(
        "Ketamine often works within hours or days, but its effects tend to be shorter-lived and "
        "booster treatments are common. TMS works gradually, over several weeks, and can be "
        "long-lasting."
    ),
    "Response: often within hours or days;",
    "Effects tend to be shorter-lived; ongoing or booster treatments are common.",
    "Response: gradual, over several weeks. Effects can be long-lasting",
)
_MEDICATION_FREE = fact(
    _l(
        "TMS is a gradual, medication-free approach, without the systemic side effects of "
        "antidepressant medication. Ketamine is a medication, usually faster to act."
    ),
    "gradual and medication-free vs fast and medication-based.",
    "no systemic side effects of antidepressant medication.",
)
_BOTH = fact(
    _l(
        "Broadly, TMS is gradual and medication-free, and ketamine is faster and medication-based. "
        "For severe or treatment-resistant depression, combining them may help when one alone is "
        "not enough."
    ),
    "gradual and medication-free vs fast and medication-based.",
    "Combined TMS + IV ketamine: may help severe or treatment-resistant depression when one "
    "alone is not enough; needs coordination between providers on safety and timing;",
)
_NOTHING_FLAGGED = fact(
    _l(
        "None of your answers matched the screening questions here. That is not a green light: a "
        "clinician still goes through your full medical history with you."
    ),
    "Medical history (the screening flags above).",
    "a consultation with a clinician decides.",
)

# Yes/no questions: (title when "yes", what it means, treatments concerned).
_FLAGS: dict[str, tuple[str, tuple[Fact, ...], tuple[str, ...]]] = {
    "seizures": (_l("Your history of seizures"), (_SEIZURES,), ("tms",)),
    "metal_implants": (_l("Metal near your head"), (_IMPLANTS,), ("tms",)),
    "blood_pressure": (_l("Your blood pressure"), (_BLOOD_PRESSURE,), ("ketamine",)),
    "substance_misuse": (_l("Past alcohol or drug use"), (_SUBSTANCE,), ("ketamine",)),
    "heart": (_l("Your heart condition"), (_HEART,), ("ketamine",)),
    "bipolar": (_l("Bipolar disorder"), _BIPOLAR, ("tms", "ketamine")),
}
_UNSURE_TITLES = {
    "seizures": _l("Whether you have had a seizure"),
    "metal_implants": _l("Whether you have metal near your head"),
    "blood_pressure": _l("Whether your blood pressure is under control"),
    "substance_misuse": _l("Past alcohol or drug use"),
    "heart": _l("Whether you have a heart condition"),
    "bipolar": _l("Whether you may have bipolar disorder"),
}
_PREFERENCE_POINTS = {
    FAST: Point("preference", _l("Wanting relief quickly"), (_FAST,), ("ketamine", "tms")),
    MEDICATION_FREE: Point("preference", _l("Wanting to avoid medication"), (_MEDICATION_FREE,), ("tms", "ketamine")),
    BOTH: Point("preference", _l("Weighing speed against a medication-free approach"), (_BOTH,), ("tms", "ketamine")),
}


def clean(answers: Mapping[str, str | None]) -> dict[str, str]:
    """Only known questions with valid answers; unanswered questions are left out."""
    cleaned = {}
    for question in QUESTIONS:
        value = answers.get(question.key)
        if value in dict(question.choices):
            cleaned[question.key] = value
    return cleaned


def things_to_discuss(answers: Mapping[str, str | None]) -> list[Point]:
    """What to raise with a clinician, in question order. Unsure answers become points too:
    they are exactly what a clinician can help with."""
    answers = clean(answers)
    points: list[Point] = []
    for key, (title, notes, treatments) in _FLAGS.items():
        value = answers.get(key)
        if value == YES:
            points.append(Point(key, title, notes, treatments))
        elif value == NOT_SURE:
            points.append(
                Point(
                    key,
                    _UNSURE_TITLES[key],
                    (
                        fact(
                            _l(
                                "You were not sure about this. That is fine: a clinician can go through it "
                                "with you, because it matters when choosing a treatment."
                            ),
                            "Medical history (the screening flags above).",
                        ),
                    )
                    + notes,
                    treatments,
                )
            )
    if not points:
        points.append(Point("history", _l("Your full medical history"), (_NOTHING_FLAGGED,)))
    preference = answers.get("preference")
    if preference in _PREFERENCE_POINTS:
        points.append(_PREFERENCE_POINTS[preference])
    return points


def for_booking(answers: Mapping[str, str | None]) -> dict:
    """What is attached to a booking when the patient asks: each answer in words a clinician
    reads at a glance, and the titles of the points to discuss. Always in English, whatever
    the patient's language: staff read them in the (English) staff console."""
    answers = clean(answers)
    with force_locale("en"):
        return {
            "answers": [
                {"key": q.key, "question": str(q.text), "answer": str(q.label(answers[q.key]))}
                for q in QUESTIONS
                if q.key in answers
            ],
            "to_discuss": [str(p.title) for p in things_to_discuss(answers)],
        }


# --- keeping attached answers between the self-check and the booking form ---------------------


def _fernet(secret_key: str) -> Fernet:
    """A Fernet key of its own, derived from the app's SECRET_KEY (HKDF, SHA-256): the
    session's signing key is never used as an encryption key directly."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mindset-tms self-check answers").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(attached: Mapping, secret_key: str, now: int) -> str:
    """`for_booking`'s answers, encrypted and authenticated, for the patient's session cookie:
    they are health data, and a signed cookie is only signed, not secret. `now` is Unix time."""
    return _fernet(secret_key).encrypt_at_time(json.dumps(attached).encode(), now).decode()


def unseal(sealed: object, secret_key: str, ttl_seconds: int, now: int) -> dict | None:
    """The answers `seal` kept, or None when there are none, they were tampered with, made
    with another key, or are older than `ttl_seconds` (the booking flow has long finished)."""
    if not isinstance(sealed, str):
        return None
    try:
        found = json.loads(_fernet(secret_key).decrypt_at_time(sealed.encode(), ttl_seconds, now))
    except (InvalidToken, ValueError):
        return None
    return found if isinstance(found, dict) else None


def all_facts() -> list[Fact]:
    found = [_NOTHING_FLAGGED]
    for _, notes, _ in _FLAGS.values():
        found.extend(notes)
    for point in _PREFERENCE_POINTS.values():
        found.extend(point.facts)
    return found
