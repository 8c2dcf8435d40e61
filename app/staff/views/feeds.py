"""Admin settings: the secret calendar-feed URLs staff subscribe to in their calendar apps."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.core.actors import Actor
from app.invites import feeds
from app.staff.auth import admin_required
from app.staff.forms import FeedForm
from app.staff.views import bp, flash_done, flash_error


@bp.route("/settings/calendar-feeds", methods=["GET", "POST"])
@admin_required
def calendar_feeds():
    form = FeedForm()
    new_url = None
    status = 200
    if form.validate_on_submit():
        label = form.label.data.strip()
        _feed, token = feeds.create_feed(label, actor=Actor.staff(current_user))
        new_url = feeds.feed_url(token)
        form = FeedForm(formdata=None)
    elif request.method == "POST":
        status = 422
    return render_template("staff/feeds.html", feeds=feeds.list_feeds(), form=form, new_url=new_url), status


@bp.post("/settings/calendar-feeds/<int:feed_id>/revoke")
@admin_required
def revoke_calendar_feed(feed_id: int):
    try:
        feeds.revoke_feed(feed_id, actor=Actor.staff(current_user))
    except LookupError:
        flash_error("That feed does not exist.")
    else:
        flash_done("Revoked. Calendars subscribed with that link stop updating.")
    return redirect(url_for("staff.calendar_feeds"), code=303)
