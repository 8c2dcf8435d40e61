"""Local development without a mail server: the worker captures mail to files, and the
development page /dev/mail shows it with its rendered body, .eml and .ics."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from app.mail.delivery import deliver_due
from tests.conftest import build_app, dispose, make_booking


@pytest.fixture
def app_settings(tmp_path):
    return {"MAIL_SERVER": "", "DEV_MAIL_VIEWER": True, "MAIL_CAPTURE_DIR": str(tmp_path / "mail")}


def test_worker_captures_mail_to_files(ctx, tmp_path):
    make_booking()
    report = deliver_due()
    assert report.sent == 2
    files = sorted(p.name for p in (tmp_path / "mail").iterdir())
    assert files == ["1-confirmation.eml", "2-staff_notice.eml"]
    message = email.message_from_bytes(
        (tmp_path / "mail" / "1-confirmation.eml").read_bytes(), policy=email.policy.default
    )
    assert message["Subject"] == "Your consultation is booked – Mindset TMS"


def test_dev_mail_pages(ctx, client, tmp_path):
    make_booking(name="Ada <script>alert(1)</script> Lovelace")
    deliver_due()
    listing = client.get("/dev/mail/")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "Development tool" in page
    assert page.index("New consultation booked") < page.index("Your consultation is booked")
    assert "ada@example.com" in page and "sent" in page and "pending" in page  # the reminder waits
    assert re.search(r'href="/dev/mail/1/invite.ics"', page)

    detail = client.get("/dev/mail/1").get_data(as_text=True)
    assert 'iframe title="HTML body of the message" sandbox src="/dev/mail/1/body.html"' in detail
    assert "<script>alert(1)" not in detail
    body = client.get("/dev/mail/1/body.html")
    csp = body.headers["Content-Security-Policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
    assert "<script>alert(1)" not in body.get_data(as_text=True)

    eml = client.get("/dev/mail/1/message.eml")
    assert eml.mimetype == "message/rfc822"
    assert eml.get_data() == (tmp_path / "mail" / "1-confirmation.eml").read_bytes()
    invite = client.get("/dev/mail/1/invite.ics")
    assert invite.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "METHOD:REQUEST" in invite.get_data(as_text=True)
    assert client.get("/dev/mail/2/invite.ics").status_code == 404  # the staff notice has none
    assert client.get("/dev/mail/99").status_code == 404


def test_dev_mail_is_absent_unless_enabled(sqlite_url):
    app = build_app(sqlite_url, {"DEV_MAIL_VIEWER": False})
    try:
        assert app.test_client().get("/dev/mail/").status_code == 404
    finally:
        dispose(app)
