"""The content data: every claim traces to the fact sheet, every treatment is complete, the
self-check maps answers to points to discuss, and a third treatment is only a data change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.content import clinic, faq, self_check, treatments
from app.content.facts import NO_FIGURE, fact
from app.content.treatments import ATTRIBUTES, KETAMINE, TMS, Section, Treatment

ROOT = Path(__file__).resolve().parent.parent
# The project's own copy of the clinic's fact sheet; the clinic's master copy sits in
# ../shared beside a checkout where there is one, and the two must agree.
FACT_SHEET = ROOT / "app" / "content" / "treatment-facts.md"
MASTER_FACT_SHEET = ROOT.parent / "shared" / "treatment-facts.md"
REQUIRED_SECTIONS = (
    "what_it_is",
    "how_it_works",
    "course",
    "may_suit",
    "may_not_suit",
    "side_effects",
    "insurance_cost",
)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def fact_sheet() -> str:
    return normalise(FACT_SHEET.read_text())


def test_the_project_copy_of_the_fact_sheet_is_in_step_with_the_clinic_master():
    copy = FACT_SHEET.read_text()
    assert "## Comparison rows" in copy
    if MASTER_FACT_SHEET.exists():
        assert copy == MASTER_FACT_SHEET.read_text(), "copy ../shared/treatment-facts.md into app/content/"


def every_fact():
    return treatments.all_facts() + faq.all_facts() + self_check.all_facts() + clinic.all_facts()


def test_every_claim_quotes_a_line_of_the_fact_sheet(fact_sheet):
    untraced = []
    for item in every_fact():
        assert item.sources, f"no source for {item.text!r}"
        for source in item.sources:
            if source == NO_FIGURE:
                # Only allowed for sentences that say there is no figure to give.
                assert "do not have" in item.text, item.text
            elif normalise(source) not in fact_sheet:
                untraced.append((item.text, source))
    assert not untraced, "\n".join(f"{text!r} <- {source!r}" for text, source in untraced)


def test_comparison_attributes_cover_every_row_of_the_fact_sheet_table(fact_sheet):
    raw = FACT_SHEET.read_text()
    table = raw.split("## Comparison rows", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("|") and "---" not in line]
    sheet_rows = [r for r in rows if r != "attribute"]
    assert sheet_rows and [a.source for a in ATTRIBUTES] == sheet_rows


@pytest.mark.parametrize("treatment", treatments.TREATMENTS, ids=lambda t: t.slug)
def test_each_guide_has_every_section_and_every_comparison_value(treatment):
    assert [s.key for s in treatment.sections] == list(REQUIRED_SECTIONS)
    for section in treatment.sections:
        assert section.intro or section.points or section.details, section.key
    course = {d.label for d in treatment.section("course").details}
    assert {"How often", "How long each session takes", "Where"} <= course
    assert set(treatment.comparison) == {a.key for a in ATTRIBUTES}
    assert set(treatment.factors) == {f.key for f in treatments.FACTORS}
    assert len(treatment.summary) == 2


def test_a_treatment_missing_a_comparison_value_is_refused():
    with pytest.raises(ValueError, match="cost"):
        Treatment(
            slug="x",
            name="X",
            long_name="X",
            column_label="X",
            title="X",
            description="X",
            summary=(),
            sections=(),
            factors={},
            comparison={a.key: fact("x", "x") for a in ATTRIBUTES if a.key != "cost"},
        )


def test_the_comparison_is_balanced_and_the_clinic_view_is_separate():
    # Both columns are written at the same length, so neither side is sold harder.
    for attribute in ATTRIBUTES:
        tms, ket = TMS.comparison[attribute.key].text, KETAMINE.comparison[attribute.key].text
        assert len(tms) < 3 * len(ket) + 20 and len(ket) < 3 * len(tms) + 20, attribute.key
    assert "view" in treatments.CLINIC_VIEW.fact.text
    assert all("our view" not in v.text.lower() for t in treatments.TREATMENTS for v in t.comparison.values())


def test_pairs_and_canonical_comparison_urls():
    assert [p.slug for p in treatments.pairs()] == ["tms-vs-ketamine"]
    pair, canonical = treatments.find_pair("tms-vs-ketamine")
    assert pair.treatments == (TMS, KETAMINE) and canonical
    pair, canonical = treatments.find_pair("ketamine-vs-tms")
    assert pair.slug == "tms-vs-ketamine" and not canonical
    for unknown in ("tms-vs-tms", "tms", "tms-vs-ect", "-vs-", "tms-vs-ketamine-vs-ect"):
        assert treatments.find_pair(unknown) == (None, False)


# --- the self-check --------------------------------------------------------------------------

NO_TO_ALL = {q.key: self_check.NO for q in self_check.QUESTIONS if q.key != "preference"}


def titles(points):
    return [p.title for p in points]


def test_no_flags_still_points_to_a_clinician_and_is_not_a_green_light():
    points = self_check.things_to_discuss(NO_TO_ALL)
    assert titles(points) == ["Your full medical history"]
    assert "not a green light" in points[0].facts[0].text


@pytest.mark.parametrize(
    ("key", "treatment"),
    [
        ("seizures", "tms"),
        ("metal_implants", "tms"),
        ("blood_pressure", "ketamine"),
        ("substance_misuse", "ketamine"),
        ("heart", "ketamine"),
    ],
)
def test_each_screening_answer_becomes_a_point_about_the_right_treatment(key, treatment):
    points = self_check.things_to_discuss({**NO_TO_ALL, key: self_check.YES})
    assert [p.key for p in points] == [key]
    assert points[0].treatments == (treatment,)


def test_bipolar_concerns_both_treatments():
    (point,) = self_check.things_to_discuss({"bipolar": "yes"})
    assert point.treatments == ("tms", "ketamine")
    text = " ".join(f.text for f in point.facts)
    assert "mania" in text and "psychiatric evaluation" in text


def test_not_sure_is_a_point_too():
    (point,) = self_check.things_to_discuss({"seizures": self_check.NOT_SURE})
    assert point.key == "seizures" and "not sure" in point.facts[0].text


@pytest.mark.parametrize("preference", ["fast", "medication_free", "both"])
def test_preference_adds_a_balanced_point_naming_both_treatments(preference):
    points = self_check.things_to_discuss({**NO_TO_ALL, "preference": preference})
    assert points[-1].key == "preference"
    text = " ".join(f.text for f in points[-1].facts)
    assert "TMS" in text and "etamine" in text


def test_never_a_verdict_or_diagnosis():
    every_answer = {q.key: q.choices[0][0] for q in self_check.QUESTIONS}
    for answers in (every_answer, NO_TO_ALL, {}):
        for point in self_check.things_to_discuss(answers):
            text = (point.title + " " + " ".join(f.text for f in point.facts)).lower()
            for verdict in (
                "you are eligible",
                "you qualify",
                "you should have",
                "diagnos",
                "we recommend",
                "you cannot",
                "you can't",
                "is right for you",
                "suitable for you",
                "best for you",
            ):
                assert verdict not in text, (verdict, text)


def test_unknown_questions_and_values_are_dropped():
    assert self_check.clean({"seizures": "maybe", "shoe_size": "9", "heart": "no"}) == {"heart": "no"}


def test_what_a_booking_keeps_is_readable_and_nothing_more():
    kept = self_check.for_booking({"seizures": "yes", "preference": "fast", "extra": "x"})
    assert kept == {
        "answers": [
            {"key": "seizures", "question": "Have you ever had a seizure?", "answer": "Yes"},
            {
                "key": "preference",
                "question": "Which matters more to you right now?",
                "answer": "Feeling better as quickly as possible",
            },
        ],
        "to_discuss": ["Your history of seizures", "Wanting relief quickly"],
    }


# --- a third treatment is a data change --------------------------------------------------------


def ect_treatment() -> Treatment:
    """Test data only (never shipped): enough to show pages appear from data alone."""
    value = fact("ECT test value.", NO_FIGURE)
    return Treatment(
        slug="ect",
        name="ECT",
        long_name="Electroconvulsive therapy (ECT)",
        column_label="ECT",
        title="ECT explained",
        description="A test guide to ECT.",
        summary=(value, value),
        sections=(Section("what_it_is", "What ECT is", intro=(value,)),),
        factors={f.key: (value,) for f in treatments.FACTORS},
        comparison={a.key: fact(f"ECT {a.key} value.", NO_FIGURE) for a in ATTRIBUTES},
    )


@pytest.fixture
def with_ect(monkeypatch):
    monkeypatch.setattr(treatments, "TREATMENTS", (TMS, ect_treatment(), KETAMINE))


def test_adding_ect_to_the_data_adds_its_guide_and_comparisons(with_ect, client):
    assert [p.slug for p in treatments.pairs()] == ["tms-vs-ect", "tms-vs-ketamine", "ect-vs-ketamine"]
    guide = client.get("/treatments/ect")
    assert guide.status_code == 200 and "Electroconvulsive therapy (ECT)" in guide.text
    for slug, columns in (("tms-vs-ect", ("TMS", "ECT")), ("ect-vs-ketamine", ("ECT", "IV ketamine"))):
        page = client.get(f"/compare/{slug}")
        assert page.status_code == 200, slug
        headers = re.findall(r'<th scope="col">([^<]*)</th>', page.text)
        assert headers[1:] == list(columns)
        assert "ECT cost value." in page.text
    assert client.get("/compare/ketamine-vs-ect").headers["Location"].endswith("/compare/ect-vs-ketamine")
    sitemap = client.get("/sitemap.xml").text
    for path in ("/treatments/ect", "/compare/tms-vs-ect", "/compare/ect-vs-ketamine"):
        assert f"http://localhost{path}</loc>" in sitemap
    # ECT now has a guide, so the comparison links to it instead of only mentioning it.
    tms_vs_ket = client.get("/compare/tms-vs-ketamine").text
    assert 'href="/treatments/ect"' in tms_vs_ket


def test_without_ect_in_the_data_there_are_no_ect_pages(client):
    assert client.get("/treatments/ect").status_code == 404
    assert client.get("/compare/tms-vs-ect").status_code == 404
    assert "for severe cases" in client.get("/compare/tms-vs-ketamine").text
