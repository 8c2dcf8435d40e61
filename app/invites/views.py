"""Calendar files: a booking's invite download and the staff subscription feed."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app

from app.booking import service
from app.core.ratelimits import token_lookup_limit
from app.invites import feeds, ics
from app.invites.links import CalendarLinks, calendar_links
from app.models import Booking, utcnow

bp = Blueprint("calendar", __name__)


def _calendar_response(text: str, filename: str | None = None) -> Response:
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Both URLs are secrets: keep them out of caches, referrers and search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/manage/<token>/invite.ics")
@token_lookup_limit
def booking_invite(token: str):
    """The patient's consultation as a file to open in any calendar app (METHOD:PUBLISH)."""
    booking = service.find_by_token(token)
    if booking is None or not booking.is_active:
        abort(404)
    manage_url = feeds.public_url(f"/manage/{token}")
    text = ics.booking_invite(booking, ics.PUBLISH, utcnow(), manage_url=manage_url)
    return _calendar_response(text, "consultation.ics")


@bp.get("/calendar/<token>.ics")
@token_lookup_limit
def staff_feed(token: str):
    """A staff subscription feed: upcoming consultations without contact or health details."""
    feed = feeds.find_active_feed(token)
    if feed is None:
        abort(404)
    return _calendar_response(feeds.feed_calendar(feed))


def links_for(booking: Booking) -> CalendarLinks:
    """'Add to calendar' links. They carry no manage link: these URLs go to third parties."""
    config = current_app.config
    details = (f"Your consultation with {config['CLINIC_NAME']}. To move or cancel, use the link "
               f"in your confirmation email. Questions: call {config['CLINIC_PHONE']}.")
    return calendar_links(ics.summary(), booking.slot.starts_at, booking.slot.ends_at, details,
                          ics.location(booking.mode))


@bp.app_context_processor
def _calendar_helpers() -> dict:
    return {"calendar_links_for": links_for}
