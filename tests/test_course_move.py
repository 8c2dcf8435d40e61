"""The patient asks to move one visit from the course page: free times on any chair within the
notice rule, the course service's move in its own transaction, the update email with the page
link, and a clear refusal (nothing changed) for a time that is not free."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.core.database import write_transaction
from app.core.tokens import hash_token
from app.courses import service
from app.mail import rendering
from app.models import AvailabilityRule
from app.models.schedule import CourseSession, CourseTemplate
from app.schedule.seed import seed_schedule
from tests.conftest import csrf_token
from tests.fixtures_courses import DENVER
from tests.fixtures_mail import outbox_rows


@pytest.fixture
def app(any_app):
    return any_app


def next_monday(after_days: int) -> date:
    day = datetime.now(DENVER).date() + timedelta(days=after_days)
    return day + timedelta(days=(7 - day.weekday()) % 7)


@pytest.fixture
def planned(ctx):
    """A standard course planned by the course service, starting on a Monday 10+ days ahead."""
    with write_transaction() as session:
        seed_schedule(session)
        for weekday in range(5):
            session.add(AvailabilityRule(weekday=weekday, start_time=time(8), end_time=time(17), slot_minutes=30))
    template = (
        ctx.extensions["sqlalchemy"]
        .session.execute(select(CourseTemplate).where(CourseTemplate.key == "rtms_36"))
        .scalar_one()
    )
    course = service.plan_course(
        service.PatientDetails(name="Ada Lovelace", email="ada@example.com"),
        service.PlanRequest(template_id=template.id, start=next_monday(10), preferred_time=time(9)),
    )
    return course.public_id, emailed_page_token()


def emailed_page_token() -> str:
    """The course page token as the patient has it: from the link in the planned email."""
    page_url = json.loads(outbox_rows("course_planned")[-1].event)["page_url"]
    return page_url.rsplit("/course/", 1)[1]


def sessions(public_id: str) -> dict[int, CourseSession]:
    course = service.find_course(public_id)
    return {s.number: s for s in course.sessions}


def test_planning_queues_one_email_with_the_page_link(ctx, planned):
    public_id, token = planned
    [row] = outbox_rows()
    assert row.kind == "course_planned"
    event = json.loads(row.event)
    # The emailed link names this course: its token is the one whose hash the course keeps.
    assert service.find_course(public_id).page_token_hash == hash_token(token)
    assert len(event["sessions"]) == 36
    rendered = rendering.render_event(row.kind, event, datetime.now(UTC))
    assert rendered.ics_method == "PUBLISH" and rendered.ics.count("BEGIN:VEVENT") == 36


def test_the_patient_moves_a_visit_to_a_free_time(ctx, client, planned):
    public_id, token = planned
    page = client.get(f"/course/{token}").get_data(as_text=True)
    assert f"/course/{token}/move/1" in page
    chooser = client.get(f"/course/{token}/move/1")
    assert chooser.status_code == 200
    html = chooser.get_data(as_text=True)
    starts = re.findall(r'name="start" value="([^"]+)"', html)
    assert starts, "free times are offered before the course starts"
    before = sessions(public_id)[1].starts_at
    day = re.search(r'<option value="([^"]+)" selected', html).group(1)
    moved = client.post(f"/course/{token}/move/1?day={day}", data={"csrf_token": csrf_token(html), "start": starts[2]})
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"/course/{token}?done=moved")
    after = sessions(public_id)[1]
    assert after.starts_at == datetime.fromisoformat(starts[2]).astimezone(UTC) != before
    assert after.ical_sequence == 1
    change = outbox_rows("course_changed")[-1]
    event = json.loads(change.event)
    assert event["page_url"].endswith(f"/course/{token}")
    rendered = rendering.render_event(change.kind, event, datetime.now(UTC))
    assert rendered.ics_method == "REQUEST" and "SEQUENCE:1" in rendered.ics
    assert "Your visit has been moved" in client.get(f"/course/{token}?done=moved").get_data(as_text=True)


def test_a_time_that_is_not_free_is_refused_and_nothing_changes(ctx, client, planned):
    public_id, token = planned
    html = client.get(f"/course/{token}/move/2").get_data(as_text=True)
    # Visit 1's own time, on its own day: that day already has a visit.
    taken = sessions(public_id)[1].starts_at.isoformat()
    before = sessions(public_id)[2].starts_at
    answer = client.post(f"/course/{token}/move/2", data={"csrf_token": csrf_token(html), "start": taken})
    assert answer.status_code == 409
    assert "That time is no longer free" in answer.get_data(as_text=True)
    assert sessions(public_id)[2].starts_at == before and outbox_rows("course_changed") == []
    for bad in ("", "tomorrow", "2027-13-01T09:00"):
        answer = client.post(f"/course/{token}/move/2", data={"csrf_token": csrf_token(html), "start": bad})
        assert answer.status_code == 422 and "Please choose one of the times shown." in answer.get_data(as_text=True)
    assert client.post(f"/course/{token}/move/2", data={"start": taken}).status_code == 400  # no CSRF token


def test_a_visit_inside_the_notice_period_cannot_be_moved_online(ctx, client, planned):
    public_id, token = planned
    with write_transaction() as session:
        first = session.execute(select(CourseSession).where(CourseSession.number == 1)).scalar_one()
        soon = datetime.now(UTC) + timedelta(hours=3)
        first.starts_at, first.ends_at = soon, soon + (first.ends_at - first.starts_at)
    page = client.get(f"/course/{token}").get_data(as_text=True)
    assert f"/course/{token}/move/1" not in page and f"/course/{token}/move/2" in page
    assert client.get(f"/course/{token}/move/1").status_code == 302
    assert client.get(f"/course/{token}/move/99").status_code == 404
