"""No token reaches a log line: every route of the URL map that takes a `token` has it
redacted, at its English and Spanish address, in the app's logs (JSON and text) and in
gunicorn's access log (gunicorn.conf.py), and a route added later is covered by itself."""

from __future__ import annotations

import json
import logging

import requests

from app.core.logs import TOKEN_ARGUMENT, JsonFormatter, TextFormatter, app_token_paths
from tests.conftest import LiveServer, build_app, dispose

TOKEN = "Zq9XwV8uT7sR6qP5oN4mL3kJ"  # the shape new_manage_token() gives (URL-safe base64)


def token_paths(app) -> list[str]:
    """Each token route's path with TOKEN in it, at both addresses where it is translated."""
    paths = []
    for rule in app.url_map.iter_rules():
        if TOKEN_ARGUMENT not in rule.arguments:
            continue
        path = rule.rule
        for argument in rule.arguments:
            value = TOKEN if argument == TOKEN_ARGUMENT else "AnotherValue1"
            path = path.replace(f"<{argument}>", value)
        paths += [path, f"/es{path}"]
    return paths


def test_the_token_routes_include_the_waiting_list_and_offers(app):
    paths = set(token_paths(app))
    for expected in (
        f"/waitlist/{TOKEN}",
        f"/offers/{TOKEN}",
        f"/api/v1/waitlist/{TOKEN}",
        f"/api/v1/offers/{TOKEN}/claim",
        f"/es/waitlist/{TOKEN}",
        f"/es/offers/{TOKEN}",
        f"/manage/{TOKEN}",
        f"/calendar/{TOKEN}.ics",
    ):
        assert expected in paths


def test_app_log_lines_carry_no_token_of_any_token_route(app):
    json_formatter, text_formatter = JsonFormatter(), TextFormatter()
    for path in token_paths(app):
        with app.test_request_context(path):
            record = logging.LogRecord(
                "app", logging.WARNING, __file__, 1, "GET %s from http://x%s", (path, path), None
            )
            entry = json_formatter.format(record)
            text = text_formatter.format(record)
        assert TOKEN not in entry and TOKEN not in text, path
        assert "<token>" in json.loads(entry)["path"], path


def test_a_new_token_route_is_redacted_without_being_listed(sqlite_url):
    app = build_app(sqlite_url)
    try:

        @app.get("/receipts/<int:year>/<token>/print")
        def receipt(year: int, token: str):
            return "ok"

        pattern = app_token_paths(app)
        assert pattern.sub(r"\g<lead><token>", f"/receipts/2026/{TOKEN}/print") == "/receipts/2026/<token>/print"
        with app.test_request_context(f"/receipts/2026/{TOKEN}/print"):
            record = logging.LogRecord("app", logging.INFO, __file__, 1, "printed", (), None)
            assert json.loads(JsonFormatter().format(record))["path"] == "/receipts/2026/<token>/print"
    finally:
        dispose(app)


def test_the_gunicorn_access_log_carries_no_token(app, sqlite_url, tmp_path):
    """Every token route through the production gunicorn.conf.py, at both addresses."""
    access_log = tmp_path / "access.log"
    server = LiveServer(
        sqlite_url,
        env={"ACCESS_LOG": str(access_log), "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"},
        production_config=True,
    )
    server.start()
    paths = token_paths(app)
    try:
        for path in paths:
            requests.get(
                server.url + path + "?t=" + TOKEN,
                timeout=10,
                allow_redirects=False,
                headers={"Referer": f"http://x{path}"},
            )
    finally:
        server.stop(graceful=True)  # the workers write their last access-log lines
    lines = [line for line in access_log.read_text().splitlines() if "/healthz" not in line]
    assert len(lines) == len(paths)
    assert not [line for line in lines if TOKEN in line]
    assert sum("<token>" in line for line in lines) == len(paths)
