"""The patient's course page: the same token rules as manage links, visits done and left, the
next ones with where and when, what to bring, the clinic's phone, in English and Spanish."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import select

from app.core.database import write_transaction
from app.models.schedule import SESSION_ATTENDED, SESSION_MISSED, CourseSession
from tests.conftest import local_dt
from tests.fixtures_courses import cancel, make_course


@pytest.fixture
def app(any_app):
    return any_app


def starts(days_ago: int, count: int):
    from tests.conftest import future_day

    first = future_day(-days_ago)
    return [local_dt(first + timedelta(days=n), 9) for n in range(count)]


def mark(course_id: int, statuses: dict[int, str]) -> None:
    with write_transaction() as session:
        for s in session.execute(select(CourseSession).where(CourseSession.course_id == course_id)).scalars():
            if s.number in statuses:
                s.status = statuses[s.number]


def test_the_page_shows_progress_next_visits_bring_and_phone(ctx, client):
    course = make_course(starts(3, 10), notify=False)
    mark(course.id, {1: SESSION_ATTENDED, 2: SESSION_ATTENDED, 3: SESSION_MISSED})
    cancel(course.id, [10])
    response = client.get(f"/course/{course.token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in html
    assert "2 of 9" in html  # done, of the nine visits left after one was cancelled
    assert "Your next visits" in html and html.count('class="card"') == 3
    assert "Chair 1" in html and ctx.config["CLINIC_STREET"] in html
    assert "earplugs" in html and "metal implant" in html
    assert f'href="tel:{ctx.config["CLINIC_PHONE"].replace(" ", "")}"' in html
    assert html.count("<time") >= 9 + 3


def test_unknown_or_malformed_tokens_are_404(ctx, client):
    make_course(starts(0, 2), notify=False)
    for token in ("x" * 32, "short", "a" * 80):
        assert client.get(f"/course/{token}").status_code == 404
        assert client.get(f"/course/{token}/appointments.ics").status_code == 404


def test_spanish_page_and_language_redirect(ctx, client):
    course = make_course(starts(0, 3), locale="es", notify=False)
    english = client.get(f"/course/{course.token}")
    assert english.status_code == 302 and english.headers["Location"].endswith(f"/es/course/{course.token}")
    html = client.get(f"/es/course/{course.token}").get_data(as_text=True)
    assert "Sus visitas" in html and 'lang="es"' in html


def test_the_calendar_file_has_every_visit_with_the_emailed_uids(ctx, client):
    course = make_course(starts(0, 5), notify=False)
    cancel(course.id, [2])
    response = client.get(f"/course/{course.token}/appointments.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.get_data())
    assert str(calendar["METHOD"]) == "PUBLISH"
    with write_transaction() as session:
        live = {s.ical_uid for s in session.execute(select(CourseSession)).scalars() if s.number != 2}
    assert {str(e["UID"]) for e in calendar.walk("VEVENT")} == live


def test_visits_past_the_insurers_approval_are_marked(ctx, client):
    from app.models.schedule import Course

    course = make_course(starts(0, 6), notify=False)
    with write_transaction() as session:
        row = session.get(Course, course.id)
        row.authorised_sessions = 4
    html = client.get(f"/course/{course.token}").get_data(as_text=True)
    assert html.count("(not yet approved by your insurer)") == 2
