"""The API against its own OpenAPI document, as an outside client sees it: the schemathesis CLI
with every check but positive-data acceptance (the rules that depend on today or the database
answer documented 409/422s), all phases including the stateful one through the document's
links, against gunicorn on SQLite and PostgreSQL. Any finding fails the test."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from app.booking import service
from app.waitlist.offering import offer_freed_slots
from tests.conftest import ROOT, LiveServer, build_app, dispose, future_day, make_booking, make_slot
from tests.test_waitlist import offer_tokens

# niquests brings urllib3-future, which takes urllib3's place; its connection pools have no
# keys() for the CLI's count of open connections (used only to resend a request the server
# dropped unanswered), so that count is read as none.
CLI = ("import sys, schemathesis.transport.requests as transport; "
       "transport._count_opened_connections = lambda session: 0; "
       "from schemathesis.cli import schemathesis; sys.exit(schemathesis())")


def _seed() -> str:
    """Free slots in /slots' default fortnight, a booking, and an offer out; the offer's token,
    which only its email carries, for the claim operation."""
    for _ in range(8):
        make_slot()
    make_booking(email="held@example.com")
    today = future_day(0)
    freed = make_booking(email="owner@example.com")
    client_body = {"name": "Ana Díaz", "email": "ana@example.com", "phone": "970-555-0123", "consent": True,
                   "earliest": today.isoformat(), "latest": (today + timedelta(days=20)).isoformat()}
    from flask import current_app

    assert current_app.test_client().post("/api/v1/waitlist", json=client_body).status_code == 201
    service.cancel(freed.booking.public_id)
    assert offer_freed_slots().offered == 1
    return offer_tokens("ana@example.com")[0]


def test_schemathesis_finds_no_fault_and_reaches_every_operation(database_url, tmp_path):
    app = build_app(database_url)
    with app.app_context():
        offer_token = _seed()
    dispose(app)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[phases.stateful]\nmax-steps = 40\n\n"
        "[[operations]]\ninclude-operation-id = \"claimOffer\"\n"
        f"parameters = {{ token = \"{offer_token}\" }}\n")
    server = LiveServer(database_url).start()
    try:
        run = subprocess.run(
            [sys.executable, "-c", CLI, "--config-file", str(config), "run",
             f"{server.url}/api/v1/openapi.json", "--checks", "all",
             "--exclude-checks", "positive_data_acceptance", "--max-examples", "25",
             "--workers", "2", "--no-color"],
            cwd=ROOT, capture_output=True, text=True, timeout=600)
    finally:
        server.stop()
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "No links point" not in report, report
    assert "Tested: 10" in report, report
