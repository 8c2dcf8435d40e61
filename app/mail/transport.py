"""What every transport takes (an Envelope) and raises (DeliveryError): the SMTP and capture
transports in app.mail.delivery, the text-message ones in app.mail.sms."""

from __future__ import annotations

from dataclasses import dataclass

from app.models.mail import CHANNEL_EMAIL


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool, connection: bool = False):
        super().__init__(message)
        self.permanent = permanent
        # The server, not this message, is the problem: the rest of the batch waits too.
        self.connection = connection


@dataclass(frozen=True)
class Envelope:
    """A message ready for the wire: the raw email, or a text's words (UTF-8)."""

    id: int
    kind: str
    sender: str
    recipient: str
    raw: bytes
    channel: str = CHANNEL_EMAIL
