"""Encryption of a busy source's URL and credentials (Fernet). The key is BUSY_SECRET_KEY
(a Fernet key) or, when unset, derived from SECRET_KEY with HKDF."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


@dataclass(frozen=True)
class Credentials:
    url: str
    username: str = ""
    password: str = ""
    owner: str = ""  # the calendar owner's address, for declined invitations

    def __repr__(self) -> str:  # never printed or logged by accident
        return "Credentials(...)"


def _fernet() -> Fernet:
    key = current_app.config.get("BUSY_SECRET_KEY") or ""
    if key:
        return Fernet(key.encode() if isinstance(key, str) else key)
    secret = str(current_app.config["SECRET_KEY"]).encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mindset-tms busy-source credentials").derive(
        secret
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(credentials: Credentials) -> bytes:
    return _fernet().encrypt(json.dumps(credentials.__dict__).encode())


def unseal(token: bytes) -> Credentials:
    """Raises ValueError when the key changed since the source was added."""
    try:
        return Credentials(**json.loads(_fernet().decrypt(bytes(token))))
    except (InvalidToken, ValueError, TypeError) as error:
        raise ValueError(
            "the stored credentials cannot be read with the current key (was BUSY_SECRET_KEY or SECRET_KEY changed?)"
        ) from error
