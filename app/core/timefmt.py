"""Showing UTC instants in the clinic's time zone, in words people read easily."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def to_local(instant: datetime, zone: ZoneInfo | None = None) -> datetime:
    return instant.astimezone(zone or clinic_zone())


def clock(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'9:00 AM'"""
    local = to_local(instant, zone)
    return local.strftime("%I:%M %p").lstrip("0")


def clock_with_zone(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'9:00 AM MST'"""
    local = to_local(instant, zone)
    return f"{clock(local, local.tzinfo)} {local.tzname()}"


def day(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tuesday, December 1, 2026'"""
    local = to_local(instant, zone)
    return f"{local:%A}, {local:%B} {local.day}, {local.year}"


def short_day(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tue, Dec 1'"""
    local = to_local(instant, zone)
    return f"{local:%a}, {local:%b} {local.day}"


def when(instant: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tuesday, December 1, 2026 at 9:00 AM MST'"""
    return f"{day(instant, zone)} at {clock_with_zone(instant, zone)}"


def ago(instant: datetime | None, now: datetime | None = None) -> str:
    """'4 min ago', '2 hours ago', '3 days ago'; 'never' for no instant."""
    if instant is None:
        return "never"
    minutes = int(((now or datetime.now(UTC)) - instant).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{hours // 24} days ago"


def zone_label(zone: ZoneInfo | None = None) -> str:
    """'Mountain Time (America/Denver)' for the clinic's default zone."""
    zone = zone or clinic_zone()
    names = {"America/Denver": "Mountain Time", "America/Chicago": "Central Time",
             "America/New_York": "Eastern Time", "America/Los_Angeles": "Pacific Time"}
    friendly = names.get(zone.key)
    return f"{friendly} ({zone.key})" if friendly else zone.key


def register(app) -> None:
    app.jinja_env.filters.update(
        clock=clock, clock_with_zone=clock_with_zone, day=day, short_day=short_day,
        when=when, to_local=to_local, ago=ago,
    )
    app.jinja_env.globals["zone_label"] = zone_label
