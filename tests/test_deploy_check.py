"""Production safety: no /dev/mail in a production configuration, the deploy self-check
(`flask check`), and /healthz, the start-up log and the admin dashboard reporting the same."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

import pytest

from app.core import deploy_check
from app.core.config import DEFAULTS, load_config
from tests.conftest import ROOT, build_app, dispose
from tests.fixtures_staff import signed_in_client

PRODUCTION = {"PUBLIC_BASE_URL": "https://book.mindset-tms.org", "SESSION_COOKIE_SECURE": True}
# A configuration with nothing to block a deploy.
READY = {
    **PRODUCTION,
    "MAIL_SERVER": "smtp.mindset-tms.org",
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,
    "SECRET_KEY": "f" * 64,
    "CLINIC_STREET": "1010 8th Avenue, Suite 2",
    "CLINIC_PHONE": "+1 970-555-0188",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "PROXY_FIX_HOPS": 1,
}
MAKE_RUN = {"PUBLIC_BASE_URL": "http://127.0.0.1:5000", "DEV_MAIL_VIEWER": True, "MAIL_SERVER": ""}


@pytest.fixture
def make_app(sqlite_url):
    made = []

    def make(settings: dict):
        app = build_app(sqlite_url, settings)
        made.append(app)
        return app

    yield make
    for app in made:
        dispose(app)


def blockers(settings) -> dict[str, str]:
    """The blockers of the defaults with `settings` on top."""
    return {p.setting: p.problem for p in deploy_check.problems({**DEFAULTS, **settings}, production=True) if p.blocker}


def warnings(settings) -> set[str]:
    return {p.setting for p in deploy_check.problems({**DEFAULTS, **settings}, production=True) if not p.blocker}


# --- the dev mail viewer -----------------------------------------------------------------


def test_https_without_mail_server_has_no_mail_viewer_and_an_unhealthy_healthz(make_app):
    app = make_app({**PRODUCTION, "SESSION_COOKIE_SECURE": False, "DEV_MAIL_VIEWER": True, "MAIL_SERVER": ""})
    client = app.test_client()
    assert client.get("/dev/mail/").status_code == 404
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "misconfigured" and body["database"] == "ok"
    assert "MAIL_SERVER" in [problem["setting"] for problem in body["blockers"]]


def test_a_ready_production_configuration_is_healthy(make_app):
    client = make_app({**READY, "RATELIMIT_ENABLED": False}).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert client.get("/dev/mail/").status_code == 404


def test_secure_cookies_alone_make_a_production_configuration(make_app):
    app = make_app({**MAKE_RUN, "SESSION_COOKIE_SECURE": True})
    assert app.test_client().get("/dev/mail/").status_code == 404


def test_make_run_settings_serve_the_mail_viewer_and_a_healthy_healthz(make_app):
    client = make_app(MAKE_RUN).test_client()
    assert client.get("/dev/mail/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_the_mail_viewer_is_off_unless_asked_for(make_app, monkeypatch):
    monkeypatch.delenv("DEV_MAIL_VIEWER", raising=False)
    monkeypatch.delenv("MAIL_SERVER", raising=False)
    assert load_config()["DEV_MAIL_VIEWER"] is False
    monkeypatch.setenv("DEV_MAIL_VIEWER", "1")
    assert load_config()["DEV_MAIL_VIEWER"] is True
    client = make_app({"PUBLIC_BASE_URL": "http://127.0.0.1:5000", "DEV_MAIL_VIEWER": False}).test_client()
    assert client.get("/dev/mail/").status_code == 404


def test_makefile_run_turns_the_viewer_on():
    makefile = (ROOT / "Makefile").read_text()
    assert "run: export DEV_MAIL_VIEWER ?= 1" in makefile


def test_start_up_log_names_each_blocker(sqlite_url, caplog):
    with caplog.at_level(logging.WARNING, logger="app.deploy"):
        app = build_app(sqlite_url, {**READY, "MAIL_SERVER": "", "SECRET_KEY": "short"})
    dispose(app)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("MAIL_SERVER" in line and "Fix: set MAIL_SERVER" in line for line in errors), errors
    assert any("SECRET_KEY" in line and "5 characters" in line for line in errors), errors


def test_a_development_run_logs_nothing(sqlite_url, caplog):
    with caplog.at_level(logging.WARNING, logger="app.deploy"):
        app = build_app(sqlite_url, MAKE_RUN)
    dispose(app)
    assert [r for r in caplog.records if r.name == "app.deploy"] == []


# --- the checks --------------------------------------------------------------------------


def test_a_ready_configuration_has_no_blockers():
    assert blockers(READY) == {}
    assert warnings(READY) >= {"CLINIC_EMAIL", "MAIL_DEFAULT_SENDER"}  # sample values, not blockers


@pytest.mark.parametrize(
    ("change", "setting", "words"),
    [
        ({"MAIL_SERVER": ""}, "MAIL_SERVER", "no email leaves"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY", "31 characters"),
        ({"CLINIC_STREET": DEFAULTS["CLINIC_STREET"]}, "CLINIC_STREET", "sample address"),
        ({"CLINIC_PHONE": DEFAULTS["CLINIC_PHONE"]}, "CLINIC_PHONE", "sample phone"),
        ({"PUBLIC_BASE_URL": "http://book.mindset-tms.org"}, "PUBLIC_BASE_URL", "https"),
        ({"PUBLIC_BASE_URL": "https://127.0.0.1:8443"}, "PUBLIC_BASE_URL", "only this machine"),
        ({"PUBLIC_BASE_URL": "https://localhost"}, "PUBLIC_BASE_URL", "only this machine"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, "DATABASE_URL", "in-memory"),
    ],
)
def test_each_blocker(change, setting, words):
    found = blockers({**READY, **change})
    assert list(found) == [setting] and words in found[setting]


def test_the_generated_secret_key_blocks(tmp_path, monkeypatch):
    key_file = tmp_path / "secret_key"
    key_file.write_text("a" * 64 + "\n")
    monkeypatch.setattr(deploy_check, "GENERATED_SECRET_KEY", key_file)
    assert "random key" in blockers({**READY, "SECRET_KEY": "a" * 64})["SECRET_KEY"]
    assert blockers({**READY, "SECRET_KEY": "b" * 64}) == {}


def test_memory_rate_limits_block_with_more_than_one_worker(monkeypatch):
    settings = {**READY, "RATELIMIT_STORAGE_URI": "memory://"}
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert "4 gunicorn workers" in blockers(settings)["RATELIMIT_STORAGE_URI"]
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert blockers(settings) == {}
    monkeypatch.delenv("WEB_CONCURRENCY")  # gunicorn.conf.py's own count: 2 x cores + 1, at least 3
    assert deploy_check.web_workers() >= 3 and "RATELIMIT_STORAGE_URI" in blockers(settings)
    assert blockers({**settings, "RATELIMIT_ENABLED": False}) == {}
    assert "RATELIMIT_ENABLED" in warnings({**settings, "RATELIMIT_ENABLED": False})


def test_sqlite_is_a_warning_on_one_host_and_a_blocker_on_a_network_share(tmp_path, monkeypatch):
    settings = {**READY, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'mindset.db'}"}
    assert blockers(settings) == {} and "DATABASE_URL" in warnings(settings)
    # Fault injection: no NFS here, so the file's filesystem is reported as one.
    monkeypatch.setattr(deploy_check, "_filesystem_of", lambda path: "nfs4")
    assert "nfs4 share" in blockers(settings)["DATABASE_URL"]


def test_filesystem_of_reads_the_mount_table(tmp_path):
    assert deploy_check._filesystem_of(tmp_path / "x.db") not in ("", None)


def test_warnings_for_https_details():
    found = warnings(
        {
            **READY,
            "SESSION_COOKIE_SECURE": False,
            "PROXY_FIX_HOPS": 0,
            "DEV_MAIL_VIEWER": True,
            "MAIL_USERNAME": "clinic",
            "MAIL_USE_TLS": False,
        }
    )
    assert {"SESSION_COOKIE_SECURE", "PROXY_FIX_HOPS", "DEV_MAIL_VIEWER", "MAIL_USE_TLS"} <= found


def test_missing_or_stale_catalogs_block_everywhere(tmp_path, monkeypatch, make_app):
    catalogs = tmp_path / "LC_MESSAGES"
    shutil.copytree(deploy_check.CATALOGS, catalogs)
    monkeypatch.setattr(deploy_check, "CATALOGS", catalogs)
    assert deploy_check.catalog_problems() == []
    (catalogs / "site.mo").unlink()
    po = catalogs / "booking.po"
    po.write_text(po.read_text().replace('msgstr "Reservar', 'msgstr "Reserve', 1))
    found = {p.setting: p.problem for p in deploy_check.catalog_problems()}
    assert found == {
        "translations/es/LC_MESSAGES/site.mo": "is missing: Spanish pages are shown in English.",
        "translations/es/LC_MESSAGES/booking.mo": "does not match booking.po: Spanish pages show older text.",
    }
    app = make_app(MAKE_RUN)  # a development run too
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert {p["setting"] for p in response.get_json()["blockers"]} == set(found)


def test_a_fresh_checkout_order_of_files_is_not_stale(tmp_path):
    po, mo = tmp_path / "site.po", tmp_path / "site.mo"
    shutil.copy(deploy_check.CATALOGS / "site.mo", mo)
    shutil.copy(deploy_check.CATALOGS / "site.po", po)
    os.utime(mo, ns=(1_000_000_000, 1_000_000_000))  # the .mo written first
    assert deploy_check.is_compiled_from(po, mo)


# --- the command ---------------------------------------------------------------------------


def test_check_command_prints_each_problem_with_its_fix(make_app):
    result = make_app({**READY, "MAIL_SERVER": ""}).test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert "BLOCKER  MAIL_SERVER is not set" in result.output
    assert "fix: set MAIL_SERVER" in result.output
    assert "1 blocker, " in result.output


def test_check_command_passes_a_ready_configuration(make_app):
    result = make_app(READY).test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "0 blockers" in result.output and "warning  CLINIC_EMAIL" in result.output


def test_check_command_as_an_operator_runs_it(tmp_path):
    """`flask --app wsgi check` with an https address, a real key and no MAIL_SERVER."""
    env = {
        **os.environ,
        "PUBLIC_BASE_URL": "https://book.mindset-tms.org",
        "SECRET_KEY": "k" * 64,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mindset.db'}",
        "MAIL_SERVER": "",
        "LOG_FORMAT": "text",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "BLOCKER  MAIL_SERVER" in result.stdout
    assert "SECRET_KEY" not in result.stdout
    assert "Blocker: MAIL_SERVER" in result.stderr  # and the start-up log said so


# --- video calls offered without a call address -----------------------------------------


@pytest.fixture
def schedule_app(database_url):
    """A ready production configuration on SQLite and on PostgreSQL, to give a schedule."""
    app = build_app(database_url, READY)
    yield app
    dispose(app)


def offer(app, *, rule_modes: str | None = None, slot_modes: str | None = None, slot_days: int = 3) -> None:
    from datetime import UTC, datetime, time, timedelta

    from app.core.database import write_transaction
    from app.models import AvailabilityRule, Slot

    with app.app_context(), write_transaction() as session:
        if rule_modes is not None:
            session.add(AvailabilityRule(weekday=1, start_time=time(9), end_time=time(12), modes=rule_modes))
        if slot_modes is not None:
            starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=slot_days)
            session.add(Slot(starts_at=starts, ends_at=starts + timedelta(minutes=30), modes=slot_modes))


def check_output(app) -> str:
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output  # a warning never stops a deploy
    return result.output


def test_video_offered_without_video_url_is_a_warning_with_its_fix(schedule_app):
    assert "VIDEO_URL" not in check_output(schedule_app)  # nothing offered yet
    offer(schedule_app, rule_modes="in_person,phone,video")
    output = check_output(schedule_app)
    assert "warning  VIDEO_URL is not set while video consultations are offered" in output
    assert "fix: set VIDEO_URL to the clinic's call address" in output and "{room}" in output


def test_a_time_to_come_offering_video_counts_and_a_past_one_does_not(schedule_app):
    offer(schedule_app, slot_modes="phone,video", slot_days=-2)
    assert "VIDEO_URL" not in check_output(schedule_app)
    offer(schedule_app, slot_modes="video", slot_days=2)
    assert "warning  VIDEO_URL" in check_output(schedule_app)


def test_no_warning_when_video_is_not_offered_or_has_an_address(schedule_app):
    offer(schedule_app, rule_modes="in_person,phone", slot_modes="in_person")
    assert "VIDEO_URL" not in check_output(schedule_app)
    offer(schedule_app, rule_modes="video")
    schedule_app.config["VIDEO_URL"] = "https://meet.jit.si/mindset-{room}"
    assert "VIDEO_URL" not in check_output(schedule_app)


def test_a_video_url_that_is_not_https_is_a_warning():
    assert "VIDEO_URL" in warnings({**READY, "VIDEO_URL": "http://doxy.me/mindset"})
    assert "VIDEO_URL" not in warnings({**READY, "VIDEO_URL": "https://doxy.me/mindset"})


def test_a_database_without_tables_is_said_not_a_crash(tmp_path):
    from app import create_app
    from tests.conftest import _overrides

    app = create_app(_overrides(f"sqlite:///{tmp_path / 'empty.db'}", READY))
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "warning  DATABASE_URL could not be read to check the schedule" in result.output
    dispose(app)


# --- the staff dashboard -------------------------------------------------------------------


def test_admins_see_the_problems_on_the_dashboard(make_app):
    # (Cookies over http in the test client: the secure flag stays off, the address is https.)
    app = make_app({**READY, "MAIL_SERVER": "", "SESSION_COOKIE_SECURE": False})
    admin = signed_in_client(app, "ada@mindset-tms.org", role="admin").get("/staff/").get_data(as_text=True)
    assert "Settings to fix" in admin and "<code>MAIL_SERVER</code> is not set" in admin
    assert "Warning:</strong> <code>CLINIC_EMAIL</code>" in admin
    staff = signed_in_client(app, "sam@mindset-tms.org").get("/staff/").get_data(as_text=True)
    assert "Settings to fix" not in staff


def test_no_problems_no_notice(make_app):
    app = make_app(MAKE_RUN)
    page = signed_in_client(app, "ada@mindset-tms.org", role="admin").get("/staff/").get_data(as_text=True)
    assert "Settings to fix" not in page
