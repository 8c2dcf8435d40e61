"""Calendar files: a booking's invite download and the staff subscription feed."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calendar", __name__)
