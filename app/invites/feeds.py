"""Staff calendar feeds: secret, revocable subscription URLs (/calendar/<token>.ics) listing
upcoming consultations with first name and initial, mode and a staff-console link only.
Consultations cancelled in the last FEED_PAST_DAYS stay in it as STATUS:CANCELLED, so a
subscribed calendar drops them rather than keeping a ghost. Each answer carries an ETag (a
hash of its content) and a Last-Modified, so a subscriber that asks again gets 304 when
nothing changed.

Only a SHA-256 of each token is stored; the URL is shown once, when the feed is created.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.core import audit
from app.core.actors import THE_SYSTEM, Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.labels import mode_label
from app.core.text import one_line
from app.core.tokens import hash_token, looks_like_token
from app.core.urls import public_url, staff_booking_url
from app.invites import ics
from app.models import Booking, CalendarFeed, Slot, utcnow
from app.models.booking import BOOKING_IS_CONFIRMED, STATUS_CANCELLED

# Consultations this far back stay in the feed, so today's and last week's remain visible;
# so do consultations cancelled this recently, marked cancelled.
FEED_PAST_DAYS = 14
# How often subscribers are asked to read the feed again.
FEED_REFRESH = timedelta(minutes=15)
# DTSTAMP is the moment of each answer: the ETag is a hash of the rest.
_ETAG_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


class FeedNotFound(LookupError):
    pass


def feed_url(token: str) -> str:
    return public_url(f"/calendar/{token}.ics")


def create_feed(label: str, now: datetime | None = None, *, actor: Actor = THE_SYSTEM) -> tuple[CalendarFeed, str]:
    """A new feed and its token (returned once; only the hash is kept). A staff member's is
    written in the audit log, in the same transaction."""
    written = label
    label = one_line(label)[:100] or "Calendar feed"
    token = secrets.token_urlsafe(24)
    with write_transaction() as session:
        feed = CalendarFeed(token_hash=hash_token(token), label=label, created_at=now or utcnow())
        session.add(feed)
        if actor.member is not None:
            audit.record(session, actor.member, "feed.create", details=written)
    return feed, token


def revoke_feed(feed_id: int, now: datetime | None = None, *, actor: Actor = THE_SYSTEM) -> CalendarFeed:
    """Stop a feed from answering. Revoking twice is harmless. A staff member's is written
    in the audit log, in the same transaction."""
    with write_transaction() as session:
        feed = session.get(CalendarFeed, feed_id, with_for_update=True)
        if feed is None:
            raise FeedNotFound(f"No calendar feed with id {feed_id}.")
        if feed.revoked_at is None:
            feed.revoked_at = now or utcnow()
        if actor.member is not None:
            audit.record(session, actor.member, "feed.revoke", details=f"feed {feed_id}")
    return feed


def list_feeds() -> Sequence[CalendarFeed]:
    return db.session.execute(select(CalendarFeed).order_by(CalendarFeed.id)).scalars().all()


def find_active_feed(token: str) -> CalendarFeed | None:
    if not looks_like_token(token):
        return None
    return db.session.execute(
        select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token), CalendarFeed.revoked_at.is_(None))
    ).scalar_one_or_none()


def feed_bookings(now: datetime) -> Sequence[Booking]:
    """Consultations from FEED_PAST_DAYS ago on, and those cancelled in that time."""
    since = now - timedelta(days=FEED_PAST_DAYS)
    return (
        db.session.execute(
            select(Booking)
            .join(Slot)
            .options(joinedload(Booking.slot))
            .where(
                or_(
                    BOOKING_IS_CONFIRMED & (Slot.starts_at >= since),
                    (Booking.status == STATUS_CANCELLED) & (Booking.cancelled_at >= since),
                )
            )
            .order_by(Slot.starts_at, Booking.id)
        )
        .scalars()
        .all()
    )


def _last_change(feed: CalendarFeed, bookings: Sequence[Booking], now: datetime) -> datetime:
    """When the feed's content last changed: a listed booking's last change, or the moment
    the latest one left the feed (FEED_PAST_DAYS after it began or was cancelled)."""
    since = now - timedelta(days=FEED_PAST_DAYS)
    left_started, left_cancelled = db.session.execute(
        select(
            select(func.max(Slot.starts_at))
            .join(Booking)
            .where(BOOKING_IS_CONFIRMED, Slot.starts_at < since)
            .scalar_subquery(),
            select(func.max(Booking.cancelled_at))
            .where(Booking.status == STATUS_CANCELLED, Booking.cancelled_at < since)
            .scalar_subquery(),
        )
    ).one()
    moments = [
        feed.created_at,
        *(b.updated_at for b in bookings),
        *(moment + timedelta(days=FEED_PAST_DAYS) for moment in (left_started, left_cancelled) if moment),
    ]
    return min(max(moments), now)


def staff_event(booking: Booking) -> ics.InviteEvent:
    """A consultation as staff see it in their calendar: no contact or health details."""
    mode = {"in_person": "in person"}.get(booking.mode, booking.mode)
    url = staff_booking_url(booking)
    return ics.InviteEvent(
        # A UID of its own, so a staff calendar never merges it with the patient's invite
        # (a busy calendar that shows it is recognised: app.busy.rules.published_booking_uid).
        uid=f"staff-{booking.ical_uid}",
        sequence=booking.ical_sequence,
        starts_at=booking.slot.starts_at,
        ends_at=booking.slot.ends_at,
        summary=f"Consultation: {one_line(booking.first_name_initial)} ({mode})",
        location=ics.location(booking.mode),
        description=f"{mode_label(booking.mode)}.\nStaff console: {url}",
        organizer=ics.organizer(),
        url=url,
        last_modified=booking.updated_at,
        cancelled=booking.status == STATUS_CANCELLED,
    )


@dataclass(frozen=True)
class FeedAnswer:
    text: str
    etag: str
    last_modified: datetime


def feed_answer(feed: CalendarFeed, now: datetime | None = None) -> FeedAnswer:
    """The feed's calendar as of `now`, with its ETag and Last-Modified."""
    now = now or utcnow()
    name = f"{current_app.config['CLINIC_NAME']} consultations"
    bookings = feed_bookings(now)
    text = ics.build_calendar([staff_event(b) for b in bookings], ics.PUBLISH, now, name=name, refresh=FEED_REFRESH)
    etag = hashlib.sha256(ics.restamp(text, _ETAG_STAMP).encode("utf-8")).hexdigest()[:32]
    return FeedAnswer(text, etag, _last_change(feed, bookings, now))


def feed_calendar(feed: CalendarFeed, now: datetime | None = None) -> str:
    return feed_answer(feed, now).text
