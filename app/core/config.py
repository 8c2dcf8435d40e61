"""Settings read from the environment, with safe defaults for a local run."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(__file__).resolve().parents[2] / "instance"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return int(raw)


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL: PostgreSQL goes through psycopg 3, SQLite is the default."""
    if not raw:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'mindset.db'}"
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    return raw


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # Development fallback: a random key kept in instance/ so sessions survive restarts.
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config() -> dict[str, Any]:
    """Every setting the app reads, from the environment, with defaults."""
    env = os.environ.get
    url = database_url(env("DATABASE_URL"))
    return {
        "SECRET_KEY": _secret_key(),
        "SQLALCHEMY_DATABASE_URI": url,
        # A server's connections can drop (restarts, idle timeouts): test each on checkout.
        # An SQLite file's cannot, so there it would be one more statement per request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not url.startswith("sqlite")},
        "SQLITE_BUSY_TIMEOUT_MS": _int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        # Public address used in links inside emails and calendar invites.
        "PUBLIC_BASE_URL": env("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # The clinic. Address, phone and hours are sample values until configured.
        "CLINIC_NAME": env("CLINIC_NAME", "Mindset TMS"),
        "CLINIC_TIMEZONE": env("CLINIC_TIMEZONE", "America/Denver"),
        "CLINIC_STREET": env("CLINIC_STREET", "123 Sample Street, Suite 100 (sample address)"),
        "CLINIC_CITY": env("CLINIC_CITY", "Greeley"),
        "CLINIC_REGION": env("CLINIC_REGION", "CO"),
        "CLINIC_POSTCODE": env("CLINIC_POSTCODE", "80631"),
        "CLINIC_PHONE": env("CLINIC_PHONE", "+1 970-555-0100"),
        "CLINIC_EMAIL": env("CLINIC_EMAIL", "hello@mindset-tms.example"),
        # Where to park and how to find the door, shown to patients meeting in person: the
        # _ES text to those who booked in Spanish. A clinic that sets only the English note
        # shows it to everyone rather than the Spanish sample.
        "CLINIC_ARRIVAL_NOTE": env("CLINIC_ARRIVAL_NOTE") or (
            "Free parking is behind the building (sample note). Come in by the main door, take the "
            "lift to the first floor and let the front desk know you are here. Please arrive 5 "
            "minutes early."),
        "CLINIC_ARRIVAL_NOTE_ES": env("CLINIC_ARRIVAL_NOTE_ES") or ("" if env("CLINIC_ARRIVAL_NOTE") else (
            "Hay estacionamiento gratis detrás del edificio (nota de ejemplo). Entre por la puerta "
            "principal, suba en el ascensor al primer piso y avise en la recepción que ya llegó. "
            "Por favor llegue 5 minutos antes.")),
        "STAFF_NOTIFY_EMAIL": env("STAFF_NOTIFY_EMAIL", "staff@mindset-tms.example"),
        # Booking rules.
        "BOOKING_MIN_NOTICE_HOURS": _int("BOOKING_MIN_NOTICE_HOURS", 12),
        "BOOKING_HORIZON_DAYS": _int("BOOKING_HORIZON_DAYS", 60),
        "BOOKING_MAX_ACTIVE_PER_EMAIL": _int("BOOKING_MAX_ACTIVE_PER_EMAIL", 3),
        "BOOKING_MIN_FILL_SECONDS": _int("BOOKING_MIN_FILL_SECONDS", 3),
        "REMINDER_HOURS_BEFORE": _int("REMINDER_HOURS_BEFORE", 24),
        "PHONE_DEFAULT_REGION": env("PHONE_DEFAULT_REGION", "US"),
        # The waiting list (app/waitlist): entries, offers of freed slots.
        "WAITLIST_ENTRY_DAYS": _int("WAITLIST_ENTRY_DAYS", 30),
        "WAITLIST_OFFERS_PER_SLOT": _int("WAITLIST_OFFERS_PER_SLOT", 3),
        "WAITLIST_OFFER_HOURS": _int("WAITLIST_OFFER_HOURS", 2),
        "WAITLIST_MAX_OFFERS_PER_DAY": _int("WAITLIST_MAX_OFFERS_PER_DAY", 3),
        # Busy calendars (app/busy): staff calendars whose busy times hide overlapping slots.
        "BUSY_SYNC_MINUTES": _int("BUSY_SYNC_MINUTES", 10),
        "BUSY_FETCH_TIMEOUT_SECONDS": _int("BUSY_FETCH_TIMEOUT_SECONDS", 20),
        "BUSY_MAX_FEED_BYTES": _int("BUSY_MAX_FEED_BYTES", 5 * 1024 * 1024),
        "BUSY_ALLOW_PRIVATE_ADDRESSES": _bool(env("BUSY_ALLOW_PRIVATE_ADDRESSES"), False),
        # A Fernet key for sources' URLs and passwords; derived from SECRET_KEY when empty.
        "BUSY_SECRET_KEY": env("BUSY_SECRET_KEY", ""),
        # Mail. Without MAIL_SERVER, mail is captured locally (development).
        "MAIL_SERVER": env("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USERNAME": env("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env("MAIL_USE_TLS"), False),
        "MAIL_USE_SSL": _bool(env("MAIL_USE_SSL"), False),
        "MAIL_TIMEOUT_SECONDS": _int("MAIL_TIMEOUT_SECONDS", 20),
        "MAIL_DEFAULT_SENDER": env("MAIL_DEFAULT_SENDER", "Mindset TMS <bookings@mindset-tms.example>"),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 8),
        # Where mail is written when there is no MAIL_SERVER (default: instance/mail).
        "MAIL_CAPTURE_DIR": env("MAIL_CAPTURE_DIR", ""),
        # How long a worker holds a claimed message before another may retry it.
        "MAIL_CLAIM_SECONDS": _int("MAIL_CLAIM_SECONDS", 300),
        # Rate limits: the in-memory store suits one process; use Redis for several.
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,  # a Redis outage must not stop bookings
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": env("RATELIMIT_KEY_PREFIX", "mindset"),
        # Limits per client address (see app/ratelimits.py).
        "RATELIMIT_BOOKING": env("RATELIMIT_BOOKING", "10 per minute;40 per hour"),
        "RATELIMIT_MANAGE": env("RATELIMIT_MANAGE", "30 per minute"),
        "RATELIMIT_TOKEN_LOOKUP": env("RATELIMIT_TOKEN_LOOKUP", "60 per minute"),
        "RATELIMIT_API_READ": env("RATELIMIT_API_READ", "300 per minute"),
        # Staff sign-in.
        "STAFF_SIGN_IN_RATE_LIMIT": env("STAFF_SIGN_IN_RATE_LIMIT", "10 per minute"),
        "STAFF_LOCKOUT_ACCOUNT_FAILURES": _int("STAFF_LOCKOUT_ACCOUNT_FAILURES", 5),
        "STAFF_LOCKOUT_ADDRESS_FAILURES": _int("STAFF_LOCKOUT_ADDRESS_FAILURES", 20),
        "STAFF_LOCKOUT_MINUTES": _int("STAFF_LOCKOUT_MINUTES", 15),
        "STAFF_PASSWORD_MIN_LENGTH": _int("STAFF_PASSWORD_MIN_LENGTH", 12),
        "STAFF_ARGON2_TIME_COST": _int("STAFF_ARGON2_TIME_COST", 3),
        "STAFF_ARGON2_MEMORY_KIB": _int("STAFF_ARGON2_MEMORY_KIB", 65536),
        "STAFF_ARGON2_PARALLELISM": _int("STAFF_ARGON2_PARALLELISM", 4),
        # Serving. A form or JSON body larger than this is refused with 413 before it is
        # read (a booking is well under 4 KB).
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 64 * 1024),
        # How long self-check answers kept (encrypted) for the booking form stay readable.
        "SELF_CHECK_TTL_SECONDS": _int("SELF_CHECK_TTL_SECONDS", 2 * 3600),
        "LOG_FORMAT": env("LOG_FORMAT", "json"),
        "LOG_LEVEL": env("LOG_LEVEL", "INFO"),
        "PROXY_FIX_HOPS": _int("PROXY_FIX_HOPS", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env("SESSION_COOKIE_SECURE"), False),
        "PERMANENT_SESSION_LIFETIME": _int("STAFF_IDLE_MINUTES", 30) * 60,
        # The staff session cookie is re-sent when the session changes (the server's idle
        # stamp moves on at most once a minute, see app.staff.sessions), not on every page.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SEND_FILE_MAX_AGE_DEFAULT": 31536000,
        "WTF_CSRF_TIME_LIMIT": None,
        "DEV_MAIL_VIEWER": _bool(env("DEV_MAIL_VIEWER"), not env("MAIL_SERVER")),
    }
