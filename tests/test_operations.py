"""Operations: health check, online SQLite backup, and logs free of tokens and patient details."""

from __future__ import annotations

import json
import logging
import sqlite3

from app.core.logs import JsonFormatter, redact
from tests.conftest import make_booking, make_slot


def test_healthz_reports_database_and_outbox(app, client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert set(body["outbox"]) == {"due", "oldest_due_seconds", "failed"}


def test_backup_command_copies_a_live_database(app, tmp_path):
    with app.app_context():
        make_booking()
    destination = tmp_path / "copy.db"
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(destination)])
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(destination)
    assert copy.execute("SELECT count(*) FROM booking").fetchone()[0] == 1
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_refuses_postgres(app):
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://x@localhost/db"
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code != 0 and "pg_dump" in result.output


def test_redaction_hides_tokens_emails_and_phones():
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    line = f"GET /manage/{token}/cancel by ada@example.com +1 970-555-0123 /calendar/{token}.ics"
    cleaned = redact(line)
    assert token not in cleaned and "ada@example.com" not in cleaned and "970-555-0123" not in cleaned
    assert "/manage/<token>/cancel" in cleaned and "/calendar/<token>.ics" in cleaned


def test_json_log_lines_carry_no_token(app):
    with app.app_context():
        make_slot()
        token = make_booking().manage_token
    formatter = JsonFormatter()
    with app.test_request_context(f"/manage/{token}"):
        record = logging.LogRecord(
            "app", logging.WARNING, __file__, 1, "problem with /manage/%s for %s", (token, "ada@example.com"), None
        )
        entry = json.loads(formatter.format(record))
    assert token not in json.dumps(entry) and "ada@example.com" not in json.dumps(entry)
    assert entry["path"] == "/manage/<token>" and entry["level"] == "WARNING"


def test_log_lines_of_one_request_share_its_id(app):
    formatter = JsonFormatter()

    def ids(headers: dict | None = None) -> list[str]:
        with app.test_request_context("/book", headers=headers or {}):
            return [
                json.loads(
                    formatter.format(logging.LogRecord("app", logging.WARNING, __file__, 1, f"line {n}", (), None))
                )["request_id"]
                for n in range(2)
            ]

    first, second = ids(), ids()
    assert first[0] == first[1] and len(first[0]) == 16
    assert second[0] == second[1] != first[0]
    assert ids({"X-Request-ID": "from-the-proxy-42"}) == ["from-the-proxy-42"] * 2


def test_text_log_format_is_redacted_too():
    from app.core.logs import TextFormatter

    token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"GET /manage/%s HTTP/1.1" 200', (token,), None)
    line = TextFormatter().format(record)
    assert token not in line and "/manage/<token>" in line


def test_text_log_lines_keep_their_timestamp_and_redact_tracebacks():
    from app.core.logs import TextFormatter

    formatter = TextFormatter()
    record = logging.LogRecord("app.mail", logging.INFO, __file__, 1, "mail worker started", (), None)
    line = formatter.format(record)
    assert line.startswith(formatter.formatTime(record)) and "<phone>" not in line
    try:
        raise ValueError("could not reach ada@example.com on +1 970-555-0123")
    except ValueError:
        import sys

        failed = logging.LogRecord("app", logging.ERROR, __file__, 1, "delivery failed", (), sys.exc_info())
    text = formatter.format(failed)
    assert "ValueError" in text and "ada@example.com" not in text and "970-555-0123" not in text


def test_server_databases_test_connections_on_checkout_and_sqlite_files_do_not(monkeypatch):
    """PostgreSQL connections can drop (restarts, idle timeouts), so each is pinged when
    taken from the pool; an SQLite file's connection cannot, and a ping would be one more
    statement on every request."""
    from app.core.config import load_config

    monkeypatch.setenv("SECRET_KEY", "test-key")
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic@db.internal/mindset")
    server = load_config()
    assert server["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert server["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/mindset-config-test.db")
    assert load_config()["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
