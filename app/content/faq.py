"""Frequently asked questions, as data: the FAQ page and its FAQPage JSON-LD both read this."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.content.facts import Fact, fact


@dataclass(frozen=True)
class Question:
    key: str
    question: str
    answer: tuple[Fact, ...]
    # Guides the answer links to for more detail (treatment slugs, or "compare").
    see_also: tuple[str, ...] = ()

    @property
    def answer_text(self) -> str:
        return " ".join(f.text for f in self.answer)


FAQ: tuple[Question, ...] = (
    Question(
        "what-is-tms",
        _l("What is TMS?"),
        (
            fact(
                _l(
                    "TMS (transcranial magnetic stimulation) uses magnetic pulses to stimulate nerve "
                    "cells in the parts of the brain that regulate mood, gradually strengthening the "
                    "communication between them."
                ),
                "magnetic pulses stimulate nerve cells in brain areas that regulate mood, gradually "
                "strengthening communication between them.",
            ),
            fact(
                _l(
                    "It is non-invasive and FDA-cleared for major depressive disorder, especially after "
                    "medications have not worked."
                ),
                "Non-invasive;",
                "FDA-cleared for major depressive disorder (and other conditions), especially after "
                "medications have not worked.",
            ),
        ),
        see_also=("tms",),
    ),
    Question(
        "tms-side-effects",
        _l("What are the side effects of TMS?"),
        (
            fact(
                _l(
                    "The side effects of TMS are mild: a headache, or some discomfort on the scalp. "
                    "It has none of the systemic side effects of antidepressant medication."
                ),
                "Side effects: mild headache or scalp discomfort; no systemic side effects of "
                "antidepressant medication.",
            ),
            fact(
                _l("There is no anesthesia, and you are able to drive yourself home afterwards."),
                "no anesthesia; no downtime; patients drive themselves",
            ),
        ),
        see_also=("tms",),
    ),
    Question(
        "tms-course",
        _l("How long does a course of TMS take?"),
        (
            fact(
                _l("Sessions are daily, Monday to Friday, for 1 to 6 weeks."),
                "Schedule: daily, Monday to Friday, for 1 to 6 weeks.",
            ),
            fact(
                _l(
                    "Each session typically takes 20 to 40 minutes; some kinds, such as iTBS, are "
                    "shorter, as little as 3 minutes."
                ),
                "Session length 3 to 40 minutes (iTBS short, rTMS longer); typically 20-40 minutes.",
            ),
        ),
        see_also=("tms",),
    ),
    Question(
        "how-soon",
        _l("How soon might I feel a difference?"),
        (
            fact(
                _l(
                    "With TMS, the response is gradual, over several weeks, and the effects can be "
                    "long-lasting, especially with maintenance sessions."
                ),
                "Response: gradual, over several weeks. Effects can be long-lasting, especially "
                "with maintenance sessions.",
            ),
            fact(
                _l(
                    "With ketamine, people often respond within hours or days, but several sessions "
                    "are usually needed, and ongoing or booster treatments are common."
                ),
                "Response: often within hours or days; several sessions are usually needed for lasting effect.",
                "ongoing or booster treatments are common.",
            ),
        ),
        see_also=("compare",),
    ),
    Question(
        "insurance",
        _l("Will my insurance pay?"),
        (
            fact(
                _l(
                    "Insurance often covers TMS for depression after other treatments have not "
                    "worked, usually with prior authorization. Without insurance, TMS costs about $100 "
                    "to $500 per session."
                ),
                "Insurance: often covered for depression after other treatments failed, usually "
                "with prior authorization.",
                "Cost without insurance: about $100-$500 per session.",
            ),
            fact(
                _l(
                    "IV ketamine infusions are usually not covered, though some plans may cover "
                    "esketamine nasal spray. Without insurance, an infusion costs about $400 to $800 or "
                    "more."
                ),
                "Insurance: IV infusions usually not covered; esketamine may be covered by some plans.",
                "Cost without insurance: about $400-$800+ per infusion, often out of pocket.",
            ),
        ),
        see_also=("compare",),
    ),
    Question(
        "who-not-tms",
        _l("Who should not have TMS?"),
        (
            fact(
                _l(
                    "TMS may not be suitable if you have a history of seizures, or metal implants that "
                    "respond to magnets in your head or within 12 inches of it. A clinician checks "
                    "these with you."
                ),
                "Not suitable (screening flags): history of seizures; magnetic-sensitive metal "
                "implants in the head or within 12 inches of it.",
            ),
        ),
        see_also=("tms", "self-check"),
    ),
    Question(
        "who-not-ketamine",
        _l("Who should not have ketamine therapy?"),
        (
            fact(
                _l(
                    "Ketamine may not be suitable if you have high blood pressure that is not under "
                    "control, a history of substance misuse, or certain heart conditions."
                ),
                "Not suitable (screening flags): uncontrolled high blood pressure, history of "
                "substance misuse, certain heart conditions.",
            ),
        ),
        see_also=("ketamine", "self-check"),
    ),
    Question(
        "bipolar",
        _l("I have bipolar disorder. Can I have TMS or ketamine?"),
        (
            fact(
                _l(
                    "Possibly, with care. TMS may be used for bipolar depression under medical "
                    "supervision, with caution, because it can risk triggering mania."
                ),
                "Bipolar depression: may be used under medical supervision, with caution (risk of triggering mania).",
            ),
            fact(
                _l(
                    "Ketamine also carries a risk of destabilizing mood, and needs a full psychiatric evaluation first."
                ),
                "Bipolar depression: also a risk of mood destabilisation; needs a full psychiatric evaluation first.",
            ),
        ),
        see_also=("compare",),
    ),
    Question(
        "combined",
        _l("Can TMS and ketamine be used together?"),
        (
            fact(
                _l(
                    "They may be combined for severe or treatment-resistant depression when one alone "
                    "is not enough. The providers need to coordinate on safety and timing, so discuss "
                    "it with a clinician."
                ),
                "Combined TMS + IV ketamine: may help severe or treatment-resistant depression when "
                "one alone is not enough; needs coordination between providers on safety and "
                "timing; discuss with a clinician.",
            ),
        ),
        see_also=("compare",),
    ),
    Question(
        "ect",
        _l("What about ECT?"),
        (
            fact(
                _l(
                    "Electroconvulsive therapy (ECT) is another option, for severe cases. It has more "
                    "side effects and a longer recovery."
                ),
                "Other options exist: electroconvulsive therapy (ECT) for severe cases, with more "
                "side effects and a longer recovery.",
            ),
        ),
        see_also=("compare",),
    ),
    Question(
        "consultation",
        _l("What is the free consultation?"),
        (
            fact(
                _l(
                    "It is a free conversation with the clinic about whether treatment may fit you. "
                    "You can meet us in person at our Greeley office, by phone or by video."
                ),
                "The booking product books a free consultation with the clinic (in person at the "
                "Greeley office, by phone, or by video).",
            ),
            fact(
                _l("A clinician decides with you what care fits; this website cannot."),
                "a consultation with a clinician decides.",
            ),
        ),
        see_also=("book",),
    ),
    Question(
        "advice",
        _l("Is this website medical advice?"),
        (
            fact(
                _l("No. It is general information. A consultation with a clinician decides what care fits you."),
                "Information only, not medical advice; a consultation with a clinician decides.",
            ),
            fact(
                _l("If you are in crisis, call or text 988 (Suicide & Crisis Lifeline), or call 911."),
                "anyone in crisis in the US can call or text 988 (Suicide & Crisis Lifeline) or call 911.",
            ),
        ),
    ),
)


def all_facts() -> list[Fact]:
    return [f for q in FAQ for f in q.answer]
