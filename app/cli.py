"""Flask commands: seed-demo (and, registered by their packages, staff, worker, backup)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from app.backup import backup_sqlite
from app.booking.slots import count_slots, regenerate_slots
from app.database import write_transaction
from app.models import AvailabilityRule
from app.models.booking import MODES

DEMO_HOURS = ((time(9, 0), time(12, 0)), (time(13, 0), time(17, 0)))


def seed_demo(days: int = 28) -> tuple[bool, int]:
    """Demo opening hours (weekdays 9-12 and 1-5, 30-minute consultations, all modes) and the
    slots they give for `days` days. Idempotent: rules are added only when there are none."""
    created_rules = False
    with write_transaction() as session:
        if session.execute(select(func.count(AvailabilityRule.id))).scalar_one() == 0:
            for weekday in range(5):
                for start, end in DEMO_HOURS:
                    session.add(AvailabilityRule(weekday=weekday, start_time=start, end_time=end,
                                                 slot_minutes=30, modes=",".join(MODES)))
            created_rules = True
    report = regenerate_slots(days=days)
    return created_rules, report.added


def register(app: Flask) -> None:
    from app.mail import cli as mail_cli
    from app.staff import cli as staff_cli

    mail_cli.register(app)
    staff_cli.register(app)
    @app.cli.command("seed-demo")
    @click.option("--days", default=28, show_default=True, help="How many days of slots to create.")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has slots.")
    def seed_demo_command(days: int, if_empty: bool) -> None:
        """Fill the coming weeks with demo consultation slots (safe to run again)."""
        if if_empty and count_slots() > 0:
            click.echo("Slots already exist; not seeding.")
            return
        created_rules, added = seed_demo(days)
        if created_rules:
            click.echo("Added demo opening hours: weekdays 9:00-12:00 and 13:00-17:00.")
        click.echo(f"Added {added} slots.")

    @app.cli.command("backup")
    @click.option("--to", "destination", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write the copy (default: instance/backups/<name>-<time>.db).")
    def backup_command(destination: Path | None) -> None:
        """Copy the SQLite database while the app keeps running."""
        try:
            path = backup_sqlite(app.config["SQLALCHEMY_DATABASE_URI"], destination)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Backed up to {path}")

    @app.cli.command("regenerate-slots")
    def regenerate_command() -> None:
        """Bring generated slots in line with the opening hours for the booking horizon."""
        report = regenerate_slots()
        click.echo(f"added {report.added}, removed {report.removed}, "
                   f"retired {report.retired}, updated {report.updated}")
