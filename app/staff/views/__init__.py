"""The /staff blueprint."""

from __future__ import annotations

from flask import Blueprint

from app.staff import auth  # noqa: F401  registers the user loader

bp = Blueprint("staff", __name__, url_prefix="/staff")
