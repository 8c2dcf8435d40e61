"""Development only: the mail captured locally when no MAIL_SERVER is set."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")
