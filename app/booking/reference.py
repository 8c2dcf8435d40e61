"""Booking references a patient can read aloud: 8 characters of Crockford base32 (no I, L,
O or U), stored as `K7Q492MP` and shown as `K7Q4-92MP`. Pure: no Flask, no database.
Shown with app.models.booking.format_reference."""

from __future__ import annotations

import re
import secrets

from app.models.booking import format_reference as display  # noqa: F401  (one way to show it)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_PATTERN = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")
# Crockford's decoding: look-alike letters read as the digits they resemble.
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str | None:
    """What a patient or staff member typed ('k7q4 92mp', 'K7Q4-92MP', 'k7q4-g2mp' with o/0
    swaps) as a stored reference, or None when it cannot be one."""
    cleaned = re.sub(r"[\s\-]", "", text or "").upper().translate(_LOOK_ALIKES)
    return cleaned if _PATTERN.match(cleaned) else None
