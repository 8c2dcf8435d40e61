"""The Spanish glossary (translations/glossary-es.md) holds: no Spanish text uses a word the
glossary rules out, in the catalogs or in the settings' Spanish defaults; and the English
sample text is US English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "translations" / "glossary-es.md"


def ruled_out() -> list[str]:
    """The phrases of the glossary's "not" column."""
    phrases = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("English", "---"):
            phrases += [phrase.strip() for phrase in cells[2].split(",") if phrase.strip()]
    return phrases


def spanish_texts(config) -> list[tuple[str, str]]:
    texts = []
    for domain in ("site", "booking", "content"):
        with open(ROOT / "translations" / "es" / "LC_MESSAGES" / f"{domain}.po", "rb") as po:
            for message in read_po(po, locale="es"):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                texts += [(f"{domain}: {message.id!r}", s) for s in strings if message.id and s]
    for key, value in config.items():
        if key.endswith("_ES") and isinstance(value, str):
            texts.append((key, value))
    return texts


def test_the_glossary_rules_words_out():
    assert {"su cita", "ascensor", "historia médica", "Lea más"} <= set(ruled_out())


@pytest.mark.parametrize("phrase", ruled_out())
def test_no_spanish_text_uses_a_word_the_glossary_rules_out(app, phrase):
    assert app.config["CLINIC_ARRIVAL_NOTE_ES"]  # the sample note is checked too
    pattern = re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.IGNORECASE)
    found = [where for where, text in spanish_texts(app.config) if pattern.search(text)]
    assert found == [], f"{phrase!r} in {found}"


def test_the_english_sample_note_is_us_english(app):
    assert "elevator" in app.config["CLINIC_ARRIVAL_NOTE"] and "lift" not in app.config["CLINIC_ARRIVAL_NOTE"]
