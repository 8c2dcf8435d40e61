"""Calendar files: the staff subscription feed, and the add-to-calendar links pages show."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from app.core.ratelimits import token_lookup_limit
from app.invites import feeds, ics
from app.invites.links import CalendarLinks, calendar_links
from app.invites.video import video_link
from app.models import Booking

bp = Blueprint("calendar", __name__)


def calendar_response(text: str, filename: str | None = None) -> Response:
    response = Response(text, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Both URLs are secrets: keep them out of caches, referrers and search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("/calendar/<token>.ics")
@token_lookup_limit
def staff_feed(token: str):
    """A staff subscription feed: upcoming consultations without contact or health details."""
    feed = feeds.find_active_feed(token)
    if feed is None:
        abort(404)
    answer = feeds.feed_answer(feed)
    response = calendar_response(answer.text)
    # Subscribers may keep a copy to ask again with (If-None-Match, If-Modified-Since: 304
    # when unchanged); shared caches may not.
    response.headers["Cache-Control"] = "private, no-cache"
    response.set_etag(answer.etag)
    response.last_modified = answer.last_modified
    return response.make_conditional(request)


def links_for(booking: Booking) -> CalendarLinks:
    """'Add to calendar' links. They carry no manage link: these URLs go to third parties."""
    config = current_app.config
    details = (
        f"Your consultation with {config['CLINIC_NAME']}. To move or cancel, use the link "
        f"in your confirmation email. Questions: call {config['CLINIC_PHONE']}."
    )
    return calendar_links(
        ics.summary(),
        booking.slot.starts_at,
        booking.slot.ends_at,
        details,
        ics.location(booking.mode, video_link(booking)),
    )
