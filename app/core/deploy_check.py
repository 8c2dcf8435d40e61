"""Whether this configuration is fit to serve patients: the problems `flask check` prints,
the log names at start-up, /healthz reports (blockers) and the staff dashboard shows admins.

A blocker stops a deploy (`check` exits non-zero, /healthz answers 503); a warning does not.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app
from sqlalchemy import exists, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import DEFAULTS, GENERATED_SECRET_KEY
from app.core.extensions import db
from app.core.i18n import DOMAINS
from app.models import AvailabilityRule, DateOverride, Slot, utcnow

log = logging.getLogger("app.deploy")

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "translations" / "es" / "LC_MESSAGES"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
SECRET_KEY_MIN_LENGTH = 32
# Filesystems that put one file in reach of several hosts; SQLite's locks do not hold there.
NETWORK_FILESYSTEMS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "ceph",
    "glusterfs",
    "fuse.glusterfs",
    "fuse.sshfs",
    "afs",
    "lustre",
    "gpfs",
}


@dataclass(frozen=True)
class Problem:
    setting: str
    problem: str
    fix: str
    blocker: bool

    def as_dict(self) -> dict[str, str]:
        return {"setting": self.setting, "problem": self.problem, "fix": self.fix}


def is_production(config: Mapping[str, Any]) -> bool:
    """The one rule: served over https (by its public address or its secure cookies)."""
    scheme = urlsplit(str(config.get("PUBLIC_BASE_URL") or "")).scheme
    return scheme == "https" or bool(config.get("SESSION_COOKIE_SECURE"))


def dev_mail_viewer_enabled(config: Mapping[str, Any]) -> bool:
    """/dev/mail exists only when asked for, and never in production."""
    return bool(config.get("DEV_MAIL_VIEWER")) and not is_production(config)


def problems(config: Mapping[str, Any], *, production: bool | None = None) -> list[Problem]:
    """Everything wrong with `config`, blockers first. `production` (default: whether the
    configuration is a production one) adds the checks a deploy must pass."""
    if production is None:
        production = is_production(config)
    found = catalog_problems()
    if production:
        found += _production_problems(config)
    return sorted(found, key=lambda p: not p.blocker)


def schedule_problems(config: Mapping[str, Any]) -> list[Problem]:
    """The checks that read what the clinic offers from the database: run by `flask check`,
    not at start-up (the factory queries nothing)."""
    try:
        video_offered = offers_video()
    except SQLAlchemyError as error:
        db.session.rollback()
        return [
            Problem(
                "DATABASE_URL",
                f"could not be read to check the schedule ({type(error).__name__}).",
                "run `flask --app wsgi db upgrade`, then `flask --app wsgi check` again",
                blocker=False,
            )
        ]
    if video_offered and not config.get("VIDEO_URL"):
        return [
            Problem(
                "VIDEO_URL",
                "is not set while video consultations are offered: a video "
                "booking's emails, invite and page carry no call link (they say the clinic "
                "will call with it), so staff must phone each video patient with a link.",
                "set VIDEO_URL to the clinic's call address: a fixed room "
                "(VIDEO_URL=https://doxy.me/your-clinic) or a template whose {room} becomes "
                "each booking's own room (VIDEO_URL=https://meet.jit.si/your-clinic-{room}); "
                "or stop offering video calls in Opening hours",
                blocker=False,
            )
        ]
    return []


def offers_video() -> bool:
    """Whether video calls are on offer: a weekly opening rule, extra hours to come, or a
    time to come (open, or booked) offers them."""
    video = "%video%"
    now = utcnow()
    query = select(
        or_(
            exists().where(AvailabilityRule.modes.like(video)),
            exists().where(
                DateOverride.kind == "extra", DateOverride.on_date >= now.date(), DateOverride.modes.like(video)
            ),
            exists().where(Slot.starts_at > now, Slot.is_blocked.is_(False), Slot.modes.like(video)),
        )
    )
    return bool(db.session.execute(query).scalar())


def register(app: Flask) -> None:
    """Check the configuration once at start-up, and say what is wrong in the log."""
    found = problems(app.config)
    app.extensions["deploy_problems"] = found
    for problem in found:
        log.log(
            logging.ERROR if problem.blocker else logging.WARNING,
            "%s %s %s Fix: %s",
            "Blocker:" if problem.blocker else "Warning:",
            problem.setting,
            problem.problem,
            problem.fix,
        )


def found_at_start() -> list[Problem]:
    return current_app.extensions.get("deploy_problems", [])


# --- the checks ------------------------------------------------------------------------------


def catalog_problems() -> list[Problem]:
    found = []
    for domain in DOMAINS:
        po, mo = CATALOGS / f"{domain}.po", CATALOGS / f"{domain}.mo"
        name = f"translations/es/LC_MESSAGES/{domain}.mo"
        fix = f"run `make translations` (pybabel compile -d translations -D {domain} -l es) and restart"
        if not mo.exists():
            found.append(Problem(name, "is missing: Spanish pages are shown in English.", fix, blocker=True))
        elif not is_compiled_from(po, mo):
            found.append(
                Problem(name, f"does not match {domain}.po: Spanish pages show older text.", fix, blocker=True)
            )
    return found


def is_compiled_from(po: Path, mo: Path) -> bool:
    """Whether `mo` is what compiling `po` gives: at once when it is the newer file, else by
    comparing their messages (a fresh checkout writes them in any order)."""
    po_stat, mo_stat = po.stat(), mo.stat()
    if mo_stat.st_mtime_ns >= po_stat.st_mtime_ns:
        return True
    return _same_messages(po, mo, po_stat.st_mtime_ns, po_stat.st_size, mo_stat.st_mtime_ns, mo_stat.st_size)


@functools.lru_cache(maxsize=16)
def _same_messages(po: Path, mo: Path, *_file_versions: int) -> bool:
    return compiled_messages(po) == mo_messages(mo)


def compiled_messages(po: Path) -> dict:
    """The messages compiling `po` keeps (translated, not fuzzy), by (context, id)."""
    with open(po, "rb") as source:
        catalog = read_po(source, locale="es")
    return {
        (m.context, _plain(m.id)): _plain(m.string)
        for m in catalog
        if m.id and m.string and not m.fuzzy and (isinstance(m.string, str) or all(m.string))
    }


def mo_messages(mo: Path) -> dict:
    with open(mo, "rb") as source:
        catalog = read_mo(source)
    return {(m.context, _plain(m.id)): _plain(m.string) for m in catalog if m.id}


def _plain(text: str | list | tuple | None) -> str | tuple:
    if text is None:  # an untranslated entry
        return ""
    return text if isinstance(text, str) else tuple(text)


def _production_problems(config: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []

    def blocker(setting: str, problem: str, fix: str) -> None:
        found.append(Problem(setting, problem, fix, blocker=True))

    def warning(setting: str, problem: str, fix: str) -> None:
        found.append(Problem(setting, problem, fix, blocker=False))

    if not config.get("MAIL_SERVER"):
        blocker(
            "MAIL_SERVER",
            "is not set: no email leaves (confirmations, reminders and staff "
            "notices are only written to files on this machine).",
            "set MAIL_SERVER (and MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_USE_TLS), then "
            "try it with `flask --app wsgi mail test --to you@example.org`",
        )
    elif config.get("MAIL_USERNAME") and not (config.get("MAIL_USE_TLS") or config.get("MAIL_USE_SSL")):
        warning(
            "MAIL_USE_TLS",
            "is off while MAIL_USERNAME is set: the mail password crosses the network unencrypted.",
            "set MAIL_USE_TLS=1 (port 587) or MAIL_USE_SSL=1 (port 465)",
        )

    key = str(config.get("SECRET_KEY") or "")
    if GENERATED_SECRET_KEY.exists() and key == GENERATED_SECRET_KEY.read_text().strip():
        blocker(
            "SECRET_KEY",
            "is not set: a random key made on this host is used, so each host "
            "signs sessions differently and a new machine signs everyone out.",
            "set SECRET_KEY to the same long random value on every host: "
            'python3 -c "import secrets; print(secrets.token_hex(32))"',
        )
    elif len(key) < SECRET_KEY_MIN_LENGTH:
        blocker(
            "SECRET_KEY",
            f"is {len(key)} characters long: too short to keep sessions and "
            f"forms from being forged (at least {SECRET_KEY_MIN_LENGTH}).",
            'set a long random value: python3 -c "import secrets; print(secrets.token_hex(32))"',
        )

    for setting, what in (("CLINIC_STREET", "address"), ("CLINIC_PHONE", "phone number")):
        if config.get(setting) == DEFAULTS[setting]:
            blocker(
                setting,
                f"is the sample {what}: patients would be sent to it.",
                f"set {setting} to the clinic's own {what}",
            )
    for setting in ("CLINIC_EMAIL", "STAFF_NOTIFY_EMAIL", "MAIL_DEFAULT_SENDER", "CLINIC_ARRIVAL_NOTE"):
        if config.get(setting) == DEFAULTS[setting]:
            warning(setting, "is the sample value.", f"set {setting} to the clinic's own")

    public = urlsplit(str(config.get("PUBLIC_BASE_URL") or ""))
    if public.scheme != "https":
        blocker(
            "PUBLIC_BASE_URL",
            f"is {config.get('PUBLIC_BASE_URL')!r}: links in emails and invites would not use https.",
            "set PUBLIC_BASE_URL=https://<the address patients use>",
        )
    elif _is_loopback(public.hostname or ""):
        blocker(
            "PUBLIC_BASE_URL",
            f"is {config.get('PUBLIC_BASE_URL')!r}, an address only this "
            "machine can reach: links in emails would not work.",
            "set PUBLIC_BASE_URL=https://<the address patients use>",
        )
    elif not config.get("SESSION_COOKIE_SECURE"):
        warning(
            "SESSION_COOKIE_SECURE",
            "is off while the site is served over https: staff session cookies could be sent over plain http.",
            "set SESSION_COOKIE_SECURE=1",
        )
    if not config.get("PROXY_FIX_HOPS"):
        warning(
            "PROXY_FIX_HOPS",
            "is 0: behind the https proxy every client looks like the proxy "
            "(one rate limit for everyone) and requests look like http.",
            "set PROXY_FIX_HOPS to the number of proxies in front (usually 1)",
        )

    if config.get("RATELIMIT_ENABLED"):
        workers = web_workers()
        if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://") and workers > 1:
            blocker(
                "RATELIMIT_STORAGE_URI",
                f"is memory:// with {workers} gunicorn workers: each "
                f"keeps its own counts, so every limit is {workers} times too high.",
                "set RATELIMIT_STORAGE_URI=redis://<host>:6379/0 (or WEB_CONCURRENCY=1)",
            )
    else:
        warning(
            "RATELIMIT_ENABLED",
            "is off: booking and sign-in are not rate limited.",
            "remove RATELIMIT_ENABLED or set it to 1",
        )

    database = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if database.startswith("sqlite"):
        path = make_url(database).database
        if not path or path == ":memory:":
            blocker(
                "DATABASE_URL",
                "is an in-memory SQLite database: each process has its own, and everything is lost at restart.",
                "set DATABASE_URL=postgresql://...",
            )
        elif _filesystem_of(Path(path)) in NETWORK_FILESYSTEMS:
            blocker(
                "DATABASE_URL",
                f"is a SQLite file on a {_filesystem_of(Path(path))} share: "
                "SQLite's locks do not hold across hosts, so bookings can be lost or doubled.",
                "use PostgreSQL (DATABASE_URL=postgresql://...) for more than one host",
            )
        else:
            warning(
                "DATABASE_URL",
                "is a SQLite file: fine for one host, but every app host and worker must run on this machine.",
                "use PostgreSQL (DATABASE_URL=postgresql://...) before adding a second host",
            )

    video_url = str(config.get("VIDEO_URL") or "")
    if video_url and not video_url.startswith("https://"):
        warning(
            "VIDEO_URL",
            f"is {video_url!r}: patients are sent this address to join their "
            "call, and it does not start with https://.",
            "set VIDEO_URL to the call service's full https:// address",
        )

    if config.get("DEV_MAIL_VIEWER"):
        warning("DEV_MAIL_VIEWER", "is on, but /dev/mail is never served in production.", "remove DEV_MAIL_VIEWER")
    if config.get("BUSY_ALLOW_PRIVATE_ADDRESSES"):
        warning(
            "BUSY_ALLOW_PRIVATE_ADDRESSES",
            "is on: busy-calendar addresses may point into this network.",
            "turn it off unless the calendar server is on this network",
        )
    return found


def web_workers() -> int:
    """How many processes gunicorn.conf.py starts (WEB_CONCURRENCY, else its default)."""
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if raw:
        return int(raw)
    return int(runpy.run_path(str(GUNICORN_CONF)).get("workers", 1))


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _filesystem_of(path: Path) -> str:
    """The type of the filesystem holding `path` (from /proc/mounts; '' when unknown)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    target = str(path.resolve().parent)
    best, kind = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        if (target == point or target.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
            best, kind = point, fields[2]
    return kind
