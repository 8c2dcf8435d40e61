"""Delivering text messages: a Twilio-compatible REST API (Twilio, SignalWire and others take
the same request), or files in the capture directory when no provider is configured.

The provider's answer decides what happens to the outbox row (see app.mail.delivery): 201 is
sent (its sid is kept for status callbacks); a number that cannot receive texts fails at
once, never retried; an outage (no connection, a timeout, 429, 5xx, refused credentials) is
retried later with backoff. Logs name outbox ids and provider codes only, never numbers.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, time
from pathlib import Path

import niquests
import phonenumbers
from flask import current_app
from sqlalchemy import exists, select

from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.core.urls import public_url
from app.mail import texts
from app.mail.transport import DeliveryError
from app.models import Booking, OutboxMessage, SmsOptOut
from app.models.booking import STATUS_CONFIRMED
from app.models.mail import IS_TEXT, OUTBOX_SENT
from app.schedule.clinic_time import clinic_today

# Provider error codes for a number that cannot take texts: invalid (21211), not a mobile
# number (21614), unreachable or not allowed (21612, 21408), opted out at the carrier (21610).
UNREACHABLE_NUMBER_CODES = frozenset({21211, 21408, 21610, 21612, 21614})


def is_configured(config) -> bool:
    return bool(
        config.get("TWILIO_ACCOUNT_SID")
        and config.get("TWILIO_AUTH_TOKEN")
        and (config.get("TWILIO_FROM_NUMBER") or config.get("TWILIO_MESSAGING_SERVICE_SID"))
    )


def can_receive_texts(e164: str) -> bool:
    """False for numbers known to be landlines (in the US most numbers may be either, and only
    the provider can tell)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    )


def reason_not_to_send(message: OutboxMessage, booking: Booking | None, now: datetime) -> str | None:
    """Why a due text must not go out now (it is withdrawn), or None. Checked at send time, so
    a STOP, an erased patient or a cancelled booking stops texts already queued."""
    if booking is None or booking.erased_at is not None or booking.sms_consent_at is None:
        return "no agreement to texts"
    if booking.phone != message.to_address:
        return "the booking's number has changed"
    if db.session.get(SmsOptOut, message.to_address) is not None:
        return "the number replied STOP"
    if message.kind == texts.STAFF_TEXT:
        return None
    if booking.status != STATUS_CONFIRMED:
        return "the consultation was cancelled"
    if message.kind == texts.REMINDER and _texted_today(message.to_address, now):
        return "this number already had a text today"
    return None


def _texted_today(phone: str, now: datetime) -> bool:
    """Whether a confirmation or reminder went to `phone` on the clinic's day of `now`: the
    automatic texts come at most one a day."""
    midnight = datetime.combine(clinic_today(now), time(0), clinic_zone())
    return db.session.execute(
        select(
            exists().where(
                IS_TEXT,
                OutboxMessage.to_address == phone,
                OutboxMessage.status == OUTBOX_SENT,
                OutboxMessage.kind.in_((texts.CONFIRMATION, texts.REMINDER)),
                OutboxMessage.sent_at >= midnight,
            )
        )
    ).scalar_one()


def status_callback_url() -> str:
    return public_url("/sms/status")


class RestTransport:
    """POST {TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json, one per text."""

    def __init__(self, config) -> None:
        sid = config["TWILIO_ACCOUNT_SID"]
        base = config["TWILIO_API_BASE"].rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
        self.auth = (sid, config["TWILIO_AUTH_TOKEN"])
        service = config.get("TWILIO_MESSAGING_SERVICE_SID")
        self.sender = {"MessagingServiceSid": service} if service else {"From": config["TWILIO_FROM_NUMBER"]}
        self.timeout = config["SMS_TIMEOUT_SECONDS"]
        self.callback = status_callback_url()
        self._session: niquests.Session | None = None

    def _connection(self) -> niquests.Session:
        if self._session is None:
            self._session = niquests.Session()
            self._session.trust_env = False  # no proxies or .netrc from the environment
        return self._session

    def form(self, recipient: str, body: str) -> dict[str, str]:
        """The request's form fields."""
        return {"To": recipient, **self.sender, "Body": body, "StatusCallback": self.callback}

    def send(self, envelope) -> str:
        """Returns the provider's id for the message; raises DeliveryError."""
        try:
            response = self._connection().post(
                self.url,
                data=self.form(envelope.recipient, envelope.raw.decode("utf-8")),
                auth=self.auth,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except niquests.RequestException as error:
            self.close()
            raise DeliveryError(f"SMS provider: {type(error).__name__}", permanent=False, connection=True) from None
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        status = response.status_code or 0
        if status in (200, 201) and isinstance(answer.get("sid"), str) and answer["sid"]:
            return answer["sid"][:64]
        code = answer.get("code")
        detail = f"SMS provider {status}" + (f" code {code}" if code else "")
        if code in UNREACHABLE_NUMBER_CODES:
            raise DeliveryError(f"{detail}: this number cannot receive texts", permanent=True)
        if status in (200, 201) or status in (401, 403, 429) or status >= 500:
            # An outage, throttling or a credentials problem: the provider, not this text.
            raise DeliveryError(detail, permanent=False, connection=True)
        raise DeliveryError(detail, permanent=True)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class CaptureTransport:
    """Development: 'sends' by writing the request's fields to <dir>/<id>-<kind>.sms.json."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, envelope) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{envelope.id}-{envelope.kind}.sms.json"
        partial = target.with_suffix(".json.part")
        partial.write_text(json.dumps({"To": envelope.recipient, "Body": envelope.raw.decode("utf-8")}))
        os.replace(partial, target)
        return f"captured-{envelope.id}"

    def close(self) -> None:
        pass


def make_transport(capture_dir: Path):
    config = current_app.config
    return RestTransport(config) if is_configured(config) else CaptureTransport(capture_dir)
