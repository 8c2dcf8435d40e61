"""Admin settings: the secret calendar-feed URLs staff subscribe to in their calendar apps."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from app.core import audit
from app.core.database import write_transaction
from app.staff.auth import admin_required
from app.staff.forms import FeedForm
from app.staff.views import bp, flash_done, flash_error


def _feeds_module():
    """Imported when used: the feeds belong to the invites package."""
    try:
        from app.invites import feeds
    except ImportError:
        return None
    return feeds


def _ensure_recorded(entry: audit.Pending, action: str, details: str) -> None:
    if not entry.written:  # the feeds service did not commit a transaction of its own
        with write_transaction() as session:
            audit.record(session, current_user, action, details=details)


@bp.route("/settings/calendar-feeds", methods=["GET", "POST"])
@admin_required
def calendar_feeds():
    feeds = _feeds_module()
    if feeds is None:
        abort(503)
    form = FeedForm()
    new_url = None
    status = 200
    if form.validate_on_submit():
        label = form.label.data.strip()
        with audit.record_with_next_commit(current_user, "feed.create", details=label) as entry:
            feed, token = feeds.create_feed(label)
        _ensure_recorded(entry, "feed.create", label)
        new_url = feeds.feed_url(token)
        form = FeedForm(formdata=None)
    elif request.method == "POST":
        status = 422
    return render_template("staff/feeds.html", feeds=feeds.list_feeds(), form=form, new_url=new_url), status


@bp.post("/settings/calendar-feeds/<int:feed_id>/revoke")
@admin_required
def revoke_calendar_feed(feed_id: int):
    feeds = _feeds_module()
    if feeds is None:
        abort(503)
    try:
        with audit.record_with_next_commit(current_user, "feed.revoke", details=f"feed {feed_id}") as entry:
            feeds.revoke_feed(feed_id)
    except LookupError:
        flash_error("That feed does not exist.")
    else:
        _ensure_recorded(entry, "feed.revoke", f"feed {feed_id}")
        flash_done("Revoked. Calendars subscribed with that link stop updating.")
    return redirect(url_for("staff.calendar_feeds"), code=303)
