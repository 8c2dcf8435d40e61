"""Calendar replies read from an IMAP mailbox by the worker: a real Dovecot on loopback,
started by the test with its own configuration, a passwd-file user and a maildir."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from app.core.extensions import db
from app.jobs.worker import Worker
from app.models import Booking
from app.replies.imap import poll_mailbox
from tests.conftest import free_port, make_booking
from tests.fixtures_mail import outbox_rows
from tests.reply_messages import google_reply, outlook_reply, plain_message

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
USER, PASSWORD = "bookings@mindset-tms.example", "imap-test-password"


@dataclass
class Dovecot:
    port: int
    folder: Path

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, raw: bytes) -> None:
        with self.client() as client:
            client.append("INBOX", raw)

    def count(self, folder: str) -> int:
        with self.client() as client:
            if not client.folder_exists(folder):
                return 0
            client.select_folder(folder, readonly=True)
            return len(client.search(["NOT", "DELETED"]))


def _config(folder: Path, port: int) -> str:
    if os.getuid() == 0:
        # Dovecot refuses to act as root for a mailbox: the mail belongs to `nobody`, and its
        # own processes run as the users Debian's package adds.
        mail_user = pwd.getpwnam("nobody")
        internal, login = "dovecot", "dovenull"
    else:
        mail_user = pwd.getpwuid(os.getuid())
        internal = login = mail_user.pw_name
    for name in ("mail", "home"):
        (folder / name).mkdir()
        os.chown(folder / name, mail_user.pw_uid, mail_user.pw_gid)
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{folder}/mail/%n
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={folder}/home/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if DOVECOT is None:
        pytest.skip("Dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    # Not under pytest's tmp_path: its folders are private to the test's user, and Dovecot's
    # own users must reach the mail.
    folder = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
    folder.chmod(0o755)
    port = free_port()
    (folder / "dovecot.conf").write_text(_config(folder, port))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(folder / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
                    raise RuntimeError(f"Dovecot did not start: {process.stdout.read()!r} {log}") from None
                time.sleep(0.05)
        yield Dovecot(port=port, folder=folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app(any_app, dovecot):
    any_app.config.update(
        IMAP_HOST="127.0.0.1",
        IMAP_PORT=dovecot.port,
        IMAP_SSL=False,
        IMAP_USER=USER,
        IMAP_PASSWORD=PASSWORD,
        IMAP_FOLDER="INBOX",
        IMAP_DONE_FOLDER="Processed",
    )
    return any_app


def status(public_id: str) -> tuple[str, str | None]:
    db.session.expire_all()
    booking = db.session.execute(select(Booking).where(Booking.public_id == public_id)).scalar_one()
    return booking.status, booking.calendar_reply


def test_the_worker_reads_a_no_from_the_mailbox_and_cancels(ctx, dovecot):
    booking = make_booking().booking
    dovecot.deliver(google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"))
    dovecot.deliver(plain_message())

    Worker().keep_inbox_read()

    assert status(booking.public_id) == ("cancelled", "declined")
    assert len(outbox_rows("cancellation")) == 1
    assert len(outbox_rows("inbound")) == 1, "the ordinary message went to staff"
    # Both were moved out of the inbox: the next round reads nothing again.
    assert dovecot.count("INBOX") == 0 and dovecot.count("Processed") == 2
    queued = len(outbox_rows())
    assert poll_mailbox().handled == 0
    assert len(outbox_rows()) == queued


def test_a_spoofed_or_accepting_reply_from_the_mailbox_changes_nothing_but_is_filed(ctx, dovecot):
    booking = make_booking().booking
    dovecot.deliver(google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED", sender="mallory@example.net"))
    dovecot.deliver(outlook_reply(booking.ical_uid, booking.slot.starts_at, "ACCEPTED"))

    report = poll_mailbox()

    assert report.handled == 2
    assert status(booking.public_id) == ("confirmed", "accepted")
    assert outbox_rows("cancellation") == []
    assert dovecot.count("INBOX") == 0 and dovecot.count("Processed") == 2


def test_a_message_whose_handling_fails_stays_in_the_inbox(ctx, dovecot, monkeypatch):
    booking = make_booking().booking
    dovecot.deliver(google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"))

    def database_away(_raw):
        raise RuntimeError("database unavailable")

    with pytest.raises(RuntimeError):
        poll_mailbox(handle=database_away)
    assert dovecot.count("INBOX") == 1 and dovecot.count("Processed") == 0
    assert poll_mailbox().handled == 1
    assert status(booking.public_id) == ("cancelled", "declined")


def test_the_worker_reads_the_mailbox_every_imap_poll_seconds_on_its_own_clock(ctx, dovecot):
    booking = make_booking().booking
    clock = [1000.0]
    worker = Worker(clock=lambda: clock[0])
    worker.keep_inbox_read()  # an empty mailbox
    dovecot.deliver(google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"))

    clock[0] += 59
    worker.keep_inbox_read()
    assert dovecot.count("INBOX") == 1 and status(booking.public_id) == ("confirmed", None)
    clock[0] += 1  # IMAP_POLL_SECONDS (60) since the last read
    worker.keep_inbox_read()
    assert dovecot.count("INBOX") == 0 and status(booking.public_id) == ("cancelled", "declined")


def test_an_unreachable_mailbox_is_logged_and_the_worker_goes_on(ctx, caplog):
    ctx.config["IMAP_PORT"] = free_port()  # nothing listens there
    Worker().keep_inbox_read()
    assert "reading the IMAP mailbox failed" in caplog.text
