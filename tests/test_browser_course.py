"""The course page in chromium, in English and Spanish: it fits a 360 px phone and a wide
screen, and a visit can be moved with JavaScript off (a plain form and buttons).
(SCREENSHOT_DIR=... keeps a screenshot of each page looked at.)"""

from __future__ import annotations

from datetime import time

import pytest

from app.core.database import write_transaction
from app.courses import service
from app.models import AvailabilityRule
from app.models.schedule import CourseTemplate
from tests.test_accessibility import ROOT, VNU_JAR, assert_no_axe_violations, vnu_missing
from tests.test_browser_booking import shot
from tests.test_course_move import emailed_page_token, next_monday

pytestmark = pytest.mark.browser


@pytest.fixture
def course_token(app, request):
    """A standard course planned by the service ten or more days ahead (in the language of
    the test's `prefix`); its page token."""
    from sqlalchemy import select

    from app.core.extensions import db
    from app.schedule.seed import seed_schedule

    with app.app_context():
        with write_transaction() as session:
            seed_schedule(session)
            for weekday in range(5):
                session.add(AvailabilityRule(weekday=weekday, start_time=time(8), end_time=time(17), slot_minutes=30))
        template = db.session.execute(select(CourseTemplate).where(CourseTemplate.key == "rtms_36")).scalar_one()
        locale = "es" if getattr(request, "param", "") == "/es" else "en"
        service.plan_course(
            service.PatientDetails(name="Ada Lovelace", email="ada@example.com", locale=locale),
            service.PlanRequest(template_id=template.id, start=next_monday(10), preferred_time=time(9)),
        )
        return emailed_page_token()


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize(("prefix", "course_token"), [("", ""), ("/es", "/es")], indirect=["course_token"])
def test_the_course_page_fits_a_phone_and_a_wide_screen(live_server, page, phone_page, course_token, prefix):
    for name, tab in (("1280", page), ("360", phone_page)):
        tab.goto(f"{live_server.url}{prefix}/course/{course_token}")
        assert tab.locator("h1").inner_text() == ("Sus visitas" if prefix else "Your visits")
        assert overflow(tab) <= 0, name
        assert tab.locator(".card").count() == 3
        shot(tab, f"course{prefix.replace('/', '-')}-{name}")
        assert_no_axe_violations(tab, f"the course page at {name} px")
        with tab.expect_navigation():
            tab.locator(".card a.button").first.click()
        assert overflow(tab) <= 0, name
        assert tab.locator("button.slot").count() > 0
        shot(tab, f"course-move{prefix.replace('/', '-')}-{name}")
        assert_no_axe_violations(tab, f"the move page at {name} px")


def test_a_visit_moves_with_javascript_off(live_server, browser, course_token):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    tab = context.new_page()
    try:
        tab.goto(f"{live_server.url}/course/{course_token}")
        tab.get_by_role("link", name="Ask to move this visit").first.click()
        # Another day from the list, then its first free time.
        options = tab.locator("#day option")
        tab.select_option("#day", options.nth(1).get_attribute("value"))
        tab.get_by_role("button", name="Show free times").click()
        tab.locator("button.slot").first.click()
        assert "done=moved" in tab.url
        assert "Your visit has been moved" in tab.locator(".notice-success").inner_text()
        shot(tab, "course-moved-nojs-360")
    finally:
        context.close()


def test_course_pages_are_valid_html(app, course_token, tmp_path):
    import json
    import subprocess

    reason = vnu_missing()
    if reason:
        pytest.skip(reason)
    client = app.test_client()
    pages = {
        name: client.get(path).get_data(as_text=True)
        for name, path in (("page", f"/course/{course_token}"), ("move", f"/course/{course_token}/move/1"))
    }
    files = []
    for name, html in pages.items():
        assert "<h1>" in html, name
        (tmp_path / f"{name}.html").write_text(html)
        files.append(str(tmp_path / f"{name}.html"))
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU_JAR),
            "--errors-only",
            "--also-check-css",
            "--format",
            "json",
            *files,
            str(ROOT / "static" / "css" / "site.css"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"] == []
