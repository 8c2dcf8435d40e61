"""Public information pages: home, treatment guides, comparisons, FAQ, about, privacy, the
anonymous self-check, and the sitemap and robots.txt that describe them."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import escape
from wtforms import RadioField
from wtforms.validators import Optional

from app.booking.views.book import SELF_CHECK_SESSION_KEY
from app.content import clinic as clinic_content
from app.content import faq, self_check, treatments
from app.core.assets import static_url
from app.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, address_in, current_language
from app.core.templating import hours_shown_as
from app.core.urls import public_url
from app.models import utcnow
from app.schedule.opening_hours import current_summary

bp = Blueprint("public", __name__)

# Pages that are indexable, carry a canonical URL and appear in the sitemap (besides the
# per-treatment and per-pair pages).
STATIC_PAGES = (
    "public.home",
    "public.treatment_list",
    "public.faq",
    "public.self_check",
    "public.about",
    "public.privacy",
    "booking.choose_slot",
)
CANONICAL_ENDPOINTS = {*STATIC_PAGES, "public.treatment", "public.compare"}
# Open Graph's locale for each language the site speaks.
OG_LOCALES = {"en": "en_US", "es": "es_US"}
# Where the opening hours and a form's CSRF token go in a page rendered once (words no page
# has otherwise).
HOURS_MARK = "clinic-opening-hours-go-here"
CSRF_MARK = "visitor-csrf-token-goes-here"


class SelfCheckForm(FlaskForm):
    """Every question is optional: people may skip what they would rather not answer."""


for _question in self_check.QUESTIONS:
    setattr(
        SelfCheckForm,
        _question.key,
        RadioField(_question.text, choices=list(_question.choices), validators=[Optional()]),
    )


def canonical_url() -> str | None:
    """The page's public address in its own language, without query string; None for
    private or one-off pages."""
    if request.endpoint not in CANONICAL_ENDPOINTS:
        return None
    return public_url(address_in(current_language(), request.path))


def alternate_urls() -> list[tuple[str, str]]:
    """(hreflang, absolute URL) for this page in every language, and x-default (English);
    empty where there is no canonical address."""
    if request.endpoint not in CANONICAL_ENDPOINTS:
        return []
    urls = [(language, public_url(address_in(language, request.path))) for language in LANGUAGES]
    return [*urls, ("x-default", public_url(address_in(DEFAULT_LANGUAGE, request.path)))]


def clinic_json_ld() -> dict:
    config = current_app.config
    return {
        "@context": "https://schema.org",
        "@type": "MedicalClinic",
        "@id": public_url("/#clinic"),
        "name": config["CLINIC_NAME"],
        "url": public_url("/"),
        "telephone": config["CLINIC_PHONE"],
        "email": config["CLINIC_EMAIL"],
        "address": {
            "@type": "PostalAddress",
            "streetAddress": config["CLINIC_STREET"],
            "addressLocality": config["CLINIC_CITY"],
            "addressRegion": config["CLINIC_REGION"],
            "postalCode": config["CLINIC_POSTCODE"],
            "addressCountry": "US",
        },
        "medicalSpecialty": "Psychiatric",
        "availableService": {"@type": "MedicalTherapy", "name": str(treatments.TMS.long_name)},
    }


def faq_json_ld() -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": str(q.question), "acceptedAnswer": {"@type": "Answer", "text": q.answer_text}}
            for q in faq.FAQ
        ],
    }


def information_page(template: str, context: Callable[[], dict]) -> str:
    """An information page is made from the facts in code and the settings alone, so it is
    rendered once per process, address and language; only its opening hours come from the
    database, and they are read and put in on every request, as is the visitor's own CSRF
    token in a form. An address with a query string (which the language switch carries
    along) is rendered afresh."""
    if request.query_string:
        return render_template(template, **context())
    pages: dict[str, str] = current_app.extensions.setdefault("information_pages", {})
    key = request.script_root + request.path
    page = pages.get(key)
    if page is None:
        with hours_shown_as(HOURS_MARK):
            page = pages[key] = render_template(template, **context(), csrf_token=lambda: CSRF_MARK)
    if CSRF_MARK in page:
        page = page.replace(CSRF_MARK, generate_csrf())
    return page.replace(HOURS_MARK, str(escape(current_summary())))


@bp.app_context_processor
def _site():
    pairs = treatments.pairs()
    return {
        "canonical_url": canonical_url,
        "alternate_urls": alternate_urls,
        "OG_LOCALES": OG_LOCALES,
        "clinic_json_ld": clinic_json_ld,
        "site_treatments": treatments.all_treatments(),
        "main_comparison": pairs[0] if pairs else None,
    }


@bp.get("/")
def home():
    return information_page(
        "public/home.html",
        lambda: {
            "treatments": treatments.all_treatments(),
            "pairs": treatments.pairs(),
            "offers": clinic_content.OFFERS,
            "consultation": clinic_content.CONSULTATION,
        },
    )


@bp.get("/treatments")
def treatment_list():
    return information_page(
        "public/treatment_list.html",
        lambda: {
            "treatments": treatments.all_treatments(),
            "pairs": treatments.pairs(),
            "other_options": treatments.OTHER_OPTIONS,
        },
    )


@bp.get("/treatments/<slug>")
def treatment(slug: str):
    found = treatments.get(slug)
    if found is None:
        abort(404)
    return information_page(
        "public/treatment.html",
        lambda: {
            "treatment": found,
            "comparisons": [p for p in treatments.pairs() if found in p.treatments],
            "clinic_view": treatments.clinic_view_for({found.slug}),
        },
    )


@bp.get("/compare/<pair_slug>")
def compare(pair_slug: str):
    pair, is_canonical = treatments.find_pair(pair_slug)
    if pair is None:
        abort(404)
    if not is_canonical:
        return redirect(url_for("public.compare", pair_slug=pair.slug), code=301)

    def context() -> dict:
        guides, mentioned = treatments.other_options(pair)
        return {
            "pair": pair,
            "attributes": treatments.ATTRIBUTES,
            "factors": treatments.FACTORS,
            "combined": treatments.combined(pair),
            "other_guides": guides,
            "other_options": mentioned,
            "other_pairs": [p for p in treatments.pairs() if p != pair],
            "clinic_view": treatments.clinic_view_for({pair.first.slug, pair.second.slug}),
        }

    return information_page("public/compare.html", context)


@bp.get("/faq", endpoint="faq")
def faq_page():
    return information_page("public/faq.html", lambda: {"questions": faq.FAQ, "faq_json_ld": faq_json_ld()})


@bp.get("/about")
def about():
    return information_page(
        "public/about.html", lambda: {"offers": clinic_content.OFFERS, "consultation": clinic_content.CONSULTATION}
    )


@bp.get("/privacy")
def privacy():
    return information_page("public/privacy.html", dict)


@bp.route("/self-check", methods=["GET", "POST"], endpoint="self_check")
def self_check_page():
    form = SelfCheckForm()
    if request.method == "POST" and "edit" not in request.args:
        if form.validate_on_submit():
            answers = self_check.clean({q.key: form[q.key].data for q in self_check.QUESTIONS})
            return render_template(
                "public/self_check_result.html",
                form=form,
                answers=answers,
                questions=self_check.QUESTIONS,
                points=self_check.things_to_discuss(answers),
            )
        return render_template("public/self_check.html", form=form, questions=self_check.QUESTIONS), 400
    return information_page("public/self_check.html", lambda: {"form": form, "questions": self_check.QUESTIONS})


@bp.post("/self-check/attach")
def attach_self_check():
    """The patient chose to attach their answers: keep them, encrypted, in their session for
    the booking form (the only place they are kept, until booked or SELF_CHECK_TTL_SECONDS),
    then go to booking."""
    form = SelfCheckForm()
    if not form.validate_on_submit():
        abort(400)
    answers = self_check.clean({q.key: form[q.key].data for q in self_check.QUESTIONS})
    if answers:
        session[SELF_CHECK_SESSION_KEY] = self_check.seal(
            self_check.for_booking(answers), current_app.config["SECRET_KEY"], int(utcnow().timestamp())
        )
    return redirect(url_for("booking.choose_slot"), code=303)


@bp.get("/sitemap.xml")
def sitemap():
    """Every indexable page in every language, each with its alternates (hreflang)."""
    paths = [url_for(endpoint) for endpoint in STATIC_PAGES]
    paths += [url_for("public.treatment", slug=t.slug) for t in treatments.all_treatments()]
    paths += [url_for("public.compare", pair_slug=p.slug) for p in treatments.pairs()]
    # On /es/sitemap.xml url_for already carries the prefix; list each page once, by its path.
    paths = [p.removeprefix(request.script_root) or "/" for p in paths]
    alternates = {p: [(language, public_url(address_in(language, p))) for language in LANGUAGES] for p in paths}
    urls = [(public_url(address_in(language, p)), alternates[p]) for language in LANGUAGES for p in paths]
    body = render_template("public/sitemap.xml", urls=urls)
    return Response(body, mimetype="application/xml")


@bp.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        "Disallow: /manage/",
        "Disallow: /api/",
        "Disallow: /staff/",
        "Disallow: /dev/",
        "Disallow: /self-check/attach",
        "",
        f"Sitemap: {public_url('/sitemap.xml')}",
        "",
    ]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.get("/site.webmanifest")
def web_manifest():
    """Name, colours and icons for 'Add to Home Screen'."""
    name = current_app.config["CLINIC_NAME"]
    manifest = {
        "name": name,
        "short_name": name,
        "start_url": "/",
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#0b5566",
        "icons": [
            {"src": static_url("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static_url("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static_url("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = Response(json.dumps(manifest), mimetype="application/manifest+json")
    response.cache_control.max_age = 86400
    return response


@bp.get("/favicon.ico")
def favicon():
    """Browsers and tools that ask for /favicon.ico without reading the page get the PNG."""
    return redirect(static_url("img/favicon-32.png"), code=301)
