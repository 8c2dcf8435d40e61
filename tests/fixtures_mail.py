"""Mail fixtures: a real SMTP server (aiosmtpd) on loopback that keeps every message's raw
bytes, and can be told to refuse (451/550), to be slow, to hold its answers until told (so a
test sets up a moment by what has happened, not by how long it took), or to stop and start again."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

__all__ = ["Received", "SmtpServer", "smtp_server"]  # helpers below are imported by name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, _server, _session, envelope, address, _options):
        if self.server.rcpt_reply:
            return self.server.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, session, envelope):
        self.server.senders.add(session.peer)
        waited = 0.0
        while self.server.holding() and waited < 120:
            await asyncio.sleep(0.01)
            waited += 0.01
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        if self.server.data_reply:
            return self.server.data_reply
        raw = envelope.original_content or envelope.content
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), raw))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<port>. `received` holds what it accepted, in order."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or _free_port()
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.rcpt_reply: str | None = None  # e.g. "550 5.1.1 No such user"
        self.data_reply: str | None = None  # e.g. "451 4.3.0 Try again later"
        self.delay = 0.0  # seconds to wait before answering DATA
        self.stall_after: int | None = None  # accept this many messages, then hold DATA until None
        self.wait_for_senders = 1  # hold DATA until this many connections are sending
        self.senders: set = set()
        self._controller: Controller | None = None

    def holding(self) -> bool:
        with self.lock:
            stalled = self.stall_after is not None and len(self.received) >= self.stall_after
        return stalled or len(self.senders) < self.wait_for_senders

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> SmtpServer:
        if self._controller is None:
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, the SMTP server got {len(self.received)}")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


# --- reading what arrived ------------------------------------------------------------------


def structure(message: EmailMessage) -> list[str]:
    """The MIME tree as 'type' strings, depth-first, e.g. ['multipart/mixed', ...]."""
    return [part.get_content_type() for part in message.walk()]


def calendar_part(message: EmailMessage) -> EmailMessage:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, structure(message)
    return parts[0]  # type: ignore[return-value]


def calendar_text(message: EmailMessage) -> str:
    """The invite exactly as sent (CRLF line ends kept)."""
    return calendar_part(message).get_payload(decode=True).decode("utf-8")


def unfolded(calendar: str) -> list[str]:
    return calendar.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def prop(calendar: str, name: str) -> list[str]:
    """Every content line (unfolded) for property `name`, e.g. prop(ics, 'DTSTART')."""
    return [line for line in unfolded(calendar) if line.split(":", 1)[0].split(";", 1)[0] == name]


def outbox_rows(kind: str | None = None):
    """The outbox as the database holds it now (optionally one kind), oldest first."""
    from sqlalchemy import select

    from app.core.extensions import db
    from app.models import OutboxMessage

    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.execute(query).scalars())
