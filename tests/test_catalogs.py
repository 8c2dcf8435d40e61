"""Every word a patient reads comes from the catalogs: each message the code and templates
use is in the Spanish catalog, translated and reviewed (not fuzzy), and no template of the
patient-facing site carries text outside a translation call."""

from __future__ import annotations

import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("site", "booking", "content")
# Templates a patient sees, by domain (the staff console and the local mail viewer stay in
# the staff's language).
TEMPLATES = {
    "site": [
        "templates/base.html",
        "templates/_crisis.html",
        "templates/_head.html",
        "templates/_macros/forms.html",
        "templates/errors/*.html",
    ],
    "booking": [
        "templates/booking/*.html",
        "templates/_macros/slots.html",
        "templates/waitlist/*.html",
        "templates/email/*.html",
        "templates/email/*.txt",
    ],
    "content": ["templates/public/*.html"],
}
_JINJA = re.compile(r"\{\{.*?\}\}|\{%-?\s*trans\b.*?endtrans\s*-?%\}|\{%.*?%\}|\{#.*?#\}", re.S)
_WORDS = re.compile(r"[A-Za-zÁÉÍÓÚÑáéíóúñ]{2,}")
_TRANSLATABLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}


def extracted(domain: str) -> set[tuple[str, str | None]]:
    """Each message the domain's code and templates use, as (id, context)."""
    with open(ROOT / "babel" / f"{domain}.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={
            "_": None,
            "gettext": None,
            "ngettext": (1, 2),
            "_l": None,
            "lazy_gettext": None,
            "_lp": ((1, "c"), 2),
            "pgettext": ((1, "c"), 2),
            "lazy_pgettext": ((1, "c"), 2),
        },
        directory_filter=_searched,
    ):
        found.add((message if isinstance(message, str) else message[0], context))
    return found


def _searched(path: str) -> bool:
    """Every folder but hidden ones and node_modules (Babel's own filter also skips `_macros`)."""
    name = Path(path).name
    return not name.startswith(".") and name != "node_modules"


def catalog(domain: str):
    with open(ROOT / "translations" / "es" / "LC_MESSAGES" / f"{domain}.po", "rb") as po:
        return read_po(po, locale="es")


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_is_in_the_spanish_catalog_and_translated(domain):
    messages = catalog(domain)
    missing, untranslated = [], []
    for message_id, context in sorted(extracted(domain), key=lambda found: (found[0], found[1] or "")):
        entry = messages.get(message_id, context)
        if entry is None:
            missing.append(message_id)
        elif not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)) or entry.fuzzy:
            untranslated.append(message_id)
    assert not missing, f"{len(missing)} not in translations/es/LC_MESSAGES/{domain}.po: {missing[:10]}"
    assert not untranslated, f"{len(untranslated)} untranslated or fuzzy in {domain}.po: {untranslated[:10]}"


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in _TRANSLATABLE_ATTRIBUTES and value and _WORDS.search(value):
                self.texts.append(f"{name}={value!r}")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and _WORDS.search(data):
            self.texts.append(data.strip())


def text_outside_catalog(source: str, *, plain: bool) -> list[str]:
    stripped = _JINJA.sub(" ", source)
    if plain:
        return [line.strip() for line in stripped.splitlines() if _WORDS.search(line)]
    finder = _TextFinder()
    finder.feed(stripped)
    return finder.texts


@pytest.mark.parametrize("domain", DOMAINS)
def test_no_patient_facing_template_has_text_outside_the_catalog(domain):
    found = {}
    for pattern in TEMPLATES[domain]:
        for path in sorted(ROOT.glob(pattern)):
            texts = text_outside_catalog(path.read_text(), plain=path.suffix == ".txt")
            if texts:
                found[str(path.relative_to(ROOT))] = texts[:5]
    assert not found, found


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_committed_mo_is_its_po_compiled(domain, tmp_path):
    """The .mo files are committed (a deploy serves them as they are): each holds exactly the
    messages compiling its .po gives, compared as parsed catalogs, not bytes."""
    import subprocess

    from app.core.deploy_check import compiled_messages, mo_messages

    directory = ROOT / "translations" / "es" / "LC_MESSAGES"
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", f"translations/es/LC_MESSAGES/{domain}.mo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert tracked.returncode == 0, f"{domain}.mo is not committed: {tracked.stderr.strip()}"
    shutil.copytree(ROOT / "translations", tmp_path / "translations", ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "compile",
            "-d",
            str(tmp_path / "translations"),
            "-D",
            domain,
            "-l",
            "es",
        ],
        check=True,
        capture_output=True,
    )
    fresh = mo_messages(tmp_path / "translations" / "es" / "LC_MESSAGES" / f"{domain}.mo")
    assert fresh == compiled_messages(directory / f"{domain}.po")
    committed = mo_messages(directory / f"{domain}.mo")
    assert committed == fresh, (
        f"{domain}.mo differs from its .po compiled (run `make translations`): "
        f"{sorted(set(fresh.items()) ^ set(committed.items()))[:5]}"
    )


# British wording the US English text avoids (the clinic is in Colorado).
BRITISH = re.compile(r"\bcall us on\b|\blift\b|\bring us\b", re.IGNORECASE)


@pytest.mark.parametrize("domain", DOMAINS)
def test_english_text_is_us_english(domain):
    found = sorted(message for message, _context in extracted(domain) if BRITISH.search(message))
    assert not found, found
