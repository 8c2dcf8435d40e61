"""Staff account commands."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Registers `flask staff ...` (built with the staff console)."""
