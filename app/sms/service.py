"""Text messages around a booking: the provider's signed webhooks (replies and delivery
reports), STOP and START, and the one-off texts staff send. Each call is one transaction.

Texts themselves are outbox rows (app.mail.outbox, channel 'sms'): queued with the change
that causes them and delivered by the worker, which checks consent and opt-outs again at
send time (app.mail.sms).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from app.booking import validation
from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.mail import outbox, texts
from app.mail.outbox import Message
from app.models import Booking, OutboxMessage, SmsOptOut, SmsReply, utcnow
from app.models.mail import CHANNEL_SMS, IS_TEXT, OUTBOX_CANCELLED, OUTBOX_FAILED, OUTBOX_PENDING
from app.models.staff import StaffUser

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ALTO", "PARAR"})
START_WORDS = frozenset({"START", "UNSTOP", "INICIO"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})
SPANISH_WORDS = frozenset({"ALTO", "PARAR", "INICIO", "AYUDA"})
STOP, START, HELP = "stop", "start", "help"

# Delivery reports, in the order a text goes through them; the last three are final.
PROVIDER_STATUSES = ("accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed")
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed"})
STAFF_TEXT_MAX = 120  # with the clinic's name and "Reply STOP to opt out." it stays one segment
_HEALTH_WORD = re.compile(r"\b(?:" + "|".join(texts.HEALTH_WORDS) + r")\b", re.IGNORECASE)


# --- the provider's signature ------------------------------------------------------------


def signature(url: str, fields: Iterable[tuple[str, str]], token: str) -> str:
    """X-Twilio-Signature: base64 of HMAC-SHA1, keyed by the auth token, over the webhook's
    public URL followed by each form field's name and value, sorted by name."""
    payload = url + "".join(name + value for name, value in sorted(fields))
    digest = hmac.new(token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_signed(url: str, fields: Iterable[tuple[str, str]], given: str | None) -> bool:
    """Whether `given` is the provider's signature of this request (never without a token)."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN") or ""
    if not token or not given:
        return False
    return hmac.compare_digest(signature(url, fields, token), given)


# --- replies -------------------------------------------------------------------------------


def keyword(body: str) -> str | None:
    """stop, start or help when the whole text is one of their words (any case or spacing)."""
    word = " ".join(body.split()).upper().rstrip(".!")
    if word in STOP_WORDS:
        return STOP
    if word in START_WORDS:
        return START
    if word in HELP_WORDS:
        return HELP
    return None


def _texting_booking(phone: str) -> Booking | None:
    """The latest booking with this number that agreed to texts: where staff see its replies."""
    return db.session.execute(
        select(Booking)
        .where(Booking.phone == phone, Booking.sms_consent_at.is_not(None), Booking.erased_at.is_(None))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def help_text(locale: str) -> str:
    with force_locale(locale):
        return texts.to_gsm7(
            _(
                "%(clinic)s: appointment texts. Questions: %(phone)s. Reply STOP to opt out.",
                clinic=texts.sender_name(),
                phone=current_app.config["CLINIC_PHONE"],
            )
        )


def _stop(session, phone: str, word: str, now: datetime) -> None:
    """No text to `phone` from now on: the opt-out, and every text still waiting is withdrawn."""
    if session.get(SmsOptOut, phone) is None:
        session.add(SmsOptOut(phone=phone, keyword=word[:16], opted_out_at=now))
    session.execute(
        update(OutboxMessage)
        .where(IS_TEXT, OutboxMessage.to_address == phone, OutboxMessage.status == OUTBOX_PENDING)
        .values(status=OUTBOX_CANCELLED, claimed_until=None, last_error="not sent: the number replied STOP")
        .execution_options(synchronize_session=False)
    )


def receive(provider_id: str, phone: str, body: str, now: datetime | None = None) -> str | None:
    """Record a text sent to the clinic and act on it: STOP and its like end every text to
    the number at once, START resumes them. Returns the answer to send back (HELP), if any.
    A reply the provider sends again (same id) is recorded once."""
    now = now or utcnow()
    word = keyword(body)
    with write_transaction() as session:
        if session.execute(select(SmsReply.id).where(SmsReply.provider_id == provider_id)).first():
            return None
        booking = _texting_booking(phone)
        locale = booking.locale if booking else "en"
        session.add(
            SmsReply(
                provider_id=provider_id,
                phone=phone,
                body=body[:1600],
                keyword=word,
                booking_id=booking.id if booking else None,
                received_at=now,
            )
        )
        if word == STOP:
            _stop(session, phone, " ".join(body.split()).upper(), now)
        elif word == START:
            session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
    if word != HELP:
        return None
    spanish = " ".join(body.split()).upper() in SPANISH_WORDS
    return help_text("es" if spanish else locale)


def delivery_report(provider_id: str, status: str, error_code: str = "") -> bool:
    """A status callback: record the provider's latest word on a text (never going back from
    a final one). Undelivered and failed texts are marked failed, with the provider's code."""
    status = status.lower()
    if status not in PROVIDER_STATUSES:
        return False
    with write_transaction() as session:
        message = session.execute(
            select(OutboxMessage).where(OutboxMessage.provider_id == provider_id).with_for_update()
        ).scalar_one_or_none()
        if message is None or message.provider_status in FINAL_STATUSES:
            return message is not None
        message.provider_status = status
        if status in ("undelivered", "failed"):
            message.status = OUTBOX_FAILED
            message.last_error = f"the provider reported it {status}" + (
                f" (code {error_code[:10]})" if error_code else ""
            )
    return True


# --- what staff see and do ----------------------------------------------------------------


@dataclass(frozen=True)
class TextsState:
    """A booking's texts, for staff: whether they are on, what was sent, what came back."""

    agreed: bool
    stopped_at: datetime | None
    sent: list[OutboxMessage]
    replies: list[SmsReply]

    @property
    def is_on(self) -> bool:
        return self.agreed and self.stopped_at is None


def state(booking: Booking) -> TextsState:
    opt_out = db.session.get(SmsOptOut, booking.phone) if booking.phone else None
    sent = (
        db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.booking_id == booking.id, OutboxMessage.channel == CHANNEL_SMS)
            .order_by(OutboxMessage.id.desc())
        )
        .scalars()
        .all()
    )
    replies = (
        db.session.execute(select(SmsReply).where(SmsReply.booking_id == booking.id).order_by(SmsReply.id.desc()))
        .scalars()
        .all()
    )
    return TextsState(
        agreed=booking.sms_consent_at is not None and booking.erased_at is None,
        stopped_at=opt_out.opted_out_at if opt_out else None,
        sent=list(sent),
        replies=list(replies),
    )


class TextNotSent(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_staff_text(text: str) -> str:
    """The one-off text as it will be sent, or TextNotSent saying what to change."""
    try:
        clean = validation.single_line(
            text, "The text", max_length=STAFF_TEXT_MAX, missing="Please type the text first."
        )
    except validation.Invalid as error:
        raise TextNotSent(str(error)) from None
    if _HEALTH_WORD.search(clean):
        raise TextNotSent(
            "Texts may be read on a lock screen: leave out words about treatment "
            "or health (such as " + ", ".join(w.upper() for w in texts.HEALTH_WORDS[:3]) + ")."
        )
    return clean


def send_text(booking_public_id: str, text: str, actor: StaffUser, now: datetime | None = None) -> None:
    """Queue a one-off text to the booking's patient (who agreed to texts and has not replied
    STOP), through the outbox like every text, and record it in the audit log."""
    clean = check_staff_text(text)
    now = now or utcnow()
    with write_transaction() as session:
        booking = session.execute(
            select(Booking).where(Booking.public_id == booking_public_id).with_for_update()
        ).scalar_one_or_none()
        if booking is None or booking.erased_at is not None:
            raise TextNotSent("This booking has no patient to text.")
        if booking.sms_consent_at is None:
            raise TextNotSent("This patient did not agree to texts. Please call or email them instead.")
        if session.get(SmsOptOut, booking.phone) is not None:
            raise TextNotSent("This number replied STOP, so no text can be sent. Please call instead.")
        outbox.enqueue(
            booking,
            Message(
                texts.STAFF_TEXT, to_address=booking.phone, channel=CHANNEL_SMS, due_at=now, details={"text": clean}
            ),
        )
        audit.record(session, actor, "booking.text", booking_id=booking.id)
