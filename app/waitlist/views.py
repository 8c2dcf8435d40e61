"""The waiting list's pages: join at /waitlist, the private entry page, and offers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("waitlist", __name__)
