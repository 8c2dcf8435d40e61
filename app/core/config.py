"""Settings read from the environment, with safe defaults for a local run.

`SETTINGS` is the one list of what the environment may set: each setting's name and default
(whose type is the setting's type). `.env.example` lists the same names (a test checks it).
An empty value counts as unset."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(__file__).resolve().parents[2] / "instance"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | int | bool

    def read(self, environ: Mapping[str, str]) -> str | int | bool:
        raw = environ.get(self.name)
        if raw is None or raw.strip() == "":
            return self.default
        if isinstance(self.default, bool):
            return _bool(raw)
        if isinstance(self.default, int):
            return int(raw)
        return raw


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", ""),  # empty: instance/mindset.db
    Setting("SQLITE_BUSY_TIMEOUT_MS", 5000),
    Setting("SECRET_KEY", ""),  # empty: random, kept in instance/secret_key (development only)
    # Public address used in links inside emails and calendar invites.
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
    # The clinic. Address, phone and hours are sample values until configured.
    Setting("CLINIC_NAME", "Mindset TMS"),
    Setting("CLINIC_TIMEZONE", "America/Denver"),
    Setting("CLINIC_STREET", "123 Sample Street, Suite 100 (sample address)"),
    Setting("CLINIC_CITY", "Greeley"),
    Setting("CLINIC_REGION", "CO"),
    Setting("CLINIC_POSTCODE", "80631"),
    Setting("CLINIC_PHONE", "+1 970-555-0100"),
    Setting("CLINIC_EMAIL", "hello@mindset-tms.example"),
    # Where to park and how to find the door, shown to patients meeting in person: the
    # _ES text to those who booked in Spanish. A clinic that sets only the English note
    # shows it to everyone rather than the Spanish sample (see load_config).
    Setting("CLINIC_ARRIVAL_NOTE",
            "Free parking is behind the building (sample note). Come in by the main door, take the "
            "elevator to the first floor and let the front desk know you are here. Please arrive 5 "
            "minutes early."),
    Setting("CLINIC_ARRIVAL_NOTE_ES",
            "Hay estacionamiento gratis detrás del edificio (nota de ejemplo). Entre por la puerta "
            "principal, suba en el elevador al primer piso y avise en la recepción que ya llegó. "
            "Por favor llegue 5 minutos antes."),
    Setting("STAFF_NOTIFY_EMAIL", "staff@mindset-tms.example"),
    # The video call address: a fixed room, or a template whose `{room}` becomes each
    # booking's own unguessable room. Empty: the clinic calls video patients with a link.
    Setting("VIDEO_URL", ""),
    # Booking rules.
    Setting("BOOKING_MIN_NOTICE_HOURS", 12),
    Setting("BOOKING_HORIZON_DAYS", 60),
    Setting("BOOKING_MAX_ACTIVE_PER_EMAIL", 3),
    Setting("BOOKING_MIN_FILL_SECONDS", 3),
    Setting("REMINDER_HOURS_BEFORE", 24),
    Setting("PHONE_DEFAULT_REGION", "US"),
    # The waiting list (app/waitlist): entries, offers of freed slots.
    Setting("WAITLIST_ENTRY_DAYS", 30),
    Setting("WAITLIST_OFFERS_PER_SLOT", 3),
    Setting("WAITLIST_OFFER_HOURS", 2),
    Setting("WAITLIST_MAX_OFFERS_PER_DAY", 3),
    # Busy calendars (app/busy): staff calendars whose busy times hide overlapping slots.
    Setting("BUSY_SYNC_MINUTES", 10),
    Setting("BUSY_FETCH_TIMEOUT_SECONDS", 20),
    Setting("BUSY_MAX_FEED_BYTES", 5 * 1024 * 1024),
    # One source's whole read (download, parse, expand) runs in a child process with these bounds.
    Setting("BUSY_SYNC_SECONDS", 60),
    Setting("BUSY_SYNC_MEMORY_MB", 512),
    Setting("BUSY_ALLOW_PRIVATE_ADDRESSES", False),
    # A Fernet key for sources' URLs and passwords; derived from SECRET_KEY when empty.
    Setting("BUSY_SECRET_KEY", ""),
    # Mail. Without MAIL_SERVER, mail is captured locally (development).
    Setting("MAIL_SERVER", ""),
    Setting("MAIL_PORT", 25),
    Setting("MAIL_USERNAME", ""),
    Setting("MAIL_PASSWORD", ""),
    Setting("MAIL_USE_TLS", False),
    Setting("MAIL_USE_SSL", False),
    Setting("MAIL_TIMEOUT_SECONDS", 20),
    Setting("MAIL_DEFAULT_SENDER", "Mindset TMS <bookings@mindset-tms.example>"),
    Setting("MAIL_MAX_ATTEMPTS", 8),
    # Where mail is written when there is no MAIL_SERVER (empty: instance/mail).
    Setting("MAIL_CAPTURE_DIR", ""),
    # How long a worker holds a claimed message before another may retry it.
    Setting("MAIL_CLAIM_SECONDS", 300),
    # Inbound mail (app/replies): calendar replies and other mail to the clinic, read from
    # an IMAP mailbox by the worker, or piped into `flask mail receive` by the mail server
    # (INBOUND_MAIL_ENABLED says that pipe is wired).
    Setting("IMAP_HOST", ""),
    Setting("IMAP_PORT", 993),
    Setting("IMAP_SSL", True),
    Setting("IMAP_USER", ""),
    Setting("IMAP_PASSWORD", ""),
    Setting("IMAP_FOLDER", "INBOX"),
    Setting("IMAP_DONE_FOLDER", "Processed"),
    Setting("IMAP_POLL_SECONDS", 60),
    Setting("INBOUND_MAIL_ENABLED", False),
    # A "No" from the patient's calendar cancels the booking; off, it only flags it for staff.
    Setting("CALENDAR_REPLY_AUTO_CANCEL", True),
    # Text messages through a Twilio-compatible REST API; without an account and a sender
    # they are captured locally (MAIL_CAPTURE_DIR). Texts name the clinic by SMS_CLINIC_NAME,
    # which must carry no health words (they are read on lock screens).
    Setting("TWILIO_ACCOUNT_SID", ""),
    Setting("TWILIO_AUTH_TOKEN", ""),
    Setting("TWILIO_FROM_NUMBER", ""),
    Setting("TWILIO_MESSAGING_SERVICE_SID", ""),
    Setting("TWILIO_API_BASE", "https://api.twilio.com"),
    Setting("SMS_TIMEOUT_SECONDS", 20),
    Setting("SMS_CLINIC_NAME", "Mindset"),
    # /dev/mail, the captured mail without sign-in: only when asked for (`make run` does),
    # and never in a production configuration (app.core.deploy_check.is_production).
    Setting("DEV_MAIL_VIEWER", False),
    # Rate limits: the in-memory store suits one process; use Redis for several.
    Setting("RATELIMIT_STORAGE_URI", "memory://"),
    Setting("RATELIMIT_ENABLED", True),
    Setting("RATELIMIT_KEY_PREFIX", "mindset"),
    # Limits per client address (see app/core/ratelimits.py).
    Setting("RATELIMIT_BOOKING", "10 per minute;40 per hour"),
    Setting("RATELIMIT_MANAGE", "30 per minute"),
    Setting("RATELIMIT_TOKEN_LOOKUP", "60 per minute"),
    Setting("RATELIMIT_API_READ", "300 per minute"),
    # Staff sign-in.
    Setting("STAFF_IDLE_MINUTES", 30),
    Setting("STAFF_SIGN_IN_RATE_LIMIT", "10 per minute"),
    Setting("STAFF_LOCKOUT_ACCOUNT_FAILURES", 5),
    Setting("STAFF_LOCKOUT_ADDRESS_FAILURES", 20),
    Setting("STAFF_LOCKOUT_MINUTES", 15),
    Setting("STAFF_PASSWORD_MIN_LENGTH", 12),
    Setting("STAFF_ARGON2_TIME_COST", 3),
    Setting("STAFF_ARGON2_MEMORY_KIB", 65536),
    Setting("STAFF_ARGON2_PARALLELISM", 4),
    # Serving. A form or JSON body larger than this is refused with 413 before it is
    # read (a booking is well under 4 KB).
    Setting("MAX_CONTENT_LENGTH", 64 * 1024),
    # How long self-check answers kept (encrypted) for the booking form stay readable.
    Setting("SELF_CHECK_TTL_SECONDS", 2 * 3600),
    Setting("LOG_FORMAT", "json"),
    Setting("LOG_LEVEL", "INFO"),
    Setting("PROXY_FIX_HOPS", 0),
    Setting("SESSION_COOKIE_SECURE", False),
)
DEFAULTS: dict[str, str | int | bool] = {setting.name: setting.default for setting in SETTINGS}


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


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


GENERATED_SECRET_KEY = INSTANCE_DIR / "secret_key"


def _secret_key(key: str) -> str:
    if key:
        return key
    # Development fallback: a random key kept in instance/ so sessions survive restarts.
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    if not GENERATED_SECRET_KEY.exists():
        GENERATED_SECRET_KEY.write_text(secrets.token_hex(32))
        GENERATED_SECRET_KEY.chmod(0o600)
    return GENERATED_SECRET_KEY.read_text().strip()


def imap_configured(config: Mapping[str, Any]) -> bool:
    """Whether the worker reads an IMAP mailbox for inbound mail."""
    return all(config.get(name) for name in ("IMAP_HOST", "IMAP_USER", "IMAP_PASSWORD"))


def inbound_mail_configured(config: Mapping[str, Any]) -> bool:
    """Whether mail to the clinic's address is read (IMAP, or `flask mail receive` wired to
    the mail server): only then do invites ask for a reply (RSVP=TRUE)."""
    return bool(config.get("INBOUND_MAIL_ENABLED")) or imap_configured(config)


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting the app reads, from the environment, with defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {setting.name: setting.read(environ) for setting in SETTINGS}
    url = database_url(values.pop("DATABASE_URL"))
    idle_minutes = values.pop("STAFF_IDLE_MINUTES")
    if not environ.get("CLINIC_ARRIVAL_NOTE_ES", "").strip() and environ.get("CLINIC_ARRIVAL_NOTE", "").strip():
        values["CLINIC_ARRIVAL_NOTE_ES"] = ""
    return {
        **values,
        "SECRET_KEY": _secret_key(values["SECRET_KEY"]),
        "SQLALCHEMY_DATABASE_URI": url,
        # A server's connections can drop (restarts, idle timeouts): test each on checkout.
        # An SQLite file's cannot, so there it would be one more statement per request.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not url.startswith("sqlite")},
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,  # a Redis outage must not stop bookings
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": idle_minutes * 60,
        # The staff session cookie is re-sent when the session changes (the server's idle
        # stamp moves on at most once a minute, see app.staff.sessions), not on every page.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SEND_FILE_MAX_AGE_DEFAULT": 31536000,
        "WTF_CSRF_TIME_LIMIT": None,
    }
