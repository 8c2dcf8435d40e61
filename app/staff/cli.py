"""Staff account commands: `flask --app wsgi staff create|list|disable|enable|set-password`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.models.staff import ROLES
from app.staff import accounts

staff_cli = AppGroup("staff", help="Manage staff console accounts.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


@staff_cli.command("create")
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--name", default=None, help="The person's name (defaults to the email's first part).")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--password", default=None,
              help="For scripts only: otherwise you are asked, and the password is not echoed.")
def create_command(email: str, name: str | None, role: str, password: str | None) -> None:
    """Create a staff account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        default_name = email.split("@")[0].replace(".", " ").title()
        user = accounts.create_account(email, name or default_name, role, password)
    except accounts.AccountError as error:
        _fail(error.message)
    click.echo(f"Created {user.role} account for {user.email}.")


@staff_cli.command("list")
def list_command() -> None:
    """List staff accounts."""
    users = accounts.list_accounts()
    if not users:
        click.echo("No staff accounts yet. Create one with: flask --app wsgi staff create --email ...")
        return
    for user in users:
        state = "active" if user.is_active else "disabled"
        last = user.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_sign_in_at else "never"
        click.echo(f"{user.email}\t{user.name}\t{user.role}\t{state}\tlast sign-in: {last}")


def _user(email: str):
    user = accounts.find_by_email(email)
    if user is None:
        _fail(f"No account for {email}.")
    return user


@staff_cli.command("disable")
@click.option("--email", required=True)
def disable_command(email: str) -> None:
    """Disable an account (it is kept for the audit log) and end its sessions."""
    try:
        accounts.set_active(_user(email).id, False)
    except accounts.AccountError as error:
        _fail(error.message)
    click.echo(f"Disabled {email}.")


@staff_cli.command("enable")
@click.option("--email", required=True)
def enable_command(email: str) -> None:
    """Enable a disabled account."""
    accounts.set_active(_user(email).id, True)
    click.echo(f"Enabled {email}.")


@staff_cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password", default=None, help="For scripts only: otherwise you are asked.")
def set_password_command(email: str, password: str | None) -> None:
    """Set a new password (ends the account's sessions)."""
    user = _user(email)
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(user.id, password)
    except accounts.AccountError as error:
        _fail(error.message)
    click.echo(f"Password changed for {email}.")


def register(app: Flask) -> None:
    app.cli.add_command(staff_cli)
