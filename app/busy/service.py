"""Busy sources: add, remove, list and sync. A source is read in a process of its own,
bounded in time and memory (app/busy/reader.py); a sync replaces its busy intervals in one
transaction; a failed sync keeps the last good intervals, records the error and when, and
backs off before the next try. Staff asking for a sync mark the sources due: the worker's
busy-calendar loop reads them."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from app.busy import fetch, reader, rules
from app.busy.secrets import Credentials, seal, unseal
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.models import Booking, BusyInterval, BusySource, utcnow
from app.models.busy import KIND_CALDAV, KINDS

log = logging.getLogger("app.busy")

MAX_BACKOFF = timedelta(hours=6)


class SourceError(ValueError):
    """A source cannot be added or found; the message is safe to show."""


@dataclass(frozen=True)
class SourceSummary:
    id: int
    label: str
    kind: str
    host: str
    last_synced_at: datetime | None
    intervals: int
    last_error: str
    last_error_at: datetime | None
    next_sync_at: datetime


@dataclass(frozen=True)
class SyncResult:
    label: str
    ok: bool
    changed: bool
    intervals: int
    error: str = ""


def _limits() -> fetch.Limits:
    config = current_app.config
    return fetch.Limits(
        timeout=config["BUSY_FETCH_TIMEOUT_SECONDS"],
        max_bytes=config["BUSY_MAX_FEED_BYTES"],
        allow_private=config["BUSY_ALLOW_PRIVATE_ADDRESSES"],
    )


def add_source(
    url: str,
    label: str,
    kind: str = "ics",
    username: str = "",
    password: str = "",
    owner: str = "",
    now: datetime | None = None,
) -> BusySource:
    label = label.strip()
    if not label or len(label) > 100:
        raise SourceError("A label of 1 to 100 characters is needed.")
    if kind not in KINDS:
        raise SourceError(f"The kind must be one of: {', '.join(KINDS)}.")
    try:
        fetch.check_url(url)  # the scheme; addresses are checked at each connection
    except fetch.FetchError as error:
        raise SourceError(str(error).capitalize() + ".") from None
    if not owner and "@" in username:
        owner = username
    with write_transaction() as session:
        if session.execute(select(BusySource.id).where(BusySource.label == label)).first():
            raise SourceError(f"A source labelled {label!r} already exists.")
        source = BusySource(
            label=label,
            kind=kind,
            host=fetch.host_of(url),
            secret=seal(Credentials(url, username, password, owner.strip().lower())),
            next_sync_at=now or utcnow(),
        )
        session.add(source)
    log.info("busy source added: %s (%s)", label, kind)
    return source


def remove_source(label: str) -> None:
    with write_transaction() as session:
        source = session.execute(select(BusySource).where(BusySource.label == label)).scalar_one_or_none()
        if source is None:
            raise SourceError(f"No source is labelled {label!r}.")
        session.execute(delete(BusyInterval).where(BusyInterval.source_id == source.id))
        session.delete(source)
    log.info("busy source removed: %s", label)


def list_sources() -> list[SourceSummary]:
    counts = (
        select(BusyInterval.source_id, func.count(BusyInterval.id).label("n"))
        .group_by(BusyInterval.source_id)
        .subquery()
    )
    rows = db.session.execute(
        select(BusySource, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.source_id == BusySource.id)
        .order_by(BusySource.label)
    ).all()
    return [
        SourceSummary(s.id, s.label, s.kind, s.host, s.last_synced_at, n, s.last_error, s.last_error_at, s.next_sync_at)
        for s, n in rows
    ]


def _window(now: datetime) -> tuple[datetime, datetime]:
    return now, now + timedelta(days=current_app.config["BOOKING_HORIZON_DAYS"] + 1)


# The booking horizon moves on a day each day, so busy times expanded a day ago may stop
# short of it: a source is read in full at least this often, whatever its server says.
FULL_READ_EVERY = timedelta(days=1)


def _read(source: BusySource, now: datetime) -> tuple[reader.Read, list[tuple[datetime, datetime]] | None]:
    """Reads a source in a child process: (what was read, merged busy spans or None when
    unchanged)."""
    credentials = unseal(source.secret)
    start, end = _window(now)
    conditional = source.read_at is not None and now - source.read_at < FULL_READ_EVERY
    config = current_app.config
    job = reader.Job(
        url=credentials.url,
        caldav=source.kind == KIND_CALDAV,
        start=start.isoformat(),
        end=end.isoformat(),
        zone=clinic_zone().key,
        limits=asdict(_limits()),
        username=credentials.username,
        password=credentials.password,
        owner=credentials.owner or rules.owner_from_url(credentials.url),
        etag=source.etag if conditional else "",
        last_modified=source.last_modified if conditional else "",
        sync_token=(source.sync_token or "") if conditional else "",
    )
    read = reader.read(job, config["BUSY_SYNC_SECONDS"], config["BUSY_SYNC_MEMORY_MB"])
    if read.busy is None:
        return read, None
    own = _booking_uids({rules.published_booking_uid(b.uid) for b in read.busy if b.uid})
    return read, rules.merge(
        (b.starts_at, b.ends_at) for b in read.busy if rules.published_booking_uid(b.uid) not in own
    )


def _booking_uids(uids: set[str]) -> set[str]:
    """The clinic's own consultations come back through a staff feed: never busy."""
    if not uids:
        return set()
    found: set[str] = set()
    ordered = sorted(uids)
    for i in range(0, len(ordered), 500):
        found.update(
            db.session.execute(select(Booking.ical_uid).where(Booking.ical_uid.in_(ordered[i : i + 500]))).scalars()
        )
    return found


def sync_source(source_id: int, now: datetime | None = None) -> SyncResult:
    now = now or utcnow()
    source = db.session.get(BusySource, source_id)
    if source is None:
        raise SourceError("That source no longer exists.")
    label, every = source.label, timedelta(minutes=current_app.config["BUSY_SYNC_MINUTES"])
    try:
        fetched, spans = _read(source, now)
    except (reader.ReadError, ValueError) as error:
        return _record_failure(source_id, label, str(error), now, every)
    except Exception:  # noqa: BLE001 - one broken source must not stop the others
        log.exception("busy source %s: unexpected failure", label)
        return _record_failure(source_id, label, "unexpected error (see the server log)", now, every)
    with write_transaction() as session:
        source = session.get(BusySource, source_id, with_for_update=True)
        if source is None:
            raise SourceError("That source no longer exists.")
        if spans is not None:
            session.execute(delete(BusyInterval).where(BusyInterval.source_id == source_id))
            session.add_all(BusyInterval(source_id=source_id, starts_at=s, ends_at=e) for s, e in spans)
            source.etag, source.last_modified = fetched.etag[:255], fetched.last_modified[:64]
            source.read_at = now
        # A token too long to keep whole is not kept: a cut one would only be refused.
        source.sync_token = fetched.sync_token if 0 < len(fetched.sync_token) <= 512 else None
        source.last_synced_at = now
        source.last_error, source.last_error_at, source.failures = "", None, 0
        source.next_sync_at = now + every
    count = len(spans) if spans is not None else _count(source_id)
    log.info("busy source %s synced: %s intervals%s", label, count, "" if spans is not None else " (unchanged)")
    return SyncResult(label, True, spans is not None, count)


def _count(source_id: int) -> int:
    return db.session.execute(
        select(func.count(BusyInterval.id)).where(BusyInterval.source_id == source_id)
    ).scalar_one()


def _record_failure(source_id: int, label: str, message: str, now: datetime, every: timedelta) -> SyncResult:
    db.session.rollback()
    with write_transaction() as session:
        source = session.get(BusySource, source_id, with_for_update=True)
        if source is not None:
            source.failures += 1
            source.last_error, source.last_error_at = message[:1000], now
            source.next_sync_at = now + min(every * 2 ** min(source.failures - 1, 10), MAX_BACKOFF)
    log.warning("busy source %s: sync failed: %s", label, message)
    return SyncResult(label, False, False, _count(source_id), message)


def request_sync(now: datetime | None = None) -> int:
    """Marks every source due now, for the worker's busy-calendar loop to read (within
    about a quarter of a minute); returns how many. Reading is never done in a web request."""
    with write_transaction() as session:
        sources = session.execute(select(BusySource)).scalars().all()
        for source in sources:
            source.next_sync_at = min(source.next_sync_at, now or utcnow())
    return len(sources)


def sync_all(now: datetime | None = None) -> list[SyncResult]:
    ids = db.session.execute(select(BusySource.id).order_by(BusySource.label)).scalars().all()
    return [sync_source(i, now) for i in ids]


def sync_due(now: datetime | None = None) -> list[SyncResult]:
    now = now or utcnow()
    ids = (
        db.session.execute(
            select(BusySource.id).where(BusySource.next_sync_at <= now).order_by(BusySource.next_sync_at)
        )
        .scalars()
        .all()
    )
    return [sync_source(i, now) for i in ids]
