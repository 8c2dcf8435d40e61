"""Delivering the outbox: claim due messages, send them over SMTP (or capture them to files
when no MAIL_SERVER is set) and texts through the SMS provider (app.mail.sms), and record the
outcome. Each channel is claimed and sent in its own pass, so an SMTP outage never holds texts
back, nor the reverse.

A claim is a lease (`claimed_until`): on PostgreSQL rows are picked with FOR UPDATE SKIP
LOCKED so two workers never take the same message; on SQLite the claim's BEGIN IMMEDIATE
serialises workers. A worker that dies mid-send leaves its lease to expire, and the message
is sent again with the same Message-ID: at most a duplicate, never a loss.

Temporary trouble (no connection, SMTP 4xx) is retried with exponential backoff; an SMTP
5xx answer or running out of attempts marks the message failed, with the error kept.
Logs name outbox ids and SMTP codes only: never addresses, names or links.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from app.core.config import Settings
from app.core.database import is_postgres, write_transaction
from app.core.extensions import db
from app.mail import compose, outbox, rendering, sms
from app.mail.transport import DeliveryError, Envelope
from app.models import Booking, OutboxMessage, utcnow
from app.models.booking import STATUS_CONFIRMED
from app.models.mail import (
    CHANNEL_EMAIL,
    CHANNEL_SMS,
    OUTBOX_CANCELLED,
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENT,
)
from app.models.schedule import SESSION_PLANNED, CourseSession

CHANNELS = (CHANNEL_EMAIL, CHANNEL_SMS)

log = logging.getLogger("app.mail")

BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600
DEFAULT_LEASE_SECONDS = Settings.MAIL_CLAIM_SECONDS
DEFAULT_BATCH_SIZE = 20


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    withdrawn: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, withdrawn {self.withdrawn}"


def backoff(attempts: int) -> timedelta:
    """1 minute after the first failure, doubling, at most 6 hours."""
    seconds = BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, BACKOFF_MAX_SECONDS))


# --- transports ----------------------------------------------------------------------------


class _RemembersDataReply:
    """smtplib's sendmail drops the server's answer to the message itself: keep it."""

    data_reply: tuple[int, bytes] = (0, b"")

    def data(self, msg):
        self.data_reply = super().data(msg)
        return self.data_reply


class _SMTP(_RemembersDataReply, smtplib.SMTP):
    pass


class _SMTP_SSL(_RemembersDataReply, smtplib.SMTP_SSL):  # noqa: N801 - smtplib's own name
    pass


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for a batch."""

    def __init__(self, config) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = config["MAIL_PORT"]
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.use_tls = config["MAIL_USE_TLS"]
        self.use_ssl = config["MAIL_USE_SSL"]
        self.timeout = config["MAIL_TIMEOUT_SECONDS"]
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.use_ssl:
            smtp: smtplib.SMTP = _SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = _SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.use_tls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        self._smtp = self._connect()
        return self._smtp

    def send(self, envelope: Envelope) -> str:
        """Hand the message to the server; returns the server's answer to it ('250 ...')."""
        try:
            smtp = self._connection()
            smtp.sendmail(envelope.sender, [envelope.recipient], envelope.raw)
            code, text = smtp.data_reply  # type: ignore[attr-defined]  # every connection made is a _RemembersDataReply
            return f"{code} {_text(text)}"
        except smtplib.SMTPRecipientsRefused as error:
            code, answer = next(iter(error.recipients.values()), (0, b""))
            raise _smtp_error(code, answer) from None
        except (
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPConnectError,
            smtplib.SMTPServerDisconnected,
            smtplib.SMTPNotSupportedError,
        ) as error:
            self.close()
            raise DeliveryError(f"SMTP connection: {_describe(error)}", permanent=False, connection=True) from None
        except smtplib.SMTPResponseException as error:
            raise _smtp_error(error.smtp_code, error.smtp_error) from None
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise DeliveryError(f"SMTP connection: {_describe(error)}", permanent=False, connection=True) from None
        except Exception as error:  # noqa: BLE001 - unknown trouble: retried, then given up on
            self.close()
            raise DeliveryError(f"unexpected {type(error).__name__}: {error}"[:300], permanent=False) from None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"[:300]


def _text(raw: bytes | str) -> str:
    return (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))[:300]


def _smtp_error(code: int, text: bytes | str) -> DeliveryError:
    return DeliveryError(f"SMTP {code} {_text(text)}", permanent=500 <= code < 600)


class CaptureTransport:
    """Development: 'delivers' by writing the raw message to <dir>/<id>-<kind>.eml."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, envelope: Envelope) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{envelope.id}-{envelope.kind}.eml"
        partial = target.with_suffix(".eml.part")
        partial.write_bytes(envelope.raw)
        os.replace(partial, target)
        return f"written to {target} (no MAIL_SERVER: nothing was sent)"

    def close(self) -> None:
        pass


def capture_dir() -> Path:
    configured = current_app.config.get("MAIL_CAPTURE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "mail"


def captured_file(message: OutboxMessage) -> Path:
    return capture_dir() / f"{message.id}-{message.kind}.eml"


def make_transport(channel: str = CHANNEL_EMAIL):
    config = current_app.config
    if channel == CHANNEL_SMS:
        return sms.make_transport(capture_dir())
    if config.get("MAIL_SERVER"):
        return SmtpTransport(config)
    return CaptureTransport(capture_dir())


def send_test(to_address: str, now: datetime | None = None) -> str:
    """Send one test message to `to_address` at once through the configured server (not
    through the outbox) and return what the server answered. Raises compose.InvalidMessage
    for an unusable address and DeliveryError when the server refuses or cannot be reached."""
    now = now or utcnow()
    clinic = current_app.config["CLINIC_NAME"]
    message = OutboxMessage(
        kind="test",
        to_address=to_address,
        to_name="",
        message_id=outbox.new_message_ids(1)[0],
        subject=f"Test message – {clinic}",
        body_html="",
        body_text=(
            f"This is a test message from {clinic}'s booking service "
            f"({current_app.config['PUBLIC_BASE_URL']}), sent with `flask mail test`.\n"
            "If it arrived, confirmations and reminders can reach patients too.\n"
        ),
    )
    raw = compose.as_bytes(compose.build(message, now))
    envelope = Envelope(0, "test", compose.sender_address().addr_spec, compose.address(to_address).addr_spec, raw)
    transport = make_transport()
    try:
        return transport.send(envelope)
    finally:
        transport.close()


# --- the outbox ----------------------------------------------------------------------------


def _due_query(now: datetime, limit: int, channel: str = CHANNEL_EMAIL):
    earlier = aliased(OutboxMessage)
    # Messages to one person about one booking go out in order (an update never overtakes
    # its confirmation); reminders wait for their own time and do not hold others back.
    waits_for_earlier = exists().where(
        earlier.booking_id == OutboxMessage.booking_id,
        earlier.to_address == OutboxMessage.to_address,
        earlier.id < OutboxMessage.id,
        earlier.status == OUTBOX_PENDING,
        earlier.kind != outbox.REMINDER,
    )
    return (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OUTBOX_PENDING,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel == channel,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
            ~waits_for_earlier,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )


def claim(
    now: datetime,
    limit: int = DEFAULT_BATCH_SIZE,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    channel: str = CHANNEL_EMAIL,
) -> list[int]:
    """Take up to `limit` due messages of `channel` for this worker until now + lease."""
    with write_transaction() as session:
        query = _due_query(now, limit, channel)
        if is_postgres():
            query = query.with_for_update(skip_locked=True, of=OutboxMessage)
        ids = list(session.execute(query).scalars())
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(claimed_until=now + timedelta(seconds=lease_seconds))
                .execution_options(synchronize_session=False)
            )
    return ids


def _is_stale_reminder(message: OutboxMessage, booking: Booking | None) -> bool:
    return (
        booking is None
        or booking.status != STATUS_CONFIRMED
        or booking.erased_at is not None
        or booking.ical_sequence != message.booking_sequence
    )


def _is_stale_course_reminder(message: OutboxMessage) -> bool:
    """A course reminder whose session has since moved (a higher SEQUENCE), been cancelled or
    gone is not sent (the move clears `reminded_at`, so the new time gets its own)."""
    if message.event is None:
        return False
    [entry] = json.loads(message.event)["sessions"]
    item = db.session.execute(select(CourseSession).where(CourseSession.ical_uid == entry["uid"])).scalar_one_or_none()
    return item is None or item.status != SESSION_PLANNED or item.ical_sequence != entry["sequence"]


def _prepare(message_id: int, now: datetime) -> Envelope | str:
    """The bytes to send, or why not to send ('gone', 'withdrawn', 'invalid: ...')."""
    with write_transaction() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status != OUTBOX_PENDING:
            return "gone"
        needs_booking = message.kind == outbox.REMINDER or message.channel == CHANNEL_SMS
        booking = session.get(Booking, message.booking_id) if message.booking_id and needs_booking else None
        if message.kind == outbox.REMINDER and _is_stale_reminder(message, booking):
            return _withdraw(message)
        if message.kind == outbox.COURSE_REMINDER and _is_stale_course_reminder(message):
            return _withdraw(message)
        if message.channel == CHANNEL_SMS:
            reason = sms.reason_not_to_send(message, booking, now)
            return _withdraw(message, f"not sent: {reason}") if reason else _prepare_text(message, now)
        try:
            if message.event is not None:
                rendering.fill(message, now)
            email = compose.build(message, now)
            raw = compose.as_bytes(email)
            sender = compose.sender_address().addr_spec
            recipient = compose.address(message.to_address).addr_spec
        except compose.InvalidMessage as error:
            _record_failure(message, str(error), permanent=True, now=now)
            return f"invalid: {error}"
        except Exception as error:  # noqa: BLE001 - a row that cannot be built must not block the queue
            log.error("outbox %s cannot be built (%s)", message.id, type(error).__name__)
            _record_failure(message, f"cannot be built: {type(error).__name__}", permanent=True, now=now)
            return "invalid: cannot be built"
        return Envelope(message.id, message.kind, sender, recipient, raw)


def _withdraw(message: OutboxMessage, why: str = "") -> str:
    message.status = OUTBOX_CANCELLED
    message.claimed_until = None
    message.last_error = why
    return "withdrawn"


def _prepare_text(message: OutboxMessage, now: datetime) -> Envelope | str:
    try:
        rendering.fill(message, now)
    except Exception as error:  # noqa: BLE001 - a row that cannot be built must not block the queue
        log.error("outbox %s cannot be built (%s)", message.id, type(error).__name__)
        _record_failure(message, f"cannot be built: {type(error).__name__}", permanent=True, now=now)
        return "invalid: cannot be built"
    if not sms.can_receive_texts(message.to_address):
        _record_failure(message, "this number cannot receive texts (a landline)", permanent=True, now=now)
        return "invalid: a landline"
    return Envelope(message.id, message.kind, "", message.to_address, message.body_text.encode("utf-8"), CHANNEL_SMS)


def _record_failure(message: OutboxMessage, error: str, *, permanent: bool, now: datetime) -> bool:
    """Returns True when the message is now failed for good."""
    message.attempts += 1
    message.last_error = error[:1000]
    message.claimed_until = None
    limit = current_app.config["MAIL_MAX_ATTEMPTS"]
    if permanent or message.attempts >= limit:
        message.status = OUTBOX_FAILED
        if not permanent:
            message.last_error = f"gave up after {message.attempts} attempts: {message.last_error}"[:1000]
        return True
    message.next_attempt_at = now + backoff(message.attempts)
    return False


def _mark_sent(message_id: int, now: datetime, provider_id: str | None = None) -> None:
    with write_transaction() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        if provider_id is not None:
            message.provider_id = provider_id
        message.status = OUTBOX_SENT
        message.sent_at = now
        message.attempts += 1
        message.claimed_until = None
        message.last_error = ""


def _mark_failed(message_id: int, error: DeliveryError, now: datetime, report: DeliveryReport) -> None:
    with write_transaction() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None or message.status != OUTBOX_PENDING:
            return
        if _record_failure(message, str(error), permanent=error.permanent, now=now):
            report.failed += 1
            log.warning(
                "outbox %s (%s) failed permanently after %s attempt(s)", message.id, message.kind, message.attempts
            )
        else:
            report.retrying += 1
            log.info(
                "outbox %s (%s) will be retried at %s", message.id, message.kind, message.next_attempt_at.isoformat()
            )


def _release(ids: list[int]) -> None:
    if not ids:
        return
    with write_transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OUTBOX_PENDING)
            .values(claimed_until=None)
            .execution_options(synchronize_session=False)
        )


def deliver_due(
    now: datetime | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    should_stop: Callable[[], bool] = lambda: False,
    transport=None,
    sms_transport=None,
) -> DeliveryReport:
    """Send every message due at `now` (default: the clock), batch by batch, until none is
    due or `should_stop()` says so (the current message is always finished first): the
    emails (through `transport`), then the texts (through `sms_transport`)."""
    report = DeliveryReport()
    for channel, chosen in zip(CHANNELS, (transport, sms_transport), strict=True):
        if should_stop():
            break
        _deliver_channel(
            channel, chosen or make_transport(channel), report, now, batch_size, lease_seconds, should_stop
        )
    return report


def _deliver_channel(
    channel: str,
    transport,
    report: DeliveryReport,
    now: datetime | None,
    batch_size: int,
    lease_seconds: float,
    should_stop: Callable[[], bool],
) -> None:
    try:
        while not should_stop():
            moment = now or utcnow()
            ids = claim(moment, batch_size, lease_seconds, channel)
            if not ids:
                break
            for position, message_id in enumerate(ids):
                if should_stop():
                    _release(ids[position:])
                    return
                moment = now or utcnow()
                envelope = _prepare(message_id, moment)
                if envelope == "withdrawn":
                    report.withdrawn += 1
                    continue
                if isinstance(envelope, str):
                    if envelope.startswith("invalid"):
                        report.failed += 1
                        log.warning("outbox %s cannot be built; marked failed", message_id)
                    continue
                try:
                    answer = transport.send(envelope)
                except DeliveryError as error:
                    report.errors.append(str(error))
                    _mark_failed(message_id, error, moment, report)
                    if error.connection:
                        # The server is unreachable: the rest of the batch waits its turn too.
                        for waiting in ids[position + 1 :]:
                            _mark_failed(waiting, error, moment, report)
                        return
                    continue
                # A text's answer is the provider's message id (delivery reports name it); a
                # mail server's is only its reply line.
                _mark_sent(message_id, moment, answer if channel == CHANNEL_SMS else None)
                report.sent += 1
                log.info("outbox %s (%s) sent", envelope.id, envelope.kind)
    finally:
        transport.close()
