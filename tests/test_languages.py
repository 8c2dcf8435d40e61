"""Languages: Spanish pages at /es/..., the switch that keeps the visitor on the same page,
an explicit choice remembered in a cookie, and Accept-Language on a first visit."""

from __future__ import annotations

from flask import url_for

from app.core.i18n import current_language


def test_a_spanish_address_serves_the_page_and_its_links_stay_spanish(app_settings, sqlite_url):
    from tests.conftest import build_app

    app = build_app(sqlite_url)

    @app.get("/_probe")
    def probe():
        return {"language": current_language(), "book": url_for("booking.choose_slot")}

    client = app.test_client()
    assert client.get("/es/_probe").get_json() == {"language": "es", "book": "/es/book"}
    assert client.get("/_probe").get_json() == {"language": "en", "book": "/book"}
    page = client.get("/es/book")
    assert page.status_code == 200
    assert 'href="/es/' in page.get_data(as_text=True)


def test_the_switch_remembers_the_choice_and_keeps_the_page(client):
    response = client.get("/language/es?next=/book%3Fday%3D2026-12-03%26mode%3Dphone")
    assert response.status_code == 303
    assert response.headers["Location"] == "/es/book?day=2026-12-03&mode=phone"
    assert "lang=es" in response.headers["Set-Cookie"]
    # The choice wins over the address: an English link now leads to the Spanish page...
    assert client.get("/book").headers["Location"] == "/es/book"
    # ...until the visitor chooses English again.
    back = client.get("/language/en?next=/es/book")
    assert back.headers["Location"] == "/book"
    assert client.get("/book", headers={"Accept-Language": "es"}).status_code == 200


def test_a_first_visit_follows_accept_language_on_public_pages_only(client):
    assert client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9"}).headers["Location"] == "/es/"
    assert client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).status_code == 200
    for path in ("/api/v1/openapi.json", "/staff/sign-in", "/healthz"):
        assert client.get(path, headers={"Accept-Language": "es"}).status_code in (200, 503), path


def test_the_switch_never_leaves_the_site(client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get("/language/es", query_string={"next": target})
        assert response.headers["Location"] == "/es/"


def test_template_gettext_escapes_where_the_page_escapes_and_translates_in_blocks_and_loops(app):
    """Templates' `_()`, `{% trans %}` and their plural forms: a message's own markup is kept,
    its variables are escaped in HTML and left alone in plain text (emails), and Spanish
    comes out inside loops and imported macros as well as at the top level."""
    source = (
        "{% macro m(n) %}{{ ngettext('free time', 'free times', n) }}{% endmacro %}"
        "{{ _('About & contact') }}|{% trans name=who %}Hello {{ name }}{% endtrans %}|"
        "{% for n in (1, 2) %}{% set k = n %}{{ ngettext('free time', 'free times', k) }}/{{ m(k) }};{% endfor %}"
    )
    env = app.jinja_env

    def render(escaping: str, language: str) -> str:
        template = env.from_string(f"{{% autoescape {escaping} %}}{source}{{% endautoescape %}}")
        with app.test_request_context("/", environ_base={"mindset.language": language}):
            return template.render(who="O'Brien <b>")

    plurals = "free time/free time;free times/free times;"
    assert render("true", "en") == "About & contact|Hello O&#39;Brien &lt;b&gt;|" + plurals
    assert render("false", "en") == "About & contact|Hello O'Brien <b>|" + plurals
    assert render("true", "es") == "Contacto|Hello O&#39;Brien &lt;b&gt;|horario/horario;horarios/horarios;"
