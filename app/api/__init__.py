"""The JSON API (/api/v1): one blueprint whose route modules register on import (bottom of
this file), one error handler for every service refusal, one OpenAPI document (schema.py).

Patients' tools use the booking and waiting-list routes (secret tokens in the URL); staff
integrations use the course routes with a personal API token (auth.py)."""

from __future__ import annotations

from flask import Blueprint

from app.api.common import domain_error
from app.core.errors import DomainError
from app.core.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.register_error_handler(DomainError, domain_error)

from app.api import bookings, courses, waitlist  # noqa: E402,F401  isort: skip
