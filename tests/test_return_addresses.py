"""Return addresses (`next`) never lead off the site: the known open-redirect bypass forms
(the OWASP unvalidated-redirects cheat sheet and its usual variants), sent through every
route that takes one, land on a path of this site or the page's own home."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from app.core.security import safe_return_path
from tests.fixtures_staff import STAFF_PASSWORD, make_staff, page_csrf

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "sam@mindset-tms.example"

# Each written as it arrives in the `next` parameter (after the query string is decoded).
BYPASSES = (
    "https://evil.example",
    "http://evil.example/",
    "//evil.example",
    "///evil.example",
    "////evil.example",
    "//evil.example/%2F..",
    "/\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http:/\\/\\evil.example",
    "//evil.example@clinic.example",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%252F%252Fevil.example",
    "/%25252F%25252Fevil.example",
    "%2F%2Fevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "\t//evil.example",
    "/%0D%0A/evil.example",
    "/%0A/evil.example",
    "/\u00a0/evil.example",
    "/\u2028/evil.example",
    "/\u200b/evil.example",
    "javascript:alert(1)",
    "JavaScript://%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil%E3%80%82example",
    "//\u3002evil.example",
    "//evil.example/..",
    "evil.example",
    "@evil.example",
    ".evil.example",
)
# The Spanish forms: the switch takes the language prefix off before the target leaves.
SPANISH = tuple(f"/es{target}" for target in BYPASSES if target.startswith("/"))


def stays_on_site(location: str) -> bool:
    """Whether a browser on https://clinic.example would stay there: backslashes read as
    slashes and tabs and newlines dropped, as the URL standard has it."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in location):
        return False
    seen = location.replace("\\", "/")
    parts = urlsplit(urljoin("https://clinic.example/page/here", seen))
    return parts.scheme == "https" and parts.netloc == "clinic.example" and location.startswith("/")


@pytest.mark.parametrize("target", BYPASSES)
def test_the_rule_refuses_every_bypass_form(target):
    assert safe_return_path(target) is None


def test_the_rule_keeps_a_path_with_its_query():
    assert safe_return_path("/book?day=2026-12-03&mode=phone") == "/book?day=2026-12-03&mode=phone"
    assert safe_return_path("/es/faq") == "/es/faq"


def test_the_language_switch_lands_on_the_site_for_every_bypass(client):
    for code, home in (("en", "/"), ("es", "/es/")):
        for target in BYPASSES + SPANISH:
            response = client.get(f"/language/{code}", query_string={"next": target})
            assert response.status_code in (303, 400), (code, target)
            if response.status_code == 303:
                location = response.headers["Location"]
                assert stays_on_site(location), (code, target, location)
                assert location == home, (code, target, location)


def test_the_reported_switch_redirects_go_home(client):
    assert client.get("/language/en?next=/es//evil.example/login").headers["Location"] == "/"
    assert client.get("/language/en?next=/es/%09/evil.example").headers["Location"] == "/"
    assert client.get("/language/es?next=/es//evil.example").headers["Location"] == "/es/"
    assert client.get("/language/en?next=/es/book").headers["Location"] == "/book"
    assert client.get("/language/en?next=/es").headers["Location"] == "/"


def test_the_staff_sign_in_never_returns_to_another_site(app):
    with app.app_context():
        make_staff(EMAIL)
    for target in BYPASSES + tuple(f"/staff{t}" for t in BYPASSES if t.startswith("/")):
        client = app.test_client()
        page = client.get("/staff/sign-in", query_string={"next": target})
        if page.status_code == 400:
            continue
        kept = re.search(r'name="next" type="hidden" value="([^"]*)"', page.get_data(as_text=True))
        assert kept is not None and (kept.group(1) == "" or stays_on_site(kept.group(1))), target
        response = client.post(
            "/staff/sign-in",
            data={"email": EMAIL, "password": STAFF_PASSWORD, "csrf_token": page_csrf(client), "next": target},
        )
        assert response.status_code in (303, 400), target
        if response.status_code == 303:
            location = response.headers["Location"]
            assert stays_on_site(location) and location.startswith("/staff/"), (target, location)
            if not target.startswith("/staff/"):
                assert location == "/staff/", (target, location)


def test_every_view_reading_a_return_address_uses_the_one_rule():
    """A new route that reads `next` must go through safe_return_path (directly or through
    the staff console's safe_next, which calls it)."""
    readers = [
        path
        for path in (ROOT / "app").rglob("*.py")
        if re.search(r"""args\.get\(["']next["']\)|\.next\.data""", path.read_text())
    ]
    assert readers, "no view reads a return address: update this test"
    for path in readers:
        text = path.read_text()
        assert "safe_return_path(" in text or "safe_next(" in text, path
