"""Staff account commands: `flask --app wsgi staff create|list|disable|enable|set-password`, and
personal API tokens: `staff token create|list|revoke`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.models.staff import ROLES
from app.staff import accounts, api_tokens

staff_cli = AppGroup("staff", help="Manage staff console accounts.")


def _fail(message: str) -> None:
    raise click.ClickException(message)


@staff_cli.command("create")
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--name", default=None, help="The person's name (defaults to the email's first part).")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option(
    "--password", default=None, help="For scripts only: otherwise you are asked, and the password is not echoed."
)
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


token_cli = AppGroup("token", help="Personal API tokens for the staff routes of /api/v1.")
staff_cli.add_command(token_cli)


def _when(instant) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC") if instant else "never"


@token_cli.command("create")
@click.option("--email", required=True, help="The account the token acts as.")
def token_create_command(email: str) -> None:
    """Make a token and print it once (only its hash is kept)."""
    try:
        new = api_tokens.create(_user(email).id)
    except api_tokens.TokenError as error:
        _fail(error.message)
    click.echo(f"API token for {email} (id {new.record.id}); it is shown only this once:")
    click.echo(new.token)
    click.echo("Send it as the header: Authorization: Bearer <token>")


@token_cli.command("list")
@click.option("--email", default=None, help="Only this account's tokens.")
def token_list_command(email: str | None) -> None:
    """List tokens: id, prefix, account, created, last used, revoked."""
    users = {user.id: user.email for user in accounts.list_accounts()}
    found = api_tokens.tokens(_user(email).id if email else None)
    if not found:
        click.echo("No API tokens. Make one with: flask --app wsgi staff token create --email ...")
        return
    for record in found:
        state = f"revoked {_when(record.revoked_at)}" if record.revoked_at else "active"
        click.echo(
            f"{record.id}\t{record.prefix}\t{users.get(record.staff_user_id, '?')}\t"
            f"created {_when(record.created_at)}\tlast used {_when(record.last_used_at)}\t{state}"
        )


@token_cli.command("revoke")
@click.argument("token")
def token_revoke_command(token: str) -> None:
    """Revoke a token, named by its id or its prefix (as `staff token list` shows them)."""
    try:
        record = api_tokens.revoke(api_tokens.find(token).id)
    except api_tokens.TokenError as error:
        _fail(error.message)
    click.echo(f"Revoked token {record.prefix} (id {record.id}).")


def register(app: Flask) -> None:
    app.cli.add_command(staff_cli)
