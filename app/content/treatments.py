"""Treatments and the attributes they are compared on, as data.

Pages, comparison pairs and the sitemap are all derived from TREATMENTS, so adding a treatment
here (with a value for every attribute) adds its guide and its comparison pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp

from app.content.facts import NO_FIGURE, Fact, fact


@dataclass(frozen=True)
class Attribute:
    """A row of the comparison table. `source` is the row's name in the fact sheet's table."""

    key: str
    label: str
    source: str


@dataclass(frozen=True)
class Detail:
    """A labelled fact, shown as a term and its description (e.g. 'How often': 'Daily ...')."""

    label: str
    fact: Fact


@dataclass(frozen=True)
class Section:
    """A part of a treatment guide: paragraphs, then a bulleted list, then labelled details,
    then closing paragraphs. Any of them may be empty."""

    key: str
    heading: str
    intro: tuple[Fact, ...] = ()
    points: tuple[Fact, ...] = ()
    details: tuple[Detail, ...] = ()
    outro: tuple[Fact, ...] = ()


@dataclass(frozen=True)
class Factor:
    """Something to weigh when choosing; each treatment says what it means for that treatment."""

    key: str
    heading: str
    intro: Fact


@dataclass(frozen=True)
class Treatment:
    slug: str
    name: str  # short name in links and headings: "TMS"
    long_name: str  # "Transcranial magnetic stimulation (TMS)"
    column_label: str  # the comparison table's column heading
    title: str  # the guide's <title> (the site name is added)
    description: str  # the guide's meta description
    summary: tuple[Fact, ...]  # two sentences for the home page and the guide's lead
    sections: tuple[Section, ...]
    factors: Mapping[str, tuple[Fact, ...]]
    comparison: Mapping[str, Fact]
    booking_interest: str = "not_sure"
    # The mid-sentence forms, where a language writes them differently from the label that
    # stands alone (Spanish "Ketamina IV" as a column heading, "ketamina IV" in a sentence).
    name_in_text: str = ""  # "ketamine therapy"
    column_label_in_text: str = ""  # pgettext("in a sentence", "IV ketamine")

    @property
    def in_text(self) -> str:
        """The name inside a sentence or after a colon: 'Compare TMS and ketamine therapy'."""
        return self.name_in_text or self.name

    @property
    def column_in_text(self) -> str:
        """The comparison column's label inside a sentence: 'TMS and IV ketamine compared'."""
        return self.column_label_in_text or self.column_label

    def __post_init__(self) -> None:
        if "-vs-" in self.slug or not self.slug.replace("-", "").isalnum():
            raise ValueError(f"treatment slug {self.slug!r} cannot be used in comparison URLs")
        missing = [a.key for a in ATTRIBUTES if a.key not in self.comparison]
        if missing:
            raise ValueError(f"{self.slug}: no value for comparison attributes {missing}")

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


@dataclass(frozen=True)
class OtherOption:
    """A treatment the pages mention but do not (yet) have a guide for."""

    slug: str
    name: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class ClinicView:
    """The clinic's own opinion, always shown labelled as such, beside the fair comparison."""

    treatment: str
    fact: Fact


@dataclass(frozen=True)
class Pair:
    first: Treatment
    second: Treatment

    @property
    def slug(self) -> str:
        return f"{self.first.slug}-vs-{self.second.slug}"

    @property
    def treatments(self) -> tuple[Treatment, Treatment]:
        return (self.first, self.second)


# --- the comparison table's rows ------------------------------------------------------------

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("mechanism", _l("How it works"), "mechanism"),
    Attribute("fda_status", _l("FDA status"), "FDA status"),
    Attribute("conditions", _l("What it is used for"), "conditions"),
    Attribute("time_to_results", _l("Time to results"), "time to results"),
    Attribute("how_long_it_lasts", _l("How long the benefit lasts"), "how long it lasts"),
    Attribute("side_effects", _l("Side effects"), "side effects"),
    Attribute("safety", _l("Safety"), "safety"),
    Attribute("setting", _l("Where it happens"), "setting"),
    Attribute("frequency", _l("How often"), "frequency"),
    Attribute("insurance", _l("Insurance"), "insurance"),
    Attribute("cost", _l("Cost without insurance"), "cost without insurance"),
)

# --- what to weigh when choosing ------------------------------------------------------------

FACTORS: tuple[Factor, ...] = (
    Factor(
        "medical_history",
        _l("Your medical history"),
        fact(
            _l(
                "Some health conditions can make a treatment unsuitable. A clinician checks these with "
                "you before any treatment starts."
            ),
            "Medical history (the screening flags above).",
        ),
    ),
    Factor(
        "practicalities",
        _l("Fitting treatment into your life"),
        fact(
            _l(
                "Think about how often you would need to travel for treatment, and what each visit "
                "involves, alongside work, childcare or school."
            ),
            "Accessibility: TMS needs no anesthesia, fasting, monitoring or a driver; fits around "
            "work, childcare and school",
        ),
    ),
    Factor(
        "preference",
        _l("What matters most to you"),
        fact(
            _l(
                "Some people want relief as fast as possible. Others prefer a gradual approach without "
                "medication. Both are reasonable things to want."
            ),
            "Personal preference: gradual and medication-free vs fast and medication-based.",
        ),
    ),
    Factor(
        "bipolar",
        _l("If you have bipolar disorder"),
        fact(
            _l("Bipolar disorder needs extra care with both treatments."),
            "Complications such as bipolar disorder (see above).",
        ),
    ),
)

# --- the treatments -------------------------------------------------------------------------

_TMS_SEIZURES = fact(_l("A history of seizures."), "history of seizures")
_TMS_IMPLANTS = fact(
    _l("Metal implants that respond to magnets, in your head or within 12 inches (30 cm) of it."),
    "magnetic-sensitive metal implants in the head or within 12 inches of it.",
)
_TMS_BIPOLAR = fact(
    _l(
        "TMS may be used for bipolar depression, with caution and under medical supervision, "
        "because there is a risk of triggering mania."
    ),
    "Bipolar depression: may be used under medical supervision, with caution (risk of triggering mania).",
)
_TMS_ACCESS = fact(
    _l(
        "TMS needs no anesthesia, no fasting, no monitoring and no one to drive you, so it fits "
        "around work, childcare and school. That convenience helps people finish the full course."
    ),
    "Accessibility: TMS needs no anesthesia, fasting, monitoring or a driver; fits around "
    "work, childcare and school; that convenience helps people finish the full course.",
)
_TMS_SCHEDULE = fact(
    _l("Sessions are daily, Monday to Friday, for 1 to 6 weeks."),
    "Schedule: daily, Monday to Friday, for 1 to 6 weeks.",
)

TMS = Treatment(
    slug="tms",
    name=_l("TMS"),
    long_name=_l("Transcranial magnetic stimulation (TMS)"),
    column_label=_l("TMS"),
    title=_l("TMS therapy explained: how it works, what a course involves, costs"),
    description=(
        _l(
            "A plain guide to TMS (transcranial magnetic stimulation): how it works, a "
            "typical course, who it may suit, side effects, insurance and cost."
        )
    ),
    booking_interest="tms",
    summary=(
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
                "It is non-invasive and needs no anesthesia: you can drive yourself to each "
                "session and get on with your day straight afterwards."
            ),
            "Non-invasive;",
            "no anesthesia; no downtime; patients drive themselves and resume normal activities right away.",
        ),
    ),
    sections=(
        Section(
            "what_it_is",
            _l("What TMS is"),
            intro=(
                fact(
                    _l(
                        "TMS stands for transcranial magnetic stimulation. It is non-invasive, and "
                        "it needs no anesthesia."
                    ),
                    "Non-invasive;",
                    "no anesthesia",
                ),
                fact(
                    _l(
                        "The FDA has cleared TMS for major depressive disorder and other conditions. "
                        "It is used especially when medications have not worked."
                    ),
                    "FDA-cleared for major depressive disorder (and other conditions), especially "
                    "after medications have not worked.",
                ),
                fact(
                    _l(
                        "There are a few kinds: repetitive TMS (rTMS), Deep TMS (dTMS) and "
                        "intermittent theta burst stimulation (iTBS)."
                    ),
                    "Variants: repetitive TMS (rTMS), Deep TMS (dTMS), intermittent theta burst (iTBS).",
                ),
                fact(
                    _l("At our clinic we use FDA-cleared protocols, and your treatment plan is made for you."),
                    "with FDA-cleared protocols and personalised treatment plans.",
                ),
            ),
        ),
        Section(
            "how_it_works",
            _l("How it works"),
            intro=(
                fact(
                    _l(
                        "TMS uses magnetic pulses to stimulate nerve cells in the areas of the brain "
                        "that regulate mood."
                    ),
                    "magnetic pulses stimulate nerve cells in brain areas that regulate mood,",
                ),
                fact(
                    _l("Over a course of sessions, this gradually strengthens the communication between those areas."),
                    "gradually strengthening communication between them.",
                ),
                fact(
                    _l(
                        "It is not a medication, so it does not bring the whole-body (systemic) side "
                        "effects that antidepressant medication can."
                    ),
                    "no systemic side effects of antidepressant medication",
                    "gradual and medication-free",
                ),
            ),
        ),
        Section(
            "course",
            _l("What a course looks like"),
            details=(
                Detail(
                    _l("How often"),
                    fact(
                        _l("Daily, Monday to Friday, for 1 to 6 weeks."),
                        "Schedule: daily, Monday to Friday, for 1 to 6 weeks.",
                    ),
                ),
                Detail(
                    _l("How long each session takes"),
                    fact(
                        _l(
                            "Typically 20 to 40 minutes. The full range is 3 to 40 minutes: iTBS sessions "
                            "are short, rTMS sessions longer."
                        ),
                        "Session length 3 to 40 minutes (iTBS short, rTMS longer); typically 20-40 minutes.",
                    ),
                ),
                Detail(
                    _l("Where"),
                    fact(
                        _l(
                            "In an outpatient clinic. There is no anesthesia and no downtime: you can "
                            "drive yourself and return to your normal activities right away."
                        ),
                        "Sessions in an outpatient clinic; no anesthesia; no downtime; patients drive "
                        "themselves and resume normal activities right away.",
                    ),
                ),
                Detail(
                    _l("When you might notice a change"),
                    fact(
                        _l(
                            "Gradually, over several weeks. The effects can be long-lasting, especially "
                            "with maintenance sessions."
                        ),
                        "Response: gradual, over several weeks. Effects can be long-lasting, especially "
                        "with maintenance sessions.",
                    ),
                ),
            ),
        ),
        Section(
            "may_suit",
            _l("Who TMS may suit"),
            points=(
                fact(
                    _l("People with major depressive disorder, especially when medications have not worked."),
                    "FDA-cleared for major depressive disorder (and other conditions), especially "
                    "after medications have not worked.",
                ),
                fact(
                    _l("People with OCD. TMS is also used for anxiety, smoking addiction and PTSD."),
                    "Used for: major depressive disorder, OCD; also anxiety, smoking addiction, PTSD;",
                ),
                fact(
                    _l("People who would prefer a gradual, medication-free approach."),
                    "Personal preference: gradual and medication-free vs fast and medication-based.",
                ),
                fact(
                    _l(
                        "People who need treatment to fit around work, childcare or school. With no "
                        "anesthesia, fasting, monitoring or driver needed, it is easier to finish the "
                        "full course."
                    ),
                    "Accessibility: TMS needs no anesthesia, fasting, monitoring or a driver; fits "
                    "around work, childcare and school; that convenience helps people finish the "
                    "full course.",
                ),
            ),
            outro=(
                fact(
                    _l("TMS is also being studied for bipolar disorder, autism and ADHD."),
                    "being studied for bipolar disorder, autism, ADHD.",
                ),
            ),
        ),
        Section(
            "may_not_suit",
            _l("Who TMS may not suit"),
            intro=(
                fact(
                    _l("A clinician checks for these before TMS, because they can make it unsuitable:"),
                    "Not suitable (screening flags): history of seizures; magnetic-sensitive "
                    "metal implants in the head or within 12 inches of it.",
                ),
            ),
            points=(_TMS_SEIZURES, _TMS_IMPLANTS),
            outro=(
                fact(
                    _l(
                        "If you have bipolar disorder: TMS may be used for bipolar depression, with "
                        "caution and under medical supervision, because there is a risk of "
                        "triggering mania."
                    ),
                    *_TMS_BIPOLAR.sources,
                ),
            ),
        ),
        Section(
            "side_effects",
            _l("Side effects"),
            intro=(
                fact(
                    _l("The side effects of TMS are mild: a headache, or some discomfort on the scalp."),
                    "Side effects: mild headache or scalp discomfort;",
                ),
                fact(
                    _l(
                        "Because TMS is not a medication, it has none of the systemic (whole-body) "
                        "side effects of antidepressant medication."
                    ),
                    "no systemic side effects of antidepressant medication.",
                ),
            ),
        ),
        Section(
            "insurance_cost",
            _l("Insurance and cost"),
            intro=(
                fact(
                    _l(
                        "Insurance often covers TMS for depression after other treatments have not "
                        "worked. It usually needs prior authorization, which means your insurer "
                        "agrees before treatment starts."
                    ),
                    "Insurance: often covered for depression after other treatments failed, "
                    "usually with prior authorization.",
                ),
                fact(
                    _l("Without insurance, TMS costs about $100 to $500 per session."),
                    "Cost without insurance: about $100-$500 per session.",
                ),
            ),
        ),
    ),
    factors={
        "medical_history": (_TMS_SEIZURES, _TMS_IMPLANTS),
        "practicalities": (_TMS_ACCESS, _TMS_SCHEDULE),
        "preference": (fact(_l("Gradual and medication-free."), "gradual and medication-free"),),
        "bipolar": (_TMS_BIPOLAR,),
    },
    comparison={
        "mechanism": fact(
            _l("Magnetic pulses stimulate nerve cells in the brain's mood centers."),
            "magnetic pulses stimulate nerve cells in mood centres",
        ),
        "fda_status": fact(_l("FDA-cleared for major depressive disorder."), "cleared for major depressive disorder"),
        "conditions": fact(
            _l("Major depressive disorder, OCD, anxiety, smoking addiction and PTSD."),
            "MDD, OCD, anxiety, smoking addiction, PTSD",
        ),
        "time_to_results": fact(_l("Gradual, over several weeks."), "gradual, over several weeks"),
        "how_long_it_lasts": fact(
            _l("Can be long-lasting, with maintenance sessions."), "can be long-lasting with maintenance"
        ),
        "side_effects": fact(_l("Mild headache or scalp discomfort."), "mild headache, scalp discomfort"),
        "safety": fact(
            _l("Non-invasive, with minimal effects on the rest of the body."), "non-invasive, minimal systemic effects"
        ),
        "setting": fact(_l("An outpatient clinic, with no anesthesia."), "outpatient clinic, no anesthesia"),
        "frequency": fact(
            _l("Daily, Monday to Friday, for 1 to 6 weeks (rTMS, Deep TMS or iTBS)."),
            "daily Mon-Fri for 1-6 weeks (rTMS, dTMS, iTBS)",
        ),
        "insurance": fact(_l("Often covered, with prior authorization."), "often covered with prior authorization"),
        "cost": fact(_l("About $100 to $500 per session."), "$100-$500 per session"),
    },
)

_KET_BP = fact(_l("High blood pressure that is not under control."), "uncontrolled high blood pressure")
_KET_SUBSTANCE = fact(_l("A history of substance misuse."), "history of substance misuse")
_KET_HEART = fact(_l("Certain heart conditions."), "certain heart conditions")
_KET_BIPOLAR = fact(
    _l("Ketamine also carries a risk of destabilizing mood, so a full psychiatric evaluation is needed first."),
    "Bipolar depression: also a risk of mood destabilisation; needs a full psychiatric evaluation first.",
)
_ESKETAMINE_SETTING = (
    "Esketamine nasal spray (brand Spravato) is only given in a healthcare setting certified "
    "under its FDA safety program (a REMS)."
)
_ESKETAMINE_AFTER = (
    "After each dose the patient is watched by a healthcare provider for at least 2 hours, until "
    "judged safe to leave, and must not drive or operate machinery until the next day after a "
    "restful sleep: a ride home is needed."
)
_KET_RIDE_HOME = fact(
    _l(
        "With esketamine nasal spray, a healthcare provider watches you for at least 2 hours after each "
        "dose. You must not drive until the next day, after a restful sleep, so you need a ride home."
    ),
    _ESKETAMINE_AFTER,
)
_KET_VISITS = fact(
    _l(
        "Treatment is given under supervision in a medical facility, typically 1 to 2 times a week "
        "at first. Ongoing or booster treatments are common."
    ),
    "Given under supervision in a medical facility, typically 1-2 times a week at first.",
    "ongoing or booster treatments are common.",
)

KETAMINE = Treatment(
    slug="ketamine",
    name=_l("Ketamine therapy"),
    long_name=_l("Ketamine therapy (IV ketamine and esketamine)"),
    column_label=_l("IV ketamine"),
    title=_l("Ketamine therapy explained: IV ketamine, esketamine, costs and side effects"),
    description=(
        _l(
            "A fair, plain guide to ketamine therapy for depression: IV infusions and "
            "esketamine nasal spray, how often, who it may suit, side effects and cost."
        )
    ),
    booking_interest="ketamine",
    name_in_text=_l("ketamine therapy"),
    column_label_in_text=_lp("in a sentence", "IV ketamine"),
    summary=(
        fact(
            _l(
                "Ketamine therapy gives a low dose of ketamine by intravenous (IV) infusion, or "
                "esketamine as a nasal spray."
            ),
            "A low dose of ketamine, by intravenous (IV) infusion, or esketamine as a nasal spray.",
        ),
        fact(
            _l("It acts on the brain's glutamate system, and people often notice a response within hours or days."),
            "Acts on the brain's glutamate system",
            "Response: often within hours or days;",
        ),
    ),
    sections=(
        Section(
            "what_it_is",
            _l("What ketamine therapy is"),
            intro=(
                fact(
                    _l(
                        "Ketamine therapy uses a low dose of ketamine, given through a drip into a "
                        "vein (an intravenous or IV infusion), or esketamine, given as a nasal spray."
                    ),
                    "A low dose of ketamine, by intravenous (IV) infusion, or esketamine as a nasal spray.",
                ),
                fact(
                    _l(
                        "Esketamine nasal spray is FDA-approved for treatment-resistant depression, "
                        "and must be given under medical supervision."
                    ),
                    "esketamine nasal spray is approved for treatment-resistant depression and "
                    "must be given under medical supervision;",
                ),
                fact(
                    _l(
                        "IV ketamine for depression is off-label: doctors may use it, but the FDA has "
                        "not approved it for depression."
                    ),
                    "IV ketamine for depression is off-label.",
                ),
            ),
        ),
        Section(
            "how_it_works",
            _l("How it works"),
            intro=(
                fact(
                    _l(
                        "Ketamine acts on the brain's glutamate system, and promotes new connections "
                        "between nerve cells."
                    ),
                    "Acts on the brain's glutamate system, promoting new neural connections.",
                ),
            ),
        ),
        Section(
            "course",
            _l("What a course looks like"),
            details=(
                Detail(
                    _l("How often"),
                    fact(_l("Typically 1 to 2 times a week at first."), "typically 1-2 times a week at first."),
                ),
                Detail(
                    _l("How long each session takes"),
                    fact(
                        _l(
                            "We do not have a reliable figure to give you here. Please ask the provider "
                            "who would treat you."
                        ),
                        NO_FIGURE,
                    ),
                ),
                Detail(
                    _l("Where"),
                    fact(
                        _l("Under supervision, in a medical facility."), "Given under supervision in a medical facility"
                    ),
                ),
                Detail(
                    _l("When you might notice a change"),
                    fact(
                        _l(
                            "Often within hours or days. Several sessions are usually needed for a lasting "
                            "effect. The effects tend to be shorter-lived, so ongoing or booster "
                            "treatments are common."
                        ),
                        "Response: often within hours or days; several sessions are usually needed for "
                        "lasting effect. Effects tend to be shorter-lived; ongoing or booster "
                        "treatments are common.",
                    ),
                ),
            ),
            outro=(
                fact(
                    _l(
                        "Esketamine nasal spray (brand name Spravato) is only given in a healthcare "
                        "setting that is certified under an FDA safety program."
                    ),
                    _ESKETAMINE_SETTING,
                ),
                fact(
                    _l(
                        "After each esketamine dose, a healthcare provider watches you for at least "
                        "2 hours, until it is safe for you to leave. You must not drive or use "
                        "machinery until the next day, after a restful sleep, so you will need a ride "
                        "home."
                    ),
                    _ESKETAMINE_AFTER,
                ),
            ),
        ),
        Section(
            "may_suit",
            _l("Who ketamine therapy may suit"),
            points=(
                fact(_l("People with treatment-resistant depression."), "Used for: treatment-resistant depression;"),
                fact(
                    _l(
                        "People for whom fast relief matters most, and who are comfortable with a "
                        "medication-based approach."
                    ),
                    "Personal preference: gradual and medication-free vs fast and medication-based.",
                ),
            ),
            outro=(
                fact(
                    _l("It is also used off-label for PTSD and for bipolar depression, under close supervision."),
                    "off-label for PTSD and bipolar depression under close supervision.",
                ),
            ),
        ),
        Section(
            "may_not_suit",
            _l("Who ketamine therapy may not suit"),
            intro=(
                fact(
                    _l("A clinician checks for these before ketamine, because they can make it unsuitable:"),
                    "Not suitable (screening flags): uncontrolled high blood pressure, history of "
                    "substance misuse, certain heart conditions.",
                ),
            ),
            points=(_KET_BP, _KET_SUBSTANCE, _KET_HEART),
            outro=(
                fact(
                    _l(
                        "If you have bipolar disorder: ketamine also carries a risk of destabilizing "
                        "mood, so a full psychiatric evaluation is needed first."
                    ),
                    *_KET_BIPOLAR.sources,
                ),
            ),
        ),
        Section(
            "side_effects",
            _l("Side effects"),
            intro=(
                fact(
                    _l(
                        "Side effects include dissociation (feeling detached from yourself or your "
                        "surroundings), nausea, and raised blood pressure during sessions."
                    ),
                    "Side effects: dissociation, nausea, raised blood pressure during sessions.",
                ),
                fact(
                    _l(
                        "Long-term safety with repeated use is still being studied, so treatment needs "
                        "careful monitoring."
                    ),
                    "Long-term safety with repeated use is still being studied; requires careful monitoring.",
                ),
            ),
        ),
        Section(
            "insurance_cost",
            _l("Insurance and cost"),
            intro=(
                fact(
                    _l(
                        "IV ketamine infusions are usually not covered by insurance. Esketamine nasal "
                        "spray may be covered by some plans."
                    ),
                    "Insurance: IV infusions usually not covered; esketamine may be covered by some plans.",
                ),
                fact(
                    _l(
                        "Without insurance, an IV infusion costs about $400 to $800 or more, and is "
                        "often paid out of pocket."
                    ),
                    "Cost without insurance: about $400-$800+ per infusion, often out of pocket.",
                ),
            ),
        ),
    ),
    factors={
        "medical_history": (_KET_BP, _KET_SUBSTANCE, _KET_HEART),
        "practicalities": (_KET_VISITS, _KET_RIDE_HOME),
        "preference": (fact(_l("Fast and medication-based."), "fast and medication-based"),),
        "bipolar": (_KET_BIPOLAR,),
    },
    comparison={
        "mechanism": fact(
            _l("Changes glutamate activity in the brain, which affects nerve cells."),
            "alters glutamate activity to affect nerve cells",
        ),
        "fda_status": fact(
            _l("Off-label for depression. Esketamine nasal spray is FDA-approved."),
            "off-label; esketamine nasal spray approved",
        ),
        "conditions": fact(
            _l("Treatment-resistant depression; PTSD (off-label)."), "treatment-resistant depression, PTSD (off-label)"
        ),
        "time_to_results": fact(_l("Often within hours or days."), "often within hours or days"),
        "how_long_it_lasts": fact(
            _l("Shorter; regular booster treatments may be needed."), "shorter; regular boosters may be needed"
        ),
        "side_effects": fact(
            _l("Dissociation, nausea, raised blood pressure."), "dissociation, nausea, raised blood pressure"
        ),
        "safety": fact(
            _l("Needs careful monitoring; long-term effects are still being studied."),
            "careful monitoring; long-term effects under study",
        ),
        "setting": fact(_l("A medical facility."), "medical facility"),
        "frequency": fact(_l("1 to 2 times a week at first."), "1-2 times a week at first"),
        "insurance": fact(_l("Usually not covered; esketamine may be."), "usually not covered; esketamine may be"),
        "cost": fact(_l("About $400 to $800 or more per infusion."), "$400-$800+ per infusion"),
    },
)

# The order here is the order of navigation, guides and the columns of every comparison.
TREATMENTS: tuple[Treatment, ...] = (TMS, KETAMINE)

# --- shared comparison copy -----------------------------------------------------------------

COMBINATIONS: dict[frozenset[str], tuple[Fact, ...]] = {
    frozenset({"tms", "ketamine"}): (
        fact(
            _l(
                "For severe or treatment-resistant depression, TMS and IV ketamine together may "
                "help when one alone is not enough."
            ),
            "Combined TMS + IV ketamine: may help severe or treatment-resistant depression when "
            "one alone is not enough;",
        ),
        fact(
            _l(
                "Combining them needs the providers to coordinate on safety and on timing. It is "
                "something to discuss with a clinician."
            ),
            "needs coordination between providers on safety and timing; discuss with a clinician.",
        ),
    ),
}

OTHER_OPTIONS: tuple[OtherOption, ...] = (
    OtherOption(
        "ect",
        _l("Electroconvulsive therapy (ECT)"),
        (
            fact(
                _l(
                    "Electroconvulsive therapy (ECT) is an option for severe cases. It has more side "
                    "effects and a longer recovery."
                ),
                "Other options exist: electroconvulsive therapy (ECT) for severe cases, with more "
                "side effects and a longer recovery.",
            ),
        ),
    ),
)

CLINIC_VIEW = ClinicView(
    "tms",
    fact(
        _l(
            "We are a TMS clinic, so you should know where we stand: in our view, TMS suits people who "
            "want a non-invasive, medication-free approach with lasting benefit. The comparison on this "
            "page sets out both treatments as fairly as we can, and a clinician will help you weigh "
            "them for yourself."
        ),
        "The clinic's own view (it is a TMS clinic): TMS suits people who want a non-invasive, "
        "medication-free approach with lasting benefit.",
    ),
)


# --- lookups (read TREATMENTS at call time, so a changed registry shows up at once) ---------


def all_treatments() -> tuple[Treatment, ...]:
    return TREATMENTS


def get(slug: str) -> Treatment | None:
    return next((t for t in TREATMENTS if t.slug == slug), None)


def pairs() -> list[Pair]:
    """Every pair of treatments once, in registry order: (TMS, ECT, ketamine) gives
    tms-vs-ect, tms-vs-ketamine and ect-vs-ketamine."""
    return [Pair(a, b) for a, b in combinations(TREATMENTS, 2)]


def find_pair(slug: str) -> tuple[Pair | None, bool]:
    """The pair a comparison URL names, and whether the URL is the canonical order."""
    first, sep, second = slug.partition("-vs-")
    a, b = get(first), get(second)
    if not sep or a is None or b is None or a is b:
        return None, False
    for pair in pairs():
        if pair.treatments == (a, b):
            return pair, True
        if pair.treatments == (b, a):
            return pair, False
    return None, False


def combined(pair: Pair) -> tuple[Fact, ...]:
    return COMBINATIONS.get(frozenset({pair.first.slug, pair.second.slug}), ())


def other_options(pair: Pair) -> tuple[list[Treatment], list[OtherOption]]:
    """Treatments with guides outside this pair, and options mentioned without a guide."""
    inside = {pair.first.slug, pair.second.slug}
    guides = [t for t in TREATMENTS if t.slug not in inside]
    known = {t.slug for t in TREATMENTS}
    return guides, [o for o in OTHER_OPTIONS if o.slug not in known]


def clinic_view_for(slugs: set[str]) -> Fact | None:
    return CLINIC_VIEW.fact if CLINIC_VIEW.treatment in slugs else None


def all_facts() -> list[Fact]:
    """Every fact the treatment pages can show, for tracing them back to the fact sheet."""
    found: list[Fact] = [CLINIC_VIEW.fact]
    for factor in FACTORS:
        found.append(factor.intro)
    for treatment in TREATMENTS:
        found.extend(treatment.summary)
        for section in treatment.sections:
            found.extend(section.intro + section.points + section.outro)
            found.extend(d.fact for d in section.details)
        for notes in treatment.factors.values():
            found.extend(notes)
        found.extend(treatment.comparison.values())
    for notes in COMBINATIONS.values():
        found.extend(notes)
    for option in OTHER_OPTIONS:
        found.extend(option.facts)
    return found
