"""The long-running mail worker: delivers due outbox messages (reminders are outbox messages
due at their time), offers freed slots to the waiting list and keeps slots generated across
the booking horizon. Busy calendars are read on a thread of their own (each in a child
process, app/busy/reader.py), so mail, reminders and offers never wait for a calendar."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from flask import current_app

from app.booking.slots import regenerate_slots
from app.busy.service import sync_due
from app.core.config import imap_configured
from app.core.extensions import db
from app.courses.reminders import queue_due_reminders
from app.mail.delivery import DEFAULT_BATCH_SIZE, DEFAULT_LEASE_SECONDS, DeliveryReport, deliver_due
from app.replies.imap import poll_mailbox
from app.waitlist.offering import offer_freed_slots

log = logging.getLogger("app.mail")

REGENERATE_EVERY_SECONDS = 3600
BUSY_CHECK_EVERY_SECONDS = 15  # how often due busy calendars are looked for
WAITLIST_EVERY_SECONDS = 30  # how often freed slots are offered to the waiting list


class Worker:
    def __init__(
        self,
        *,
        interval: float = 5.0,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self.clock = clock
        self.stopping = threading.Event()
        self._regenerated_at: float | None = None
        self._offered_at: float | None = None
        self._inbox_read_at: float | None = None

    def stop(self, *_args) -> None:
        """Finish the message in hand, then exit (SIGTERM, SIGINT)."""
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def keep_slots_generated(self) -> None:
        now = self.clock()
        if self._regenerated_at is not None and now - self._regenerated_at < REGENERATE_EVERY_SECONDS:
            return
        self._regenerated_at = now
        try:
            report = regenerate_slots()
            log.info(
                "slots regenerated: added %s, removed %s, retired %s, updated %s",
                report.added,
                report.removed,
                report.retired,
                report.updated,
            )
        except Exception:  # noqa: BLE001 - mail delivery must go on; the next hour tries again
            db.session.rollback()
            log.exception("slot regeneration failed")

    def sync_busy_calendars(self) -> None:
        """Reads each busy calendar whose time has come (every BUSY_SYNC_MINUTES, later
        after failures, at once when staff ask); a failing calendar keeps its last busy times."""
        try:
            sync_due()
        except Exception:  # noqa: BLE001 - the next round tries again
            db.session.rollback()
            log.exception("busy calendar sync failed")
        finally:
            db.session.remove()

    def start_busy_sync(self) -> threading.Thread:
        """The busy-calendar loop, on its own thread (in this app's context) until stop()."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's app, for the thread

        def loop() -> None:
            with app.app_context():
                while not self.stopping.is_set():
                    self.sync_busy_calendars()
                    self.stopping.wait(BUSY_CHECK_EVERY_SECONDS)

        thread = threading.Thread(target=loop, name="busy-sync", daemon=True)
        thread.start()
        return thread

    def keep_waitlist_offered(self) -> None:
        """Offers freed slots to the waiting list (before delivery, so the offers' emails go
        out in the same pass) and ends offers past their time."""
        now = self.clock()
        if self._offered_at is not None and now - self._offered_at < WAITLIST_EVERY_SECONDS:
            return
        self._offered_at = now
        try:
            report = offer_freed_slots()
            if report.offered or report.closed:
                log.info("waiting list: %s", report)
        except Exception:  # noqa: BLE001 - mail delivery must go on; the next round tries again
            db.session.rollback()
            log.exception("waiting-list offers failed")

    def keep_inbox_read(self) -> None:
        """Reads the IMAP mailbox every IMAP_POLL_SECONDS, when one is configured (calendar
        replies, before delivery, so the emails they cause go out in the same pass)."""
        config = current_app.config
        if not imap_configured(config):
            return
        now = self.clock()
        if self._inbox_read_at is not None and now - self._inbox_read_at < config["IMAP_POLL_SECONDS"]:
            return
        self._inbox_read_at = now
        try:
            report = poll_mailbox()
            if report.handled:
                log.info("inbound mail: %s", report)
        except Exception:  # noqa: BLE001 - mail delivery must go on; the next round tries again
            db.session.rollback()
            log.exception("reading the IMAP mailbox failed")

    def keep_course_reminders(self) -> None:
        """Queues the course reminders now due (before delivery, so they go out in this pass)."""
        try:
            queued = queue_due_reminders()
            if queued:
                log.info("course reminders queued: %s", queued)
        except Exception:  # noqa: BLE001 - mail delivery must go on; the next round tries again
            db.session.rollback()
            log.exception("course reminders failed")

    def run_once(self) -> DeliveryReport:
        self.keep_slots_generated()
        self.keep_inbox_read()
        self.keep_waitlist_offered()
        self.keep_course_reminders()
        try:
            return deliver_due(
                batch_size=self.batch_size, lease_seconds=self.lease_seconds, should_stop=self.stopping.is_set
            )
        finally:
            db.session.remove()

    def run_forever(self) -> None:
        log.info("mail worker started (every %ss)", self.interval)
        self.start_busy_sync()
        while not self.stopping.is_set():
            try:
                report = self.run_once()
                if report.sent or report.retrying or report.failed:
                    log.info("delivery: %s", report)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
                log.exception("delivery round failed; trying again shortly")
                db.session.remove()
            self.stopping.wait(self.interval)
        log.info("mail worker stopped")
