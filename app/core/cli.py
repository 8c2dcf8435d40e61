"""Database commands: `flask backup` (an online copy of the SQLite database)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from app.core.backup import backup_sqlite


def register(app: Flask) -> None:
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
