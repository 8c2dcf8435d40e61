"""Mail commands (worker)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Registers `flask worker` (built with the invites and outbox)."""
