"""Staff calendar feed commands: `flask calendar-feed create|list|revoke`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    group = AppGroup("calendar-feed", help="Secret calendar subscription URLs for staff.")

    @group.command("create")
    @click.option("--label", required=True, help='Who or what the feed is for, e.g. "Front desk".')
    def create_command(label: str) -> None:
        """Create a feed and print its URL (shown only now: keep it somewhere safe)."""
        from app.invites.feeds import create_feed, feed_url

        feed, token = create_feed(label)
        click.echo(f"Feed {feed.id} ({feed.label}):")
        click.echo(feed_url(token))

    @group.command("list")
    def list_command() -> None:
        """List feeds (their URLs cannot be shown again: only a hash is stored)."""
        from app.invites.feeds import list_feeds

        feeds = list_feeds()
        if not feeds:
            click.echo("No calendar feeds.")
        for feed in feeds:
            state = f"revoked {feed.revoked_at:%Y-%m-%d %H:%M} UTC" if feed.revoked_at else "active"
            click.echo(f"{feed.id}\t{feed.label}\tcreated {feed.created_at:%Y-%m-%d}\t{state}")

    @group.command("revoke")
    @click.argument("feed_id", type=int)
    def revoke_command(feed_id: int) -> None:
        """Revoke a feed: its URL stops working at once."""
        from app.invites.feeds import FeedNotFound, revoke_feed

        try:
            feed = revoke_feed(feed_id)
        except FeedNotFound as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Feed {feed.id} ({feed.label}) revoked.")

    app.cli.add_command(group)
