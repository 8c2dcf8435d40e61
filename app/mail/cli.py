"""Mail commands: `flask mail test --to ADDR` sends one message through the configured server."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.mail import compose, delivery


def register(app: Flask) -> None:
    mail = AppGroup("mail", help="Mail: send a test message; read calendar replies.")

    @mail.command("test")
    @click.option("--to", "to_address", required=True, help="Where to send the test message.")
    def test_command(to_address: str) -> None:
        """Send one message now through MAIL_SERVER and print what the server answered."""
        config = app.config
        if config.get("MAIL_SERVER"):
            security = "SSL" if config.get("MAIL_USE_SSL") else "STARTTLS" if config.get("MAIL_USE_TLS") else "no TLS"
            click.echo(
                f"Sending to {to_address} through {config['MAIL_SERVER']}:{config.get('MAIL_PORT')} "
                f"({security}{', as ' + config['MAIL_USERNAME'] if config.get('MAIL_USERNAME') else ''})"
            )
        try:
            answer = delivery.send_test(to_address)
        except compose.InvalidMessage as error:
            raise click.ClickException(f"Not sent: {error}") from None
        except delivery.DeliveryError as error:
            raise click.ClickException(f"Not sent: {error}") from None
        click.echo(f"The server answered: {answer}" if config.get("MAIL_SERVER") else f"Not sent: {answer}")
        if not config.get("MAIL_SERVER"):
            raise SystemExit(1)

    app.cli.add_command(mail)
