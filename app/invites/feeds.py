"""Staff calendar feeds: secret, revocable subscription URLs (/calendar/<token>.ics) listing
upcoming consultations with first name and initial, mode and a staff-console link only.

Only a SHA-256 of each token is stored; the URL is shown once, when the feed is created.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core.database import write_transaction
from app.core.extensions import db
from app.core.tokens import hash_token, looks_like_token
from app.invites import ics
from app.models import Booking, CalendarFeed, Slot, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED, MODE_LABELS

# Consultations this far back stay in the feed, so today's and last week's remain visible.
FEED_PAST_DAYS = 14


class FeedNotFound(LookupError):
    pass


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def feed_url(token: str) -> str:
    return public_url(f"/calendar/{token}.ics")


def staff_booking_url(booking: Booking) -> str:
    """The booking's page in the staff console."""
    return public_url(f"/staff/bookings/{booking.public_id}")


def create_feed(label: str, now: datetime | None = None) -> tuple[CalendarFeed, str]:
    """A new feed and its token (returned once; only the hash is kept)."""
    label = ics.one_line(label)[:100] or "Calendar feed"
    token = secrets.token_urlsafe(24)
    with write_transaction() as session:
        feed = CalendarFeed(token_hash=hash_token(token), label=label, created_at=now or utcnow())
        session.add(feed)
    return feed, token


def revoke_feed(feed_id: int, now: datetime | None = None) -> CalendarFeed:
    """Stop a feed from answering. Revoking twice is harmless."""
    with write_transaction() as session:
        feed = session.get(CalendarFeed, feed_id, with_for_update=True)
        if feed is None:
            raise FeedNotFound(f"No calendar feed with id {feed_id}.")
        if feed.revoked_at is None:
            feed.revoked_at = now or utcnow()
    return feed


def list_feeds() -> Sequence[CalendarFeed]:
    return db.session.execute(select(CalendarFeed).order_by(CalendarFeed.id)).scalars().all()


def find_active_feed(token: str) -> CalendarFeed | None:
    if not looks_like_token(token):
        return None
    return db.session.execute(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token),
                                   CalendarFeed.revoked_at.is_(None))
    ).scalar_one_or_none()


def feed_bookings(now: datetime) -> Sequence[Booking]:
    return db.session.execute(
        select(Booking).join(Slot).options(joinedload(Booking.slot))
        .where(BOOKING_IS_CONFIRMED,
               Slot.starts_at >= now - timedelta(days=FEED_PAST_DAYS))
        .order_by(Slot.starts_at)
    ).scalars().all()


def staff_event(booking: Booking) -> ics.InviteEvent:
    """A consultation as staff see it in their calendar: no contact or health details."""
    mode = {"in_person": "in person"}.get(booking.mode, booking.mode)
    url = staff_booking_url(booking)
    return ics.InviteEvent(
        # A UID of its own, so a staff calendar never merges it with the patient's invite.
        uid=f"staff-{booking.ical_uid}",
        sequence=booking.ical_sequence,
        starts_at=booking.slot.starts_at,
        ends_at=booking.slot.ends_at,
        summary=f"Consultation: {ics.one_line(booking.first_name_initial)} ({mode})",
        location=ics.location(booking.mode),
        description=f"{MODE_LABELS[booking.mode]}.\nStaff console: {url}",
        organizer=ics.organizer(),
        url=url,
        last_modified=booking.updated_at,
    )


def feed_calendar(feed: CalendarFeed, now: datetime | None = None) -> str:
    now = now or utcnow()
    name = f"{current_app.config['CLINIC_NAME']} consultations"
    events = [staff_event(b) for b in feed_bookings(now)]
    return ics.build_calendar(events, ics.PUBLISH, now, name=name)
