"""`flask mail test --to ADDR`: one message through the configured SMTP server (aiosmtpd on
loopback), with the server's answer printed; refusals and outages are said plainly."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.extensions import db
from app.models import OutboxMessage


@pytest.fixture
def app_settings(smtp_server, tmp_path):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_TIMEOUT_SECONDS": 5,
        "MAIL_CAPTURE_DIR": str(tmp_path / "mail"),
    }


def mail_test(app, *args):
    return app.test_cli_runner().invoke(args=["mail", "test", *args])


def test_sends_one_message_and_prints_the_answer(app, smtp_server):
    result = mail_test(app, "--to", "frontdesk@example.org")
    assert result.exit_code == 0, result.output
    assert f"through 127.0.0.1:{smtp_server.port} (no TLS)" in result.output
    assert "The server answered: 250 Message accepted for delivery" in result.output
    [received] = smtp_server.received
    assert received.rcpt_tos == ("frontdesk@example.org",)
    assert received.mail_from == "bookings@mindset-tms.example"
    message = received.message
    assert message["Subject"] == "Test message – Mindset TMS"
    assert message["Message-ID"].endswith("@mindset-tms.example>")
    assert "sent with `flask mail test`" in message.get_body(("plain",)).get_content()
    with app.app_context():  # sent at once, not queued
        assert db.session.execute(select(func.count(OutboxMessage.id))).scalar_one() == 0


def test_a_refusal_is_printed_and_fails(app, smtp_server):
    smtp_server.rcpt_reply = "550 5.1.1 No such user"
    result = mail_test(app, "--to", "nobody@example.org")
    assert result.exit_code == 1
    assert "Not sent: SMTP 550 5.1.1 No such user" in result.output
    assert smtp_server.received == []


def test_an_unreachable_server_fails(app, smtp_server):
    smtp_server.stop()
    result = mail_test(app, "--to", "frontdesk@example.org")
    assert result.exit_code == 1
    assert "Not sent: SMTP connection: ConnectionRefusedError" in result.output


def test_an_unusable_address_is_refused_before_sending(app, smtp_server):
    result = mail_test(app, "--to", "frontdesk@example.org\r\nBcc: someone@example.net")
    assert result.exit_code == 1
    assert "Not sent: the address is not a plain mailbox" in result.output
    assert smtp_server.received == []


def test_without_a_mail_server_nothing_is_sent(app, smtp_server, tmp_path):
    app.config["MAIL_SERVER"] = ""
    result = mail_test(app, "--to", "frontdesk@example.org")
    assert result.exit_code == 1
    assert "Not sent: written to" in result.output and "no MAIL_SERVER" in result.output
    assert (tmp_path / "mail" / "0-test.eml").exists()
    assert smtp_server.received == []
