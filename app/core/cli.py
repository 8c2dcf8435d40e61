"""Core commands: `flask backup` (an online copy of the SQLite database) and `flask check`
(is this configuration ready for production)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from app.core import deploy_check
from app.core.backup import backup_sqlite


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option(
        "--to",
        "destination",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Where to write the copy (default: instance/backups/<name>-<time>.db).",
    )
    def backup_command(destination: Path | None) -> None:
        """Copy the SQLite database while the app keeps running."""
        try:
            path = backup_sqlite(app.config["SQLALCHEMY_DATABASE_URI"], destination)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Backed up to {path}")

    @app.cli.command("check")
    def check_command() -> None:
        """Check this configuration as a production deploy, and what the schedule offers
        against it: each problem with its fix; exits non-zero when any blocks the deploy."""
        found = deploy_check.problems(app.config, production=True)
        found += deploy_check.schedule_problems(app.config)
        for problem in found:
            click.echo(f"{'BLOCKER' if problem.blocker else 'warning'}  {problem.setting} {problem.problem}")
            click.echo(f"         fix: {problem.fix}")
        blockers = sum(problem.blocker for problem in found)
        warnings = len(found) - blockers
        if not found:
            click.echo("Ready for production: no problems found.")
        else:
            click.echo(
                f"{blockers} blocker{'s' if blockers != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}."
            )
        if blockers:
            raise SystemExit(1)
