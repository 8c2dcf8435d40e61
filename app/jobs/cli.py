"""Job commands: `flask worker` delivers the outbox, offers freed slots, keeps slots
generated and reads busy calendars."""

from __future__ import annotations

import logging

import click
from flask import Flask

from app.mail.delivery import DEFAULT_BATCH_SIZE


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option(
        "--once", is_flag=True, help="Deliver what is due now and read the busy calendars that are due, then exit."
    )
    @click.option("--interval", default=5.0, show_default=True, type=float, help="Seconds between delivery rounds.")
    @click.option(
        "--lease",
        "lease_seconds",
        type=float,
        default=lambda: app.config["MAIL_CLAIM_SECONDS"],
        help="Seconds a claimed message is reserved for this worker (default 300).",
    )
    @click.option("--batch-size", default=DEFAULT_BATCH_SIZE, show_default=True, type=int)
    def worker_command(once: bool, interval: float, lease_seconds: float, batch_size: int) -> None:
        """Deliver queued mail (confirmations, updates, reminders), offer freed slots, keep slots
        generated and read busy calendars (on a thread of their own)."""
        from app.jobs.worker import Worker

        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("app.mail").setLevel(logging.INFO)
        worker = Worker(interval=interval, lease_seconds=lease_seconds, batch_size=batch_size)
        worker.install_signal_handlers()
        if once:
            report = worker.run_once()
            click.echo(f"delivery: {report}")
            worker.sync_busy_calendars()
            return
        worker.run_forever()
