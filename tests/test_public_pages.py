"""The information pages through the Flask test client: every page answers, carries its own
title, description, canonical URL, Open Graph tags and JSON-LD, the crisis line and the
disclaimer; the sitemap and robots.txt describe them; the self-check keeps nothing unasked."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import select

from app.booking.views.book import SELF_CHECK_SESSION_KEY
from app.content import faq, self_check, treatments
from app.core.extensions import db
from app.models import Booking
from tests.conftest import booking_form, build_app, csrf_token, dispose, make_slot

BASE = "http://localhost"
PUBLIC_PAGES = [
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
INDEXED_PAGES = [*PUBLIC_PAGES, "/book"]


class Head(HTMLParser):
    """What a crawler reads from a page: title, meta tags, links, JSON-LD blocks, scripts."""

    def __init__(self):
        super().__init__()
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: list[dict] = []
        self.scripts: list[dict] = []
        self.json_ld: list[str] = []
        self.style_attributes = 0
        self.assets: list[str] = []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.style_attributes += 1
        if tag == "title":
            self._in = "title"
        elif tag == "meta":
            key = attrs.get("name") or attrs.get("property")
            if key:
                self.meta[key] = attrs.get("content", "")
        elif tag == "link":
            self.links.append(attrs)
            if attrs.get("rel") == "stylesheet":
                self.assets.append(attrs["href"])
        elif tag == "script":
            self.scripts.append(attrs)
            if attrs.get("src"):
                self.assets.append(attrs["src"])
            if attrs.get("type") == "application/ld+json":
                self._in = "json_ld"
                self.json_ld.append("")
        elif tag == "img":
            self.assets.append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag in ("title", "script"):
            self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "json_ld":
            self.json_ld[-1] += data

    def canonical(self):
        return next((link["href"] for link in self.links if link.get("rel") == "canonical"), None)


def parse(html: str) -> Head:
    head = Head()
    head.feed(html)
    return head


def get_ok(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_page_has_crisis_line_disclaimer_and_booking_call_to_action(client, path):
    html = get_ok(client, path)
    assert 'href="tel:988"' in html and "call or text" in html and 'href="tel:911"' in html
    assert "not medical advice" in html
    # The header's button reads "Book" on phones; its accessible name is always the full phrase.
    assert re.search(
        r'<a class="button[^"]*" href="/book"(?: aria-label="Book a free consultation")?>'
        r'Book(?:<span class="cta-more">)? a free consultation(?:</span>)?</a>',
        html,
    )


def test_error_pages_keep_the_crisis_line_and_have_no_canonical(client):
    html = client.get("/treatments/nothing-here").get_data(as_text=True)
    assert 'href="tel:988"' in html and "not medical advice" in html
    assert parse(html).canonical() is None


def test_titles_and_descriptions_are_unique_and_meaningful(client):
    heads = {path: parse(get_ok(client, path)) for path in INDEXED_PAGES}
    titles = [h.title.strip() for h in heads.values()]
    descriptions = [h.meta["description"] for h in heads.values()]
    assert len(set(titles)) == len(titles), titles
    assert len(set(descriptions)) == len(descriptions), descriptions
    for path, head in heads.items():
        assert "Mindset TMS" in head.title and len(head.title) <= 90, (path, head.title)
        assert 50 <= len(head.meta["description"]) <= 200, (path, head.meta["description"])


@pytest.mark.parametrize("path", INDEXED_PAGES)
def test_canonical_and_open_graph(client, path):
    head = parse(get_ok(client, path))
    assert head.canonical() == BASE + path
    assert head.meta["og:url"] == BASE + path
    assert head.meta["og:title"] == head.title.strip()
    assert head.meta["og:description"] == head.meta["description"]
    assert head.meta["og:site_name"] == "Mindset TMS"
    assert head.meta["og:type"] in ("website", "article")


def test_canonical_ignores_query_strings(client):
    assert parse(get_ok(client, "/faq?utm_source=x")).canonical() == BASE + "/faq"


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_json_ld_parses_and_describes_the_clinic(client, path):
    blocks = [json.loads(block) for block in parse(get_ok(client, path)).json_ld]
    clinic = next(b for b in blocks if b["@type"] == "MedicalClinic")
    assert clinic["@context"] == "https://schema.org"
    assert clinic["name"] == "Mindset TMS"
    assert clinic["address"]["addressLocality"] == "Greeley"
    assert clinic["telephone"] == "+1 970-555-0100"  # the sample setting, never invented


def test_faq_has_faqpage_json_ld_matching_the_visible_questions(client):
    html = get_ok(client, "/faq")
    blocks = [json.loads(block) for block in parse(html).json_ld]
    faq_page = next(b for b in blocks if b["@type"] == "FAQPage")
    assert [q["name"] for q in faq_page["mainEntity"]] == [q.question for q in faq.FAQ]
    for question in faq.FAQ:
        assert f">{escape(question.question)}</h2>" in html
        assert str(escape(question.answer[0].text)) in html


@pytest.fixture
def custom_clinic():
    return {"CLINIC_PHONE": "+1 970-555-0199", "CLINIC_EMAIL": "test@clinic.example", "CLINIC_STREET": "1 Test Way"}


def test_clinic_details_come_from_settings(sqlite_url, custom_clinic):
    app = build_app(sqlite_url, custom_clinic)
    try:
        html = get_ok(app.test_client(), "/about")
    finally:
        dispose(app)
    for value in custom_clinic.values():
        assert value in html
    assert "970-555-0100" not in html


def test_sitemap_lists_every_public_page_and_nothing_private(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    body = response.get_data(as_text=True)
    locations = re.findall(r"<loc>([^<]+)</loc>", body)
    assert sorted(locations) == sorted(BASE + prefix + p for p in INDEXED_PAGES for prefix in ("", "/es"))
    for location in locations:
        assert client.get(location.removeprefix(BASE), headers={"Accept-Language": "en"}).status_code == 200
    # Each page names its other language (hreflang alternates).
    assert f'hreflang="es" href="{BASE}/es/faq"/>' in body and f'hreflang="en" href="{BASE}/faq"/>' in body


def test_robots_txt_points_to_the_sitemap_and_keeps_private_pages_out(client):
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert f"Sitemap: {BASE}/sitemap.xml" in text
    assert "Disallow: /manage/" in text and "Disallow: /api/" in text


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_no_inline_scripts_or_styles_and_no_third_party_assets(client, path):
    head = parse(get_ok(client, path))
    assert head.style_attributes == 0
    for script in head.scripts:
        assert script.get("src") or script.get("type") == "application/ld+json", script
    for asset in head.assets:
        assert asset.startswith("/static/"), asset


def test_static_assets_have_content_hashed_urls_and_long_cache(client):
    head = parse(get_ok(client, "/"))
    for asset in head.assets:
        assert re.search(r"\?v=[0-9a-f]{12}$", asset), asset
        response = client.get(asset)
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        response.close()


# --- guides and comparison ---------------------------------------------------------------------


@pytest.mark.parametrize("treatment", treatments.TREATMENTS, ids=lambda t: t.slug)
def test_guides_show_every_section(client, treatment):
    html = get_ok(client, f"/treatments/{treatment.slug}")
    for section in treatment.sections:
        assert f">{section.heading}</h2>" in html
    assert "Insurance and cost" in html and "$" in html


def test_comparison_table_has_caption_headers_and_every_attribute(client):
    html = get_ok(client, "/compare/tms-vs-ketamine")
    table = html.split("<table", 1)[1].split("</table>", 1)[0]
    assert "<caption>" in table
    assert re.findall(r'<th scope="col">([^<]*)</th>', table) == ["What it is about", "TMS", "IV ketamine"]
    rows = re.findall(r'<th scope="row">([^<]*)</th>', table)
    assert rows == [a.label for a in treatments.ATTRIBUTES]
    for attribute in treatments.ATTRIBUTES:
        for treatment in (treatments.TMS, treatments.KETAMINE):
            assert str(escape(treatment.comparison[attribute.key].text)) in table
    for heading in (
        "Your medical history",
        "Fitting treatment into your life",
        "What matters most to you",
        "If you have bipolar disorder",
        "Using both together",
        "Other options",
    ):
        assert heading in html
    assert "Electroconvulsive therapy (ECT)" in html
    assert "Our view, as a TMS clinic" in html


def test_reversed_and_unknown_comparisons(client):
    response = client.get("/compare/ketamine-vs-tms")
    assert response.status_code == 301 and response.headers["Location"] == "/compare/tms-vs-ketamine"
    assert client.get("/compare/tms-vs-aspirin").status_code == 404
    assert client.get("/treatments/aspirin").status_code == 404


def test_main_navigation_marks_the_current_page(client):
    html = get_ok(client, "/faq")
    nav = html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/faq" aria-current="page">FAQ</a>' in nav
    assert nav.count("aria-current") == 1


# --- the self-check ------------------------------------------------------------------------------


def answers_form(html: str, **answers) -> dict:
    return {"csrf_token": csrf_token_any(html), **answers}


def csrf_token_any(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_self_check_lists_points_and_stores_nothing(client):
    html = get_ok(client, "/self-check")
    for question in self_check.QUESTIONS:
        assert str(escape(question.text)) in html
    response = client.post("/self-check", data=answers_form(html, seizures="yes", heart="not_sure", preference="fast"))
    assert response.status_code == 200
    result = response.get_data(as_text=True)
    assert "Things to discuss with a clinician" in result
    assert "Your history of seizures" in result and "Whether you have a heart condition" in result
    assert "Wanting relief quickly" in result
    assert "not a diagnosis" in result
    assert 'name="robots" content="noindex"' in result
    with client.session_transaction() as session:
        assert SELF_CHECK_SESSION_KEY not in session


def test_self_check_without_csrf_token_is_refused_and_nothing_is_shown(client):
    response = client.post("/self-check", data={"seizures": "yes"})
    assert response.status_code == 400
    assert "This form expired" in response.get_data(as_text=True)


def test_change_my_answers_keeps_them_filled_in(client):
    html = get_ok(client, "/self-check")
    response = client.post("/self-check?edit=1", data=answers_form(html, bipolar="yes"))
    form = response.get_data(as_text=True)
    assert re.search(r'<input checked id="bipolar-0" name="bipolar" type="radio" value="yes">', form)


def test_attaching_answers_hands_them_to_booking_and_they_reach_the_booking(ctx, client):
    slot = make_slot()
    html = get_ok(client, "/self-check")
    result = client.post("/self-check", data=answers_form(html, seizures="yes", preference="both"))
    attach_form = result.get_data(as_text=True).split('action="/self-check/attach"', 1)[1]
    hidden = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', attach_form.split("</form>", 1)[0])
    )
    assert hidden.keys() == {"csrf_token", "seizures", "preference"}
    response = client.post("/self-check/attach", data=hidden)
    assert response.status_code == 303 and response.headers["Location"] == "/book"
    expected = self_check.for_booking({"seizures": "yes", "preference": "both"})
    assert_no_answers_readable_in_the_session_cookie(client, expected)

    details = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
    assert "Attach my self-check answers" in details
    client.post(f"/book/{slot.public_id}", data=booking_form(details, attach_self_check="y"))
    booking = db.session.execute(select(Booking)).scalar_one()
    assert json.loads(booking.self_check) == expected
    with client.session_transaction() as session:  # booked: the answers have left the session
        assert SELF_CHECK_SESSION_KEY not in session


def assert_no_answers_readable_in_the_session_cookie(client, expected: dict) -> None:
    """Decode the session cookie as anyone holding it can (its signature does not hide it)
    and check that no question, answer or point to discuss is in it."""
    from itsdangerous import URLSafeTimedSerializer

    app = client.application
    serializer = app.session_interface.get_signing_serializer(app)
    assert isinstance(serializer, URLSafeTimedSerializer)
    payload = serializer.loads(client.get_cookie("session").value)
    visible = json.dumps(payload)
    assert SELF_CHECK_SESSION_KEY in payload
    for answer in expected["answers"]:
        assert answer["question"] not in visible and answer["answer"] not in visible
        assert answer["key"] not in visible
    for title in expected["to_discuss"]:
        assert title not in visible


def test_attached_answers_expire_and_resist_tampering():
    expected = self_check.for_booking({"seizures": "yes"})
    sealed = self_check.seal(expected, "key-one", now=1_000_000)
    assert self_check.unseal(sealed, "key-one", ttl_seconds=7200, now=1_000_000 + 7200) == expected
    assert self_check.unseal(sealed, "key-one", ttl_seconds=7200, now=1_000_000 + 7201) is None
    assert self_check.unseal(sealed, "key-two", ttl_seconds=7200, now=1_000_001) is None
    assert self_check.unseal(sealed[:-4] + "AAAA", "key-one", ttl_seconds=7200, now=1_000_001) is None
    assert self_check.unseal(expected, "key-one", ttl_seconds=7200, now=1_000_001) is None


def test_booking_without_attaching_keeps_no_answers(ctx, client):
    slot = make_slot()
    html = get_ok(client, "/self-check")
    client.post("/self-check", data=answers_form(html, seizures="yes"))
    details = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
    assert "Attach my self-check answers" not in details
    client.post(f"/book/{slot.public_id}", data=booking_form(details))
    assert db.session.execute(select(Booking)).scalar_one().self_check is None


def test_attach_without_csrf_or_answers(client):
    assert client.post("/self-check/attach", data={"seizures": "yes"}).status_code == 400
    html = get_ok(client, "/self-check")
    response = client.post("/self-check/attach", data={"csrf_token": csrf_token_any(html)})
    assert response.status_code == 303
    with client.session_transaction() as session:
        assert SELF_CHECK_SESSION_KEY not in session


def test_booking_pages_still_use_the_shared_layout(ctx, client):
    slot = make_slot()
    html = get_ok(client, f"/book/{slot.public_id}")
    csrf_token(html)  # the booking form keeps its own CSRF field
    assert 'data-clinic-tz="America/Denver"' in html and 'class="skip-link"' in html
    assert "local-time.js" in html


def test_icons_and_manifest_are_served(client):
    html = get_ok(client, "/")
    for rel in ('rel="icon" href="/static/img/favicon.svg', 'rel="apple-touch-icon"', 'rel="manifest"'):
        assert rel in html
    manifest = client.get("/site.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    for icon in manifest.get_json()["icons"]:
        assert client.get(icon["src"]).status_code == 200
    assert client.get("/favicon.ico").status_code == 301


# --- the Spanish pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_spanish_pages_have_their_language_crisis_line_language_help_and_alternates(client, path):
    html = get_ok(client, "/es" + path)
    head = parse(html)
    assert '<html lang="es">' in html
    # 988 in Spanish: press 2, or text AYUDA; never the English wording.
    assert 'href="tel:988"' in html and "marque 2" in html and "AYUDA" in html
    assert "call or text" not in html and "not medical advice" not in html
    assert "Ayuda gratuita con el idioma" in html
    assert head.canonical() == BASE + "/es" + path
    assert head.meta["og:url"] == BASE + "/es" + path and head.meta["og:locale"] == "es_US"
    alternates = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html)
    assert alternates == [("en", BASE + path), ("es", BASE + "/es" + path), ("x-default", BASE + path)]
    # The switch, in English, leads back to this same page in English.
    switch = re.search(r'<a class="language-switch" href="([^"]+)" lang="en" hreflang="en">English</a>', html)
    assert switch, path
    back = client.get(switch.group(1).replace("&amp;", "&"))
    assert back.status_code == 303 and back.headers["Location"] == path


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_english_pages_offer_spanish_and_free_language_help(client, path):
    html = get_ok(client, path)
    assert '<html lang="en">' in html and "Free language help" in html
    assert re.search(
        r'<a class="language-switch" href="/language/es\?next=[^"]+" lang="es" hreflang="es">'
        r"Español</a>",
        html,
    )
    assert parse(html).meta["og:locale"] == "en_US"


def test_spanish_guides_and_comparison_state_the_esketamine_ride_home(client):
    for path in ("/treatments/ketamine", "/compare/tms-vs-ketamine"):
        english, spanish = get_ok(client, path), get_ok(client, "/es" + path)
        assert "at least 2 hours" in english and "ride home" in english, path
        assert "por lo menos 2 horas" in spanish and "lleve a casa" in spanish, path


def test_spanish_faq_json_ld_and_error_page(client):
    html = get_ok(client, "/es/faq")
    faq_page = next(b for b in map(json.loads, parse(html).json_ld) if b["@type"] == "FAQPage")
    assert faq_page["mainEntity"][0]["name"] == "¿Qué es la TMS?"
    missing = client.get("/es/treatments/nothing-here")
    assert missing.status_code == 404 and "No encontramos la página" in missing.get_data(as_text=True)


def test_staff_pages_stay_english_and_have_no_switch(client):
    html = client.get("/staff/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in html and "language-switch" not in html


def test_spanish_footer_names_guides_mid_sentence_in_lower_case(client):
    html = client.get("/es/").get_data(as_text=True)
    assert "La guía de terapia con ketamina" in html and "Terapia con ketamina guide" not in html
    assert "Guía de Terapia" not in html
