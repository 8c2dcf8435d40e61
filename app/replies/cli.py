"""Inbound mail commands: `flask mail receive` reads one message on standard input (for a
mail server's pipe), `flask mail poll` reads the IMAP mailbox once."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

# The largest message read from standard input; a calendar reply is a few kilobytes.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
# sysexits.h EX_TEMPFAIL: a mail server's pipe keeps the message and tries again later.
EX_TEMPFAIL = 75


def register(app: Flask) -> None:
    # One `mail` group: app.mail.cli makes it (outgoing mail); these commands join it.
    group = app.cli.commands.get("mail")
    if not isinstance(group, AppGroup):
        group = AppGroup("mail", help="Mail: outgoing tests, inbound calendar replies.")
        app.cli.add_command(group)

    @group.command("receive")
    def receive_command() -> None:
        """Handle one RFC 5322 message from standard input. Exits 0 once it is read, whatever
        it said; 75 (try again later) when it could not be handled."""
        from app.core.extensions import db
        from app.replies.service import handle_message

        raw = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)[:MAX_MESSAGE_BYTES]
        try:
            outcome = handle_message(raw)
        except Exception as error:  # noqa: BLE001 - any failure: the sender's server keeps it
            db.session.rollback()
            click.echo(f"not handled, try again later: {type(error).__name__}", err=True)
            sys.exit(EX_TEMPFAIL)
        click.echo(str(outcome))

    @group.command("poll")
    def poll_command() -> None:
        """Read the IMAP mailbox once (the worker does this every IMAP_POLL_SECONDS)."""
        from flask import current_app

        from app.core.config import imap_configured
        from app.replies.imap import poll_mailbox

        if not imap_configured(current_app.config):
            raise click.ClickException("Set IMAP_HOST, IMAP_USER and IMAP_PASSWORD first.")
        click.echo(str(poll_mailbox()))
