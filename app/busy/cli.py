"""`flask busy ...`: add, list, remove and sync the staff calendars that block slots."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.core.timefmt import ago, when


def register(app: Flask) -> None:
    busy = AppGroup("busy", help="Staff calendars whose busy times hide overlapping slots.")

    @busy.command("add")
    @click.argument("url")
    @click.option("--label", required=True, help="A name for the calendar, e.g. 'Dr Lee (Google)'.")
    @click.option(
        "--kind",
        type=click.Choice(["ics", "caldav"]),
        default="ics",
        show_default=True,
        help="An ICS subscription link, or a CalDAV calendar collection.",
    )
    @click.option("--username", default="", help="For a CalDAV server or a password-protected feed.")
    @click.option(
        "--password", default="", help="Stored encrypted; prompted for when a user name is given without one."
    )
    @click.option(
        "--email",
        "owner",
        default="",
        help="The calendar owner's address: events they "
        "declined are not busy (defaults to the user name when it is an address).",
    )
    def add_command(url: str, label: str, kind: str, username: str, password: str, owner: str) -> None:
        """Add a calendar; its busy times block slots from the next sync."""
        from app.busy.service import SourceError, add_source

        if username and not password:
            password = click.prompt("Password", hide_input=True, default="", show_default=False)
        try:
            source = add_source(url, label, kind, username, password, owner)
        except SourceError as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"Added {source.label} ({source.kind}, {source.host}). Run `flask busy sync` or let the worker read it."
        )

    @busy.command("list")
    def list_command() -> None:
        """Each calendar: kind, last sync, busy intervals held, last error (never credentials)."""
        from app.busy.service import list_sources
        from app.models import utcnow

        now = utcnow()
        sources = list_sources()
        if not sources:
            click.echo("No busy calendars.")
        for s in sources:
            synced = f"{ago(s.last_synced_at, now)} ({when(s.last_synced_at)})" if s.last_synced_at else "never"
            click.echo(f"{s.label}\t{s.kind}\t{s.host}\tlast sync: {synced}\tintervals: {s.intervals}")
            if s.last_error and s.last_error_at:
                click.echo(f"\tlast error {ago(s.last_error_at, now)} ({when(s.last_error_at)}): {s.last_error}")

    @busy.command("remove")
    @click.argument("label")
    def remove_command(label: str) -> None:
        """Remove a calendar and the busy times read from it."""
        from app.busy.service import SourceError, remove_source

        try:
            remove_source(label)
        except SourceError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Removed {label}.")

    @busy.command("sync")
    def sync_command() -> None:
        """Read every calendar once, now."""
        from app.busy.service import sync_all

        results = sync_all()
        for result in results:
            state = f"{result.intervals} intervals" + ("" if result.changed else " (unchanged)")
            click.echo(f"{result.label}: {state if result.ok else 'failed: ' + result.error}")
        if any(not r.ok for r in results):
            raise SystemExit(1)

    app.cli.add_command(busy)
