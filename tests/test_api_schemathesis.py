"""The API against its own OpenAPI document, as an outside client sees it: the schemathesis CLI
with every check but positive-data acceptance (the rules that depend on today or the database
answer documented 409/422s), all phases including the stateful one through the document's
links, against gunicorn on SQLite and PostgreSQL. Any finding fails the test."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from datetime import time, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app.api.schema import openapi_document
from app.booking import service
from app.core.actors import THE_PATIENT
from app.core.database import write_transaction
from app.core.extensions import db
from app.courses import service as courses
from app.models import AvailabilityRule, CourseTemplate
from app.staff import api_tokens
from app.waitlist.offering import offer_freed_slots
from tests.conftest import ROOT, LiveServer, build_app, dispose, future_day, make_booking, make_slot
from tests.fixtures_staff import make_staff
from tests.test_waitlist import offer_tokens

# niquests brings urllib3-future, which takes urllib3's place; its connection pools have no
# keys() for the CLI's count of open connections (used only to resend a request the server
# dropped unanswered), so that count is read as none.
CLI = (
    "import sys, schemathesis.transport.requests as transport; "
    "transport._count_opened_connections = lambda session: 0; "
    "from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
)


def _seed() -> tuple[str, str, str, str]:
    """Free slots in /slots' default fortnight, a booking, and an offer out; the booking's
    manage token and the offer's token (which only their emails carry), for the operations on
    them: the stateful phase reaches them through links only when its random walk books first.
    Weekday opening hours, a course on them and a staff API token, for the staff operations."""
    for _ in range(150):  # more than the fuzzer books
        make_slot()
    with write_transaction() as session:
        for weekday in range(5):
            session.add(AvailabilityRule(weekday=weekday, start_time=time(8), end_time=time(18)))
    token = api_tokens.create(make_staff("desk@mindset-tms.example").id).token
    template = db.session.execute(select(CourseTemplate.id).where(CourseTemplate.key == "rtms_36")).scalar_one()
    course = courses.plan_course(
        courses.PatientDetails("Ana Díaz", "ana@example.com", "+19705550123"),
        courses.PlanRequest(template, future_day(1), time(9)),
    ).public_id
    held = make_booking(email="held@example.com").manage_token
    today = future_day(0)
    freed = make_booking(email="owner@example.com")
    joining = {
        "name": "Ana Díaz",
        "email": "ana@example.com",
        "phone": "970-555-0123",
        "consent": True,
        "earliest": today.isoformat(),
        "latest": (today + timedelta(days=20)).isoformat(),
    }
    assert current_app.test_client().post("/api/v1/waitlist", json=joining).status_code == 201
    service.cancel(freed.booking.public_id, actor=THE_PATIENT)
    assert offer_freed_slots().offered == 1
    return offer_tokens("ana@example.com")[0], token, course, held


def _answered(har_path) -> dict[tuple[str, str], Counter]:
    """The statuses answered, by operation (method and documented path), from the run's HAR."""
    paths = [
        (re.compile("^/api/v1" + re.sub(r"\{\w+\}", "[^/]+", path) + "$"), path) for path in openapi_document()["paths"]
    ]
    answered: dict[tuple[str, str], Counter] = {}
    for entry in json.loads(har_path.read_text())["log"]["entries"]:
        url_path = urlsplit(entry["request"]["url"]).path
        for pattern, path in paths:
            if pattern.match(url_path):
                key = (entry["request"]["method"], path)
                answered.setdefault(key, Counter())[entry["response"]["status"]] += 1
    return answered


def test_schemathesis_finds_no_fault_and_reaches_every_operation(database_url, tmp_path):
    app = build_app(database_url)
    with app.app_context():
        offer_token, staff_token, course_id, manage_token = _seed()
    dispose(app)
    config = tmp_path / "schemathesis.toml"
    # Whether a phone number can be dialled depends on the numbering plans (app.booking.validation,
    # 422 when not), which no schema states: the fuzzer is given one that can, so the bookings
    # and entries it makes lead it on through the links.
    config.write_text(
        "[phases.stateful.generation]\nmax-examples = 100\n\n"
        '[[operations]]\ninclude-operation-id = ["claimOffer", "declineOffer"]\n'
        f'parameters = {{ token = "{offer_token}" }}\n\n'
        '[[operations]]\ninclude-operation-id = ["showBooking", "cancelBooking", "rescheduleBooking"]\n'
        f'parameters = {{ token = "{manage_token}" }}\n\n'
        '[[operations]]\ninclude-operation-id = ["showCourse", "moveCourseSession", "recordAttendance"]\n'
        f'parameters = {{ course_id = "{course_id}" }}\n\n'
        '[[operations]]\ninclude-operation-id = ["createBooking", "joinWaitlist"]\n'
        'parameters = { "body.phone" = "970-555-0123" }\n'
    )
    har = tmp_path / "run.har"
    # One address may hold many bookings here, so the example body the fuzzer sends again and
    # again keeps booking (the limit itself is tested in test_booking_service).
    server = LiveServer(database_url, env={"BOOKING_MAX_ACTIVE_PER_EMAIL": "100000"}).start()
    try:
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                CLI,
                "--config-file",
                str(config),
                "run",
                f"{server.url}/api/v1/openapi.json",
                "--checks",
                "all",
                "--header",
                f"Authorization: Bearer {staff_token}",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "25",
                "--no-color",
                "--report",
                "har",
                "--report-har-path",
                str(har),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.stop()
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "No links point" not in report, report
    answered = _answered(har)
    print(re.search(r"\d+ generated.*", report).group(0))
    for (method, path), statuses in sorted(answered.items(), key=lambda item: item[0][1]):
        print(method, path, dict(sorted(statuses.items())))
    documented = {(method.upper(), path) for path, methods in openapi_document()["paths"].items() for method in methods}
    # Every operation answered a request that got through to its service, neither refused at the
    # edge (400, 413, 415, or 401 and 403 for want of a staff token) nor about an unknown token
    # (404): the tokens and the course given above lead the fuzzer there.
    reached = {key for key, statuses in answered.items() if set(statuses) - {400, 401, 403, 404, 413, 415}}
    assert documented <= reached, documented - reached
