"""The SMS provider's webhooks (a reply from a patient, a delivery report), both signed by
the provider and refused with 403 otherwise, and the short manage link texts carry."""

from __future__ import annotations

from xml.sax.saxutils import escape

import phonenumbers
from flask import Blueprint, Response, abort, current_app, redirect, request

from app.booking import notifications
from app.booking import service as booking_service
from app.core.extensions import csrf
from app.core.ratelimits import token_lookup_limit
from app.core.urls import public_url
from app.sms import service

bp = Blueprint("sms", __name__)
csrf.exempt(bp)  # the provider signs its requests instead (X-Twilio-Signature)


def _signed_form() -> dict[str, str]:
    """The webhook's form, once its signature is checked against the public address the
    provider was given (PUBLIC_BASE_URL: behind a proxy the request's own URL differs)."""
    url = public_url(request.path)
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    if not service.is_signed(url, request.form.items(multi=True), request.headers.get("X-Twilio-Signature")):
        abort(403)
    return request.form.to_dict()


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, current_app.config["PHONE_DEFAULT_REGION"])
    except phonenumbers.NumberParseException:
        abort(400)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def twiml(answer: str | None) -> Response:
    body = f"<Message>{escape(answer)}</Message>" if answer else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>', mimetype="text/xml")


@bp.post("/sms/inbound")
def inbound():
    form = _signed_form()
    if not form.get("From") or not form.get("MessageSid"):
        abort(400)
    answer = service.receive(form["MessageSid"][:64], _e164(form["From"]), form.get("Body", ""))
    return twiml(answer)


@bp.post("/sms/status")
def status():
    form = _signed_form()
    if not form.get("MessageSid") or not form.get("MessageStatus"):
        abort(400)
    service.delivery_report(form["MessageSid"][:64], form["MessageStatus"], form.get("ErrorCode", ""))
    return Response(status=204)


@bp.get("/m/<token>")
@token_lookup_limit
def short_link(token: str):
    """A text's short manage link: the manage page, in the booking's language."""
    booking = booking_service.find_by_token(token)
    if booking is None:
        abort(404)
    return redirect(notifications.manage_url(token, booking.locale), code=302)
