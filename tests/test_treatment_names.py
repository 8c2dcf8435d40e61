"""Treatment names inside sentences: every public page is walked in English and Spanish, and
a name written as a label that stands alone ("Terapia con ketamina", "Ketamina IV") may only
open a line or a sentence; anywhere else the page must use its mid-sentence form."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale

from app.content.treatments import TREATMENTS

# Elements whose text is a line of its own (a heading, a cell, a list item, a caption...);
# any other element (a link, <strong>, <time>) is part of the sentence around it.
BLOCKS = {
    "address",
    "article",
    "aside",
    "body",
    "br",
    "button",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "label",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "section",
    "select",
    "summary",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "title",
    "tr",
    "ul",
}
# A sentence may open a line, or follow the end of another sentence (Spanish opens a question
# with "¿"); a quotation mark or bracket may come first.
SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)[¿¡«\"'(]*$")
# Pages that are not one a patient reads (files, the language switch, staff and API).
NOT_PAGES = ("/static/", "/language/", "/staff", "/api/", "/calendar/", "/dev/", "/manage/", "/offers/")


class _Lines(HTMLParser):
    """A page as the lines a reader sees, plus its description and social titles (sentences too)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "meta" and (values.get("name") == "description" or values.get("property", "").startswith("og:")):
            self.lines.append(values.get("content") or "")
        if tag in BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if tag in BLOCKS:
            self.lines.append("")

    def handle_data(self, data):
        if not self._skip:
            self.lines[-1] += data


def page_lines(html: str) -> tuple[list[str], list[str]]:
    parser = _Lines()
    parser.feed(html)
    lines = [" ".join(line.split()) for line in parser.lines]
    return [line for line in lines if line], parser.links


def standalone_forms(language: str) -> set[str]:
    """The labels a page may only use where a line or a sentence begins: each treatment's name
    and column label, where the language writes them differently inside a sentence."""
    forms = set()
    with force_locale(language):
        for treatment in TREATMENTS:
            for label, in_text in (
                (treatment.name, treatment.in_text),
                (treatment.column_label, treatment.column_in_text),
            ):
                if str(label) != str(in_text):
                    forms.add(str(label))
    return forms


def mid_sentence(line: str, form: str) -> list[str]:
    """Each place `form` sits inside a sentence of `line` (as a whole word), with its context."""
    found = []
    for match in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", line):
        before = line[: match.start()]
        if not SENTENCE_START.search(before):
            found.append(line[max(0, match.start() - 40) : match.end() + 20])
    return found


def walk(client, start: str, prefix: str) -> dict[str, str]:
    """Every page reachable from `start` through links inside the language's address space."""
    seen: dict[str, str] = {}
    queue = [start]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        response = client.get(path)
        assert response.status_code == 200, path
        seen[path] = response.get_data(as_text=True)
        for href in page_lines(seen[path])[1]:
            parts = urlsplit(href)
            target = parts.path
            if parts.netloc or not target.startswith(prefix) or "." in target.rsplit("/", 1)[-1]:
                continue
            if prefix == "/" and target.startswith("/es"):
                continue
            if any(part in target for part in NOT_PAGES) or target in seen:
                continue
            queue.append(target)
    return seen


def test_the_mid_sentence_check_catches_a_capital_in_a_sentence():
    assert mid_sentence("Guías de tratamiento: TMS, Terapia con ketamina", "Terapia con ketamina")
    assert mid_sentence("TMS y Ketamina IV comparadas en 11 puntos", "Ketamina IV")
    assert not mid_sentence("Terapia con ketamina: la guía", "Terapia con ketamina")
    assert not mid_sentence("¿Terapia con ketamina o TMS?", "Terapia con ketamina")
    assert not mid_sentence("Es una opción. Terapia con ketamina también.", "Terapia con ketamina")
    assert not mid_sentence("la guía de terapia con ketamina", "Terapia con ketamina")


@pytest.mark.parametrize("language, start, prefix", [("es", "/es/", "/es/"), ("en", "/", "/")])
def test_no_page_capitalises_a_treatment_name_inside_a_sentence(ctx, client, language, start, prefix):
    forms = standalone_forms(language)
    # Spanish writes both of these differently inside a sentence; English writes the name so.
    assert {"es": {"Terapia con ketamina", "Ketamina IV"}, "en": {"Ketamine therapy"}}[language] <= forms
    pages = walk(client, start, prefix)
    # The walk reached the pages that name treatments most (it cannot pass by seeing nothing).
    for page in ("treatments", "treatments/ketamine", "compare/tms-vs-ketamine", "faq", "self-check"):
        assert f"{prefix}{page}" in pages, sorted(pages)
    wrong = {}
    for path, html in pages.items():
        for line in page_lines(html)[0]:
            for form in forms:
                if mid_sentence(line, form):
                    wrong.setdefault(path, []).extend(mid_sentence(line, form))
    assert not wrong, wrong


def test_spanish_comparison_caption_and_treatment_list_title(ctx, client):
    """The review's two examples, as a reader sees them."""
    compare = " ".join(page_lines(client.get("/es/compare/tms-vs-ketamine").get_data(as_text=True))[0])
    assert "TMS y ketamina IV, comparadas en 11 puntos" in compare
    listing = page_lines(client.get("/es/treatments").get_data(as_text=True))[0]
    assert "Guías de tratamiento: TMS, terapia con ketamina - Mindset TMS" in listing
    # Where a name stands alone (a column heading, a heading), it keeps its capital.
    assert "Ketamina IV" in page_lines(client.get("/es/compare/tms-vs-ketamine").get_data(as_text=True))[0]
