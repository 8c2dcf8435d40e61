"""Plain language: the main text of every public content page reads at about US grade 8 in
English (Flesch-Kincaid) and as "normal" or easier in Spanish (Fernández-Huerta)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import textstat

PAGES = [
    "/",
    "/treatments",
    "/treatments/tms",
    "/treatments/ketamine",
    "/compare/tms-vs-ketamine",
    "/faq",
    "/about",
    "/privacy",
    "/self-check",
]
MAX_GRADE = 9.0  # Flesch-Kincaid grade, English (we aim at 8)
MIN_EASE_ES = 60.0  # Fernández-Huerta: 60-70 is "normal", higher is easier


class _MainText(HTMLParser):
    """The visible text inside <main>, one block per paragraph, heading, list item or cell."""

    BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "dt", "dd", "th", "td", "caption", "legend", "button"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_main = 0
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.in_main += 1
        elif tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main -= 1
        elif tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if self.in_main and not self.skip:
            self.parts.append(data)

    def text(self) -> str:
        # A heading or list item without a full stop is still a sentence for the formulas.
        blocks = (" ".join(block.split()) for block in "".join(self.parts).split("\n"))
        return " ".join(b if b[-1] in ".?!:;" else b + "." for b in blocks if b)


def main_text(html: str) -> str:
    parser = _MainText()
    parser.feed(html)
    return parser.text()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from tests.conftest import build_app, dispose

    app = build_app(f"sqlite:///{tmp_path_factory.mktemp('reading') / 'site.db'}")
    client = app.test_client()
    texts = {}
    for prefix in ("", "/es"):
        for path in PAGES:
            response = client.get(prefix + path, headers={"Accept-Language": "en"})
            assert response.status_code == 200, prefix + path
            texts[prefix + path] = main_text(response.get_data(as_text=True))
    yield texts
    dispose(app)


@pytest.mark.parametrize("path", PAGES)
def test_english_pages_read_at_about_grade_8(pages, path):
    textstat.set_lang("en_US")
    grade = textstat.flesch_kincaid_grade(pages[path])
    print(f"\n{path}: Flesch-Kincaid grade {grade:.1f}")
    assert grade <= MAX_GRADE, f"{path}: Flesch-Kincaid grade {grade:.1f} (at most {MAX_GRADE})"


@pytest.mark.parametrize("path", PAGES)
def test_spanish_pages_read_as_normal_or_easier(pages, path):
    textstat.set_lang("es")
    try:
        ease = textstat.fernandez_huerta(pages["/es" + path])
    finally:
        textstat.set_lang("en_US")
    print(f"\n/es{path}: Fernández-Huerta {ease:.1f}")
    assert ease >= MIN_EASE_ES, f"/es{path}: Fernández-Huerta {ease:.1f} (at least {MIN_EASE_ES})"


def test_the_spanish_pages_are_in_spanish(pages):
    """A formula scores any text: make sure it scored Spanish (no common English words left)."""
    for path in PAGES:
        words = set(pages["/es" + path].lower().replace(".", " ").replace(",", " ").split())
        assert not words & {"the", "you", "and", "your", "with", "what"}, (path, words & {"the", "you", "and"})
