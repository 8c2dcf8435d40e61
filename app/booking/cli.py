"""Booking commands: `flask seed-demo` (demo opening hours and slots) and `flask regenerate-slots`."""

from __future__ import annotations

from datetime import time

import click
from flask import Flask
from sqlalchemy import func, select

from app.booking.slots import count_slots, regenerate_slots
from app.core.database import write_transaction
from app.models import AvailabilityRule
from app.models.booking import MODES

DEMO_HOURS = ((time(9, 0), time(12, 0)), (time(13, 0), time(17, 0)))


def seed_demo(days: int | None = None) -> tuple[bool, int]:
    """Demo opening hours (weekdays 9-12 and 1-5, 30-minute consultations, all modes) and the
    slots they give for `days` days (default: the booking horizon, as the worker keeps them).
    Idempotent: rules are added only when there are none."""
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
    @app.cli.command("seed-demo")
    @click.option("--days", type=int, default=None,
                  help="How many days of slots to create (default: BOOKING_HORIZON_DAYS).")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has slots.")
    def seed_demo_command(days: int | None, if_empty: bool) -> None:
        """Fill the coming weeks with demo consultation slots (safe to run again)."""
        if if_empty and count_slots() > 0:
            click.echo("Slots already exist; not seeding.")
            return
        created_rules, added = seed_demo(days)
        if created_rules:
            click.echo("Added demo opening hours: weekdays 9:00-12:00 and 13:00-17:00.")
        click.echo(f"Added {added} slots.")

    @app.cli.command("regenerate-slots")
    def regenerate_command() -> None:
        """Bring generated slots in line with the opening hours for the booking horizon."""
        report = regenerate_slots()
        click.echo(f"added {report.added}, removed {report.removed}, "
                   f"retired {report.retired}, updated {report.updated}")
