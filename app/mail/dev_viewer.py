"""Development only: the mail captured locally when no MAIL_SERVER is set.

Registered only when DEV_MAIL_VIEWER is on (`make run` turns it on) and the configuration is
not a production one (app.core.deploy_check.dev_mail_viewer_enabled): it shows patients'
messages without any sign-in.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from app.core.extensions import db
from app.invites import ics
from app.mail import compose, delivery, rendering
from app.models import OutboxMessage, utcnow

bp = Blueprint("dev_mail", __name__, url_prefix="/dev/mail")

# The stored HTML body is shown in a sandboxed frame, under a policy of its own that
# allows the inline styles emails rely on and nothing else.
BODY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"


def _shown(message: OutboxMessage) -> OutboxMessage:
    """The message with its words, rendered for display if the worker has not yet done so
    (detached first, so nothing shown here is written back)."""
    db.session.expunge(message)
    rendering.fill(message, utcnow())
    return message


def _message_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return _shown(message)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/")
def index():
    messages = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)).scalars().all()
    messages = [_shown(message) for message in messages]
    return _no_store(Response(render_template("dev_mail/index.html", messages=messages)))


@bp.get("/<int:message_id>")
def show(message_id: int):
    message = _message_or_404(message_id)
    captured = delivery.captured_file(message).exists()
    return _no_store(Response(render_template("dev_mail/message.html", message=message, captured=captured)))


@bp.get("/<int:message_id>/body.html")
def body_html(message_id: int):
    message = _message_or_404(message_id)
    response = Response(message.body_html or "<p>(no HTML part)</p>", mimetype="text/html")
    response.headers["Content-Security-Policy"] = BODY_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return _no_store(response)


@bp.get("/<int:message_id>/invite.ics")
def invite(message_id: int):
    message = _message_or_404(message_id)
    if not message.ics:
        abort(404)
    text = ics.restamp(message.ics, message.sent_at) if message.sent_at else message.ics
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{message.id}-invite.ics"'
    return _no_store(response)


@bp.get("/<int:message_id>/message.eml")
def eml(message_id: int):
    """The captured bytes as delivered; for mail not captured here, the message as it
    would be sent now."""
    message = _message_or_404(message_id)
    path = delivery.captured_file(message)
    if path.exists():
        raw = path.read_bytes()
    else:
        try:
            raw = compose.as_bytes(compose.build(message, message.sent_at or utcnow()))
        except compose.InvalidMessage as error:
            return _no_store(Response(f"This message cannot be built: {error}", status=409, mimetype="text/plain"))
    response = Response(raw, mimetype="message/rfc822")
    response.headers["Content-Disposition"] = f'attachment; filename="{message.id}-{message.kind}.eml"'
    return _no_store(response)
