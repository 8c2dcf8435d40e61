"""Manage-link tokens: 192 random bits for the patient, only a SHA-256 for the database."""

from __future__ import annotations

import hashlib
import secrets


def new_manage_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    return 20 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
