"""Shared fixtures: a database per test with only the schema and seeded rows (a copied SQLite
file, or a PostgreSQL schema emptied after the test before it), the app and client on it,
factories, a live gunicorn server and a real browser."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.core.actors import THE_PATIENT
from tests.busy_helpers import feeds  # noqa: E402,F401  (a fixture: a feed server on loopback)
from tests.fixtures_mail import *  # noqa: E402,F403
from tests.fixtures_sms import *  # noqa: E402,F403
from tests.fixtures_staff import *  # noqa: E402,F403

ROOT = Path(__file__).resolve().parent.parent

# Property tests judge what the code does, never how fast a busy machine draws examples.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")
DENVER = ZoneInfo("America/Denver")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]

# Settings every test app and live server gets, unless a test overrides them.
TEST_SETTINGS = {
    "SECRET_KEY": "test-secret-key",
    "BOOKING_MIN_FILL_SECONDS": "0",
    "RATELIMIT_ENABLED": "false",
    "MAIL_SERVER": "",
    "PUBLIC_BASE_URL": "http://localhost",
    # Light password hashing: the production cost (3 passes over 64 MiB, about 130 ms here)
    # paid at every account made and every sign-in would be a minute of the suite.
    # tests/test_staff_auth.py checks the production parameters themselves.
    "STAFF_ARGON2_TIME_COST": "1",
    "STAFF_ARGON2_MEMORY_KIB": "1024",
    "STAFF_ARGON2_PARALLELISM": "1",
}


# --- databases -------------------------------------------------------------------------

_postgres_reason: str | None = None


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else the reason it cannot be used."""
    global _postgres_reason
    if _postgres_reason is None:
        try:
            engine = create_engine(POSTGRES_ADMIN_URL)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _postgres_reason = ""
        except Exception as error:  # noqa: BLE001
            _postgres_reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(error).__name__}"
    return _postgres_reason or None


@pytest.fixture(scope="session")
def prepared_sqlite(tmp_path_factory) -> Path:
    """A SQLite file with the schema and the seeded rows, built once per test process: each
    test copies it (a millisecond) instead of building its own (about 100 ms)."""
    path = tmp_path_factory.mktemp("prepared") / "prepared.db"
    dispose(build_app(f"sqlite:///{path}"))
    return path


@pytest.fixture
def sqlite_url(request, tmp_path: Path, prepared_sqlite: Path) -> str:
    """A new SQLite file with the schema and seeded rows; for a test on the module's live
    server, that server's file emptied."""
    if "live_server" in request.fixturenames:
        url = request.getfixturevalue("module_server").database_url
        reset_database(url)
        return url
    path = tmp_path / "test.db"
    shutil.copyfile(prepared_sqlite, path)
    return f"sqlite:///{path}"


def _schema_url(schema: str) -> str:
    return (
        make_url(POSTGRES_ADMIN_URL)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@dataclass
class Schemas:
    """The PostgreSQL schemas of one test process: each made once, reused after `reset_database`
    (building one costs about 0.4 s of DDL, emptying it 0.02 s), all dropped at the end."""

    admin: Engine
    made: list[str] = field(default_factory=list)
    free: list[str] = field(default_factory=list)

    def new(self) -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.made.append(schema)
        return schema

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for schema in self.made:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_schemas() -> Iterator[Schemas]:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    schemas = Schemas(create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT"))
    yield schemas
    schemas.drop_all()


@pytest.fixture
def postgres_url(postgres_schemas: Schemas) -> Iterator[str]:
    """A PostgreSQL schema with the tables and seeded rows and nothing else."""
    if postgres_schemas.free:
        schema = postgres_schemas.free.pop()
    else:
        schema = postgres_schemas.new()
        dispose(build_app(_schema_url(schema)))
    yield _schema_url(schema)
    try:
        reset_database(_schema_url(schema))
    except Exception:  # noqa: BLE001  (a lock a test left behind: the schema waits for the final drop)
        return
    postgres_schemas.free.append(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """Runs the test once on a SQLite file and once on a PostgreSQL database."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, SQLite and then PostgreSQL: for the migrations,
    which build the schema themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    yield _schema_url(request.getfixturevalue("postgres_schemas").new())


def _overrides(url: str, extra: dict | None = None) -> dict:
    from app.core.config import _bool

    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "TESTING": True,
        "SECRET_KEY": TEST_SETTINGS["SECRET_KEY"],
        "BOOKING_MIN_FILL_SECONDS": 0,
        "RATELIMIT_ENABLED": _bool(TEST_SETTINGS["RATELIMIT_ENABLED"]),
        "MAIL_SERVER": "",
        "SERVER_NAME": None,
        "PUBLIC_BASE_URL": TEST_SETTINGS["PUBLIC_BASE_URL"],
        **{name: int(value) for name, value in TEST_SETTINGS.items() if name.startswith("STAFF_ARGON2_")},
    }
    settings.update(extra or {})
    return settings


# Each test builds its own app, and compiling its templates anew cost a fifth of a test's time:
# the test process compiles each template once (Jinja compares the source with what it compiled).
COMPILED_TEMPLATES = FileSystemBytecodeCache(tempfile.mkdtemp(prefix="mindset-templates-"))
atexit.register(shutil.rmtree, COMPILED_TEMPLATES.directory, ignore_errors=True)


def build_app(url: str, extra: dict | None = None):
    from app import create_app
    from app.core.database import write_transaction
    from app.core.extensions import db
    from app.schedule.seed import seed_schedule

    app = create_app(_overrides(url, extra))
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    with app.app_context():
        db.create_all()
        # The rows migration 0018 writes in production (chairs, appointment types, templates).
        with write_transaction() as session:
            seed_schedule(session)
    return app


def dispose(app) -> None:
    from app.core.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_settings() -> dict:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
def app(sqlite_url, app_settings):
    app = build_app(sqlite_url, app_settings)
    yield app
    dispose(app)


@pytest.fixture
def any_app(database_url, app_settings):
    """The app on SQLite and on PostgreSQL (the test runs twice)."""
    app = build_app(database_url, app_settings)
    yield app
    dispose(app)


@pytest.fixture
def ctx(app):
    """The app with its context pushed for the whole test (factories and services need it).
    A module that runs on both databases overrides `app` with `any_app`."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


# --- factories -------------------------------------------------------------------------


def local_dt(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DENVER).astimezone(UTC)


def future_day(days_ahead: int = 3) -> date:
    return (datetime.now(DENVER) + timedelta(days=days_ahead)).date()


_slot_counter = [0]


def make_slot(starts_at: datetime | None = None, minutes: int = 30, modes: str = "in_person,phone,video", **fields):
    """A slot (in its own committed transaction). Defaults to a distinct time a few days ahead."""
    from app.core.database import write_transaction
    from app.models import Slot

    if starts_at is None:
        _slot_counter[0] += 1
        # Distinct within any one test's database; wraps so a long suite stays inside the horizon.
        starts_at = local_dt(future_day(3), 9) + timedelta(minutes=30 * (_slot_counter[0] % 1000))
    with write_transaction() as session:
        slot = Slot(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), modes=modes, **fields)
        session.add(slot)
    return slot


def patient(**fields):
    from app.booking.service import PatientDetails

    values = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+19705550123",
        "interest": "tms",
        "note": "",
    }
    values.update(fields)
    return PatientDetails(**values)


def make_booking(slot=None, mode: str = "phone", **fields):
    """A booking made through the service, its columns and slot loaded, so a test may still
    read them after its app context has ended."""
    from app.booking import service
    from app.core.extensions import db

    slot = slot or make_slot()
    result = service.book(slot.public_id, mode, patient(**fields), actor=THE_PATIENT)
    db.session.refresh(result.booking)
    db.session.refresh(result.booking.slot)
    return result


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


BOOKING_FORM = {
    "mode": "phone",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "970-555-0123",
    "interest": "tms",
    "note": "",
    "consent": "y",
}


def booking_form(html: str, **fields) -> dict:
    """The booking form's fields as a browser would send them, with the page's hidden values."""
    data = dict(BOOKING_FORM, csrf_token=csrf_token(html))
    for name in ("slot_id", "started"):
        match = re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
        if match:
            data[name] = match.group(1)
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


# --- live server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The app under gunicorn in its own processes, configured only through the environment.

    The listening socket is bound here and handed to gunicorn (`fd://`), so no other process
    (another xdist worker) can take the port between choosing it and serving on it, and a
    request made before gunicorn is ready waits in the socket's queue instead of being refused.
    `production_config` runs gunicorn.conf.py as deployed (workers from WEB_CONCURRENCY)."""

    def __init__(
        self,
        database_url: str,
        workers: int = 2,
        threads: int = 4,
        env: dict | None = None,
        production_config: bool = False,
    ):
        self.database_url = database_url
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **TEST_SETTINGS,
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": self.url,
            **(env or {}),
        }
        bind = ["-b", f"fd://{self.socket.fileno()}"]
        if production_config:
            self.args = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *bind, "wsgi:app"]
        else:
            self.args = [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "--threads",
                str(threads),
                *bind,
                "--timeout",
                "60",
                "--log-level",
                "warning",
                "wsgi:app",
            ]
        self.process: subprocess.Popen | None = None

    def start(self) -> LiveServer:
        import requests

        # Its own session (process group), so stop() ends the master and its workers together.
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, pass_fds=[self.socket.fileno()], start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.socket.close()
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                # The socket already listens: this waits in its queue until a worker answers.
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
        self.stop()
        raise RuntimeError("gunicorn did not become healthy within 60 s")

    def stop(self, graceful: bool = False) -> None:
        """Kill gunicorn and its workers at once: a test server holds nothing worth a graceful
        stop, which costs seconds (each process tearing down a full interpreter). `graceful`
        lets workers finish and flush what they write, for a test that reads gunicorn's logs."""
        if self.process and self.process.poll() is None:
            if graceful:
                self.process.terminate()
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    pass
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.socket.close()


def reset_database(url: str) -> None:
    """Bring a test database back to a just-built one, in one transaction: every row deleted,
    PostgreSQL's id sequences restarted, the seeded rows (chairs, types, templates) added."""
    from app import models  # noqa: F401  (every table in the metadata)
    from app.core.extensions import db
    from app.schedule.seed import seed_schedule

    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    with Session(engine) as session, session.begin():
        if engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL lock_timeout = '10s'"))
        for table in reversed(db.metadata.sorted_tables):
            session.execute(table.delete())
        if engine.dialect.name == "postgresql":
            session.execute(
                text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c "
                    "WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
                )
            )
        seed_schedule(session)
    engine.dispose()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One gunicorn for the whole module, on one SQLite file: starting one costs seconds, so
    the module's tests share it and each gets the file emptied (see `sqlite_url`)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    dispose(build_app(url))
    server = LiveServer(url).start()
    yield server
    server.stop()


@pytest.fixture
def live_server(app, module_server):
    """gunicorn serving the same SQLite file the `app` fixture uses (emptied for each test)."""
    return module_server


# --- browser -------------------------------------------------------------------------------


def chromium_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"chromium not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/Denver")
    page = context.new_page()
    yield page
    context.close()


def tab_to(page, predicate: str, limit: int = 80) -> None:
    """Press Tab until the focused element satisfies a JS predicate over `el`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate}); }})()"):
            return
    raise AssertionError(f"could not reach an element matching {predicate} with Tab")


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, timezone_id="America/New_York"
    )
    page = context.new_page()
    yield page
    context.close()


# --- CI: no skips ------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With REQUIRE_ALL_TESTS=1 (set by .ci/run) a skipped test fails: CI must run every test."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("REQUIRE_ALL_TESTS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but REQUIRE_ALL_TESTS=1 requires every test to run: {reason}"


# --- xdist: what runs in parallel --------------------------------------------------------

# Modules run one after another on one xdist worker (`make test` runs `-n auto --dist loadgroup`):
# they drive chromium or race several gunicorn or mail-worker processes, and side by side they
# would only starve each other. Every other test is spread over the workers one by one.
SERIAL_MODULES = frozenset(
    {
        "test_accessibility.py",
        "test_booking_figures.py",
        "test_browser_booking.py",
        "test_browser_pages.py",
        "test_browser_phone.py",
        "test_lighthouse.py",
        "test_manage_pages.py",
        "test_staff_browser.py",
        "test_staff_day_sheet.py",
        "test_browser_course.py",
        "test_browser_courses.py",  # chromium
        "test_concurrency.py",
        "test_races.py",
        "test_freshness.py",
        "test_scale_out.py",  # gunicorn races
        "test_course_races.py",  # planning processes
        "test_mail_worker.py",  # worker processes
    }
)
SERIAL_MARKERS = ("browser", "slow")
SERIAL_FIXTURES = ("browser", "live_server")


def pytest_collection_modifyitems(config, items):
    """A test that drives chromium or is marked slow must sit in a module of SERIAL_MODULES."""
    stray = sorted(
        {
            item.path.name
            for item in items
            if item.path.name not in SERIAL_MODULES
            and (
                any(item.get_closest_marker(name) for name in SERIAL_MARKERS)
                or any(name in getattr(item, "fixturenames", ()) for name in SERIAL_FIXTURES)
            )
        }
    )
    if stray:
        raise pytest.UsageError(
            f"{', '.join(stray)}: browser or slow tests; add them to SERIAL_MODULES in tests/conftest.py"
        )


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` with SERIAL_MODULES as the one group. (xdist's own loadgroup reads the
    group from a suffix it writes into each test's node id, which pytest 9.2 no longer keeps:
    pytest-xdist issue 1386.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SerialModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "serial" if nodeid.split("::")[0].rsplit("/", 1)[-1] in SERIAL_MODULES else nodeid

    return SerialModules(config, log)
