"""Settings read from the environment, with safe defaults for a local run.

`Settings` is the one list of what the environment may set: a frozen dataclass whose fields
are the settings, each with its type and default. `.env.example` lists the same names with
the same defaults (tests/test_deploy_files.py checks it). An empty value counts as unset."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import Field, asdict, dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

INSTANCE_DIR = Path(__file__).resolve().parents[2] / "instance"


@dataclass(frozen=True)
class Settings:
    """Every setting the environment may set, with its type and its default, each written
    once here. Built once from the environment (`from_environ`), it fills app.config, where
    the app reads it (tests may override a value there)."""

    DATABASE_URL: str = ""  # empty: instance/mindset.db
    SQLITE_BUSY_TIMEOUT_MS: int = 5000
    SECRET_KEY: str = ""  # empty: random, kept in instance/secret_key (development only)
    # Public address used in links inside emails and calendar invites.
    PUBLIC_BASE_URL: str = "http://127.0.0.1:5000"
    # The clinic. Address, phone and hours are sample values until configured.
    CLINIC_NAME: str = "Mindset TMS"
    CLINIC_TIMEZONE: str = "America/Denver"
    CLINIC_STREET: str = "123 Sample Street, Suite 100 (sample address)"
    CLINIC_CITY: str = "Greeley"
    CLINIC_REGION: str = "CO"
    CLINIC_POSTCODE: str = "80631"
    CLINIC_PHONE: str = "+1 970-555-0100"
    CLINIC_EMAIL: str = "hello@mindset-tms.example"
    # Where to park and how to find the door, shown to patients meeting in person: the
    # _ES text to those who booked in Spanish. A clinic that sets only the English note
    # shows it to everyone rather than the Spanish sample (see load_config).
    CLINIC_ARRIVAL_NOTE: str = (
        "Free parking is behind the building (sample note). Come in by the main door, take the "
        "elevator to the first floor and let the front desk know you are here. Please arrive 5 "
        "minutes early."
    )
    CLINIC_ARRIVAL_NOTE_ES: str = (
        "Hay estacionamiento gratis detrás del edificio (nota de ejemplo). Entre por la puerta "
        "principal, suba en el elevador al primer piso y avise en la recepción que ya llegó. "
        "Por favor llegue 5 minutos antes."
    )
    STAFF_NOTIFY_EMAIL: str = "staff@mindset-tms.example"
    # The video call address: a fixed room, or a template whose `{room}` becomes each
    # booking's own unguessable room. Empty: the clinic calls video patients with a link.
    VIDEO_URL: str = ""
    # Booking rules.
    BOOKING_MIN_NOTICE_HOURS: int = 12
    BOOKING_HORIZON_DAYS: int = 60
    BOOKING_MAX_ACTIVE_PER_EMAIL: int = 3
    BOOKING_MIN_FILL_SECONDS: int = 3
    REMINDER_HOURS_BEFORE: int = 24
    PHONE_DEFAULT_REGION: str = "US"
    # The waiting list (app/waitlist): entries, offers of freed slots.
    WAITLIST_ENTRY_DAYS: int = 30
    WAITLIST_OFFERS_PER_SLOT: int = 3
    WAITLIST_OFFER_HOURS: int = 2
    WAITLIST_MAX_OFFERS_PER_DAY: int = 3
    # Busy calendars (app/busy): staff calendars whose busy times hide overlapping slots.
    BUSY_SYNC_MINUTES: int = 10
    BUSY_FETCH_TIMEOUT_SECONDS: int = 20
    BUSY_MAX_FEED_BYTES: int = 5 * 1024 * 1024
    # One source's whole read (download, parse, expand) runs in a child process with these bounds.
    BUSY_SYNC_SECONDS: int = 60
    BUSY_SYNC_MEMORY_MB: int = 512
    BUSY_ALLOW_PRIVATE_ADDRESSES: bool = False
    # A Fernet key for sources' URLs and passwords; derived from SECRET_KEY when empty.
    BUSY_SECRET_KEY: str = ""
    # Mail. Without MAIL_SERVER, mail is captured locally (development).
    MAIL_SERVER: str = ""
    MAIL_PORT: int = 25
    MAIL_USERNAME: str = ""
    MAIL_PASSWORD: str = ""
    MAIL_USE_TLS: bool = False
    MAIL_USE_SSL: bool = False
    MAIL_TIMEOUT_SECONDS: int = 20
    MAIL_DEFAULT_SENDER: str = "Mindset TMS <bookings@mindset-tms.example>"
    MAIL_MAX_ATTEMPTS: int = 8
    # Where mail is written when there is no MAIL_SERVER (empty: instance/mail).
    MAIL_CAPTURE_DIR: str = ""
    # How long a worker holds a claimed message before another may retry it.
    MAIL_CLAIM_SECONDS: int = 300
    # Inbound mail (app/replies): calendar replies and other mail to the clinic, read from
    # an IMAP mailbox by the worker, or piped into `flask mail receive` by the mail server
    # (INBOUND_MAIL_ENABLED says that pipe is wired).
    IMAP_HOST: str = ""
    IMAP_PORT: int = 993
    IMAP_SSL: bool = True
    IMAP_USER: str = ""
    IMAP_PASSWORD: str = ""
    IMAP_FOLDER: str = "INBOX"
    IMAP_DONE_FOLDER: str = "Processed"
    IMAP_POLL_SECONDS: int = 60
    INBOUND_MAIL_ENABLED: bool = False
    # A "No" from the patient's calendar cancels the booking; off, it only flags it for staff.
    CALENDAR_REPLY_AUTO_CANCEL: bool = True
    # Text messages through a Twilio-compatible REST API; without an account and a sender
    # they are captured locally (MAIL_CAPTURE_DIR). Texts name the clinic by SMS_CLINIC_NAME,
    # which must carry no health words (they are read on lock screens).
    TWILIO_ACCOUNT_SID: str = ""
    TWILIO_AUTH_TOKEN: str = ""
    TWILIO_FROM_NUMBER: str = ""
    TWILIO_MESSAGING_SERVICE_SID: str = ""
    TWILIO_API_BASE: str = "https://api.twilio.com"
    SMS_TIMEOUT_SECONDS: int = 20
    SMS_CLINIC_NAME: str = "Mindset"
    # /dev/mail, the captured mail without sign-in: only when asked for (`make run` does),
    # and never in a production configuration (app.core.deploy_check.is_production).
    DEV_MAIL_VIEWER: bool = False
    # Rate limits: the in-memory store suits one process; use Redis for several.
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    RATELIMIT_KEY_PREFIX: str = "mindset"
    # Limits per client address (see app/core/ratelimits.py).
    RATELIMIT_BOOKING: str = "10 per minute;40 per hour"
    RATELIMIT_MANAGE: str = "30 per minute"
    RATELIMIT_TOKEN_LOOKUP: str = "60 per minute"  # noqa: S105 (a rate, not a password)
    RATELIMIT_API_READ: str = "300 per minute"
    # Staff sign-in.
    STAFF_IDLE_MINUTES: int = 30
    STAFF_SIGN_IN_RATE_LIMIT: str = "10 per minute"
    STAFF_LOCKOUT_ACCOUNT_FAILURES: int = 5
    STAFF_LOCKOUT_ADDRESS_FAILURES: int = 20
    STAFF_LOCKOUT_MINUTES: int = 15
    STAFF_PASSWORD_MIN_LENGTH: int = 12
    STAFF_ARGON2_TIME_COST: int = 3
    STAFF_ARGON2_MEMORY_KIB: int = 65536
    STAFF_ARGON2_PARALLELISM: int = 4
    # Serving. A form or JSON body larger than this is refused with 413 before it is
    # read (a booking is well under 4 KB).
    MAX_CONTENT_LENGTH: int = 64 * 1024
    # How long self-check answers kept (encrypted) for the booking form stay readable.
    SELF_CHECK_TTL_SECONDS: int = 2 * 3600
    LOG_FORMAT: str = "json"
    LOG_LEVEL: str = "INFO"
    PROXY_FIX_HOPS: int = 0
    SESSION_COOKIE_SECURE: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """The settings `environ` gives, each as its type; unset or empty: the default."""
        types = get_type_hints(cls)
        # Each value has its own field's type, read from the type hints at run time: a
        # per-key type the checker cannot follow through `**`, hence Any here.
        given: dict[str, Any] = {}
        for setting in fields(cls):
            raw = environ.get(setting.name)
            if raw is not None and raw.strip() != "":
                given[setting.name] = _parse(types[setting.name], raw)
        return cls(**given)


def _parse(kind: type, raw: str) -> str | int | bool:
    if kind is bool:
        return _bool(raw)
    if kind is int:
        return int(raw)
    return raw


@dataclass(frozen=True)
class Setting:
    """One setting's name and default, as `.env.example` and the deploy check list them."""

    name: str
    default: str | int | bool


def _setting(field: Field[Any]) -> Setting:
    """`field` as a Setting; every setting has a plain default (no factory)."""
    if not isinstance(field.default, str | int | bool):
        raise TypeError(f"setting {field.name} needs a str, int or bool default")
    return Setting(field.name, field.default)


SETTINGS: tuple[Setting, ...] = tuple(_setting(each) for each in fields(Settings))
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
        raw = "postgresql://" + raw[len("postgres://") :]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
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
    values: dict[str, Any] = asdict(Settings.from_environ(environ))
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
