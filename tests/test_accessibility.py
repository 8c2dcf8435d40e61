"""WCAG 2.2 AA checks: axe-core in headless chromium on every public page (and the booking
pages) at desktop and phone widths, the booking flow by keyboard alone, and the Nu HTML
checker over every page, run once for the whole session."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import (
    ROOT,
    LiveServer,
    build_app,
    dispose,
    make_booking,
    make_slot,
    tab_to,
)

VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
INFO_PAGES = [
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
# The same information pages in Spanish, and a Spanish error page.
ES_INFO_PAGES = ["/es" + path for path in INFO_PAGES] + ["/es/no-such-page"]
# Pages that need data: filled in from the site fixture (slot ids, manage token).
DATA_PAGES = [
    "/book",
    "book_day_by_phone",
    "book_nothing_fits",
    "book_form",
    "confirmed",
    "manage",
    "cancel",
    "reschedule",
    "not_found",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}


class Site:
    """One app and database for the module, with free slots (their public ids) and a booking."""

    def __init__(self, app, url, slots, token):
        self.app = app
        self.url = url
        self.slots = slots
        self.token = token

    def path(self, name: str) -> str:
        return {
            "book_form": f"/book/{self.slots[0]}",
            "book_day_by_phone": "/book?day=nonsense&mode=phone",
            "book_nothing_fits": "/book?mode=in_person",
            "cancel": f"/manage/{self.token}/cancel",
            "reschedule": f"/manage/{self.token}/reschedule",
            "confirmed": f"/manage/{self.token}/confirmed",
            "manage": f"/manage/{self.token}",
            "not_found": "/no-such-page",
        }.get(name, name)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('a11y') / 'site.db'}"
    app = build_app(url)
    with app.app_context():
        # No in-person times at all, so /book?mode=in_person shows "nothing fits".
        slots = [make_slot(modes="phone,video") for _ in range(4)]
        token = make_booking(slots[-1]).manage_token
        slots = [slot.public_id for slot in slots]
    yield Site(app, url, slots, token)
    dispose(app)


# --- Nu HTML checker ---------------------------------------------------------------------------


def vnu_missing() -> str | None:
    if not shutil.which("java"):
        return "java is not installed (the Nu HTML checker needs it)"
    if not VNU_JAR.exists():
        return f"{VNU_JAR} missing: run `npm install` in {ROOT}"
    return None


@pytest.fixture(scope="module")
def vnu_results(site, tmp_path_factory):
    """Fetch every page (and the self-check results and a failed booking form), run the
    checker ONCE over all of them, and return its messages per page."""
    reason = vnu_missing()
    if reason:
        pytest.skip(reason)
    client = site.app.test_client()
    pages: dict[str, str] = {}
    for name in INFO_PAGES + ES_INFO_PAGES + DATA_PAGES:
        pages[name] = client.get(site.path(name)).get_data(as_text=True)
    token = _csrf(pages["/self-check"])
    pages["self-check results"] = client.post(
        "/self-check", data={"csrf_token": token, "seizures": "yes", "preference": "fast"}
    ).get_data(as_text=True)
    pages["self-check expired"] = client.post("/self-check", data={}).get_data(as_text=True)
    pages["/es self-check results"] = client.post(
        "/es/self-check", data={"csrf_token": token, "seizures": "not_sure", "preference": "both"}
    ).get_data(as_text=True)
    pages["book_form with errors"] = client.post(
        site.path("book_form"), data={"csrf_token": _csrf(pages["book_form"])}
    ).get_data(as_text=True)
    pages["cancel with errors"] = client.post(
        site.path("cancel"), data={"csrf_token": _csrf(pages["cancel"]), "reason": "x" * 501}
    ).get_data(as_text=True)
    directory = tmp_path_factory.mktemp("vnu")
    files = {}
    for number, (name, html) in enumerate(pages.items()):
        path = directory / f"page{number}.html"
        path.write_text(html)
        files[str(path)] = name
    css = ROOT / "static" / "css" / "site.css"
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--also-check-css", "--format", "json", *files, str(css)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    by_page: dict[str, list[dict]] = {name: [] for name in pages}
    by_page["site.css"] = []
    for message in messages:
        url = message.get("url", "").removeprefix("file:")
        by_page[files.get(url, "site.css" if url.endswith("site.css") else url)].append(message)
    return by_page


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', html)
    assert match, "no CSRF token"
    return match.group(1)


VNU_PAGES = (
    INFO_PAGES
    + ES_INFO_PAGES
    + DATA_PAGES
    + [
        "self-check results",
        "/es self-check results",
        "self-check expired",
        "book_form with errors",
        "cancel with errors",
        "site.css",
    ]
)


@pytest.mark.parametrize("name", VNU_PAGES)
def test_html_is_valid(vnu_results, name):
    errors = vnu_results[name]
    readable = "\n".join(
        f"  line {m.get('lastLine')}: {m.get('message')} [{m.get('extract', '').strip()[:120]}]" for m in errors
    )
    assert not errors, f"Nu HTML checker errors in {name}:\n{readable}"


# --- axe-core in chromium ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(site):
    live = LiveServer(site.url).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def chromium(browser):
    """The session's browser (tests/conftest.py), under this module's name."""
    return browser


@pytest.fixture(params=list(VIEWPORTS))
def tab(request, chromium):
    context = chromium.new_context(
        viewport=VIEWPORTS[request.param], timezone_id="America/New_York", is_mobile=request.param == "phone"
    )
    page = context.new_page()
    yield page
    context.close()


def assert_no_axe_violations(page, what: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    if results.violations_count:
        details = []
        for violation in results.response["violations"]:
            targets = "; ".join(" ".join(n["target"]) for n in violation["nodes"])
            details.append(f"  {violation['id']} ({violation['impact']}): {targets}")
        pytest.fail(
            f"axe violations on {what} ({page.url}):\n" + "\n".join(details) + "\n\n" + results.generate_report()
        )


@pytest.mark.browser
@pytest.mark.parametrize("name", INFO_PAGES + ES_INFO_PAGES + DATA_PAGES)
def test_axe_finds_no_violations(site, server, tab, name):
    tab.goto(server.url + site.path(name))
    assert_no_axe_violations(tab, name)


@pytest.mark.browser
def test_axe_on_self_check_results_and_booking_with_answers(site, server, tab):
    tab.goto(server.url + "/self-check")
    tab.check("#seizures-0")
    tab.check("#preference-1")
    tab.get_by_role("button", name="See things to discuss").click()
    tab.wait_for_url("**/self-check")
    assert_no_axe_violations(tab, "self-check results")
    tab.get_by_role("button", name="Book a consultation and attach these answers").click()
    tab.wait_for_url("**/book")
    tab.goto(server.url + site.path("book_form"))
    assert tab.get_by_label("Attach my self-check answers for the clinician").count() == 1
    assert_no_axe_violations(tab, "booking form with the self-check checkbox")
    tab.get_by_role("button", name="Book this consultation").click()
    tab.wait_for_selector(".error-summary")
    assert_no_axe_violations(tab, "booking form with errors")


# --- keyboard only ---------------------------------------------------------------------------------


def focus_is_visible(page) -> bool:
    return page.evaluate("""(() => {
        const s = getComputedStyle(document.activeElement);
        return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    })()""")


@pytest.mark.browser
def test_booking_by_keyboard_alone_from_the_home_page(site, server, chromium):
    context = chromium.new_context(viewport=VIEWPORTS["desktop"], timezone_id="America/Denver")
    page = context.new_page()
    try:
        page.goto(server.url + "/")
        tab_to(page, "el.textContent.trim() === 'Book a free consultation'")
        assert focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url("**/book")
        slot_id = site.slots[1]
        tab_to(page, f"el.getAttribute('href') === '/book/{slot_id}'")
        assert focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/book/{slot_id}")

        tab_to(page, "el.name === 'mode'")
        page.keyboard.press("Space")  # first meeting mode
        tab_to(page, "el.name === 'name'")
        page.keyboard.type("Grace Hopper")
        page.keyboard.press("Tab")
        page.keyboard.type("grace@example.com")
        page.keyboard.press("Tab")
        page.keyboard.type("970-555-0142")
        tab_to(page, "el.name === 'interest'")
        page.keyboard.press("Space")
        tab_to(page, "el.name === 'consent'")
        assert focus_is_visible(page)
        page.keyboard.press("Space")
        tab_to(page, "el.type === 'submit'")
        assert focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url("**/confirmed")
        assert "You're booked" in page.content()
    finally:
        context.close()
