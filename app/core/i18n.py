"""Languages: English at `/...`, Spanish at `/es/...`.

The `/es` prefix is taken off the path before routing and becomes the script root, so every
`url_for` on a Spanish page links to Spanish pages by itself. A visitor's explicit choice
(the language switch, /language/<code>) is remembered in a cookie and wins; on a first
visit the browser's Accept-Language may lead a public page to its Spanish address. Text
comes from the Babel catalogs in translations/ (domains: site, booking, content)."""

from __future__ import annotations

from flask import Flask, abort, current_app, g, has_request_context, redirect, request
from flask_babel import Babel, get_translations
from werkzeug.wrappers import Response as WerkzeugResponse

from app.core.security import location_of, safe_return_path
from app.models.booking import LOCALE_NAMES, LOCALES

# The languages are the ones a booking can be made in (app.models.booking).
LANGUAGES = LOCALES
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = LOCALE_NAMES
PREFIXES = {"es": "/es"}
COOKIE = "lang"
ENVIRON_KEY = "mindset.language"
# Pages a language applies to: the public site and the patient's booking pages. Staff pages,
# the API, calendar files and static files keep one address.
_UNTRANSLATED = (
    "/staff",
    "/api/",
    "/static/",
    "/calendar/",
    "/dev/",
    "/healthz",
    "/language/",
    "/robots.txt",
    "/favicon.ico",
    "/site.webmanifest",
)
DOMAINS = ("site", "booking", "content")


class LanguagePrefix:
    """WSGI middleware: `/es/book` is served as `/book` with SCRIPT_NAME `/es` and Spanish chosen."""

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for language, prefix in PREFIXES.items():
            if path == prefix or path.startswith(prefix + "/"):
                environ["PATH_INFO"] = path[len(prefix) :] or "/"
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ[ENVIRON_KEY] = language
                break
        return self.app(environ, start_response)


def current_language() -> str:
    """The language of this request's address ('en' or 'es'); English with no request (the
    worker and commands choose a message's language with flask_babel.force_locale)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return request.environ.get(ENVIRON_KEY, DEFAULT_LANGUAGE)


def is_translated_path(path: str) -> bool:
    return not path.startswith(_UNTRANSLATED)


def address_in(language: str, path: str | None = None) -> str:
    """This page's address (path and query, encoded for a Location header) in `language`,
    or `path` (already a safe return path) in `language`."""
    if path is None:
        path = location_of(request.path, request.query_string)
    return PREFIXES.get(language, "") + path


def preferred_language() -> str | None:
    """The visitor's explicit choice, else what the browser asks for first (None: no view)."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) if request.accept_languages else None


def show_in_language_of(locale: str) -> None:
    """A private page about something kept in `locale` (a booking, a course), opened at the
    other language's address (an older email, a forwarded link), moves to its own language's
    address, unless the visitor chose this language themselves (the language switch)."""
    here = current_language()
    if request.method == "GET" and locale != here and locale in LANGUAGES and request.cookies.get(COOKIE) != here:
        abort(redirect(address_in(locale), code=302))


def _follow_preference():
    """GET on an English public page by someone who chose (or asks for) Spanish: go there."""
    if request.method != "GET" or current_language() != DEFAULT_LANGUAGE:
        return None
    if not is_translated_path(request.path):
        return None
    wanted = preferred_language()
    if wanted and wanted != DEFAULT_LANGUAGE:
        response = redirect(address_in(wanted), code=302)
        response.headers["Vary"] = "Cookie, Accept-Language"
        return response
    return None


def _without_prefix(target: str) -> str:
    """`/es/book` -> `/book`, `/es` -> `/`: the same page's address without its language."""
    for prefix in PREFIXES.values():
        rest = target[len(prefix) :]
        if target.startswith(prefix) and (not rest or rest[0] in "/?"):
            return rest if rest.startswith("/") else "/" + rest
    return target


def choose_language(code: str) -> WerkzeugResponse:
    """Remember the visitor's choice and show the page they were on in that language. The
    return address is checked as it will be sent (after its language prefix is taken off):
    anything but a path on this site leads to the home page."""
    language = code if code in LANGUAGES else DEFAULT_LANGUAGE
    target = safe_return_path(_without_prefix(request.args.get("next") or "/")) or "/"
    response = redirect(address_in(language, target), code=303)
    response.set_cookie(
        COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    return response


def babel_state():
    """Flask-Babel's state for this request (its chosen or forced locale), or None before a
    locale is chosen or outside an app context: one look-up through `g`, where each of
    Flask-Babel's own functions makes three, and a page asks a few hundred times."""
    try:
        return g._flask_babel
    except (AttributeError, RuntimeError):
        return None


def catalog():
    """The catalog of the language in force, for templates' `_()` and `{% trans %}`: looked up
    once per language per request and kept beside Flask-Babel's own locale (so `force_locale`,
    which replaces that locale, also gets its own catalog). Flask-Babel's `get_translations()`
    finds the context, the locale and its cache again for every message: 12 µs, about 240
    times on /book."""
    state = babel_state()
    locale = getattr(state, "babel_locale", None)
    kept = getattr(state, "mindset_catalog", None)
    if kept is not None and locale is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    state = g.get("_flask_babel") if g else None
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.mindset_catalog = (state.babel_locale, translations)
    return translations


def register(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    directory = str(app.root_path.rsplit("/", 1)[0] + "/translations")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directory for _ in DOMAINS)
    app.config["BABEL_DOMAIN"] = ";".join(DOMAINS)
    Babel(app, locale_selector=current_language)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text: catalog().ugettext(text),
        ngettext=lambda singular, plural, n: catalog().ungettext(singular, plural, n),
        pgettext=lambda context, text: catalog().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: catalog().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    app.wsgi_app = LanguagePrefix(app.wsgi_app)  # type: ignore[method-assign]  # middleware, as Flask documents
    app.before_request(_follow_preference)
    app.add_url_rule("/language/<code>", "choose_language", choose_language)
