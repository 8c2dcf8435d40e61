"""The files a deploy starts from: `.env.example` lists exactly the settings the app reads
(the fields of app/core/config.py Settings) and gunicorn.conf.py reads, with their defaults, and the
systemd units under deploy/ are valid (`systemd-analyze verify` where systemd is installed;
everywhere, a strict parse and the options they must carry)."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from app.core.config import Settings
from tests.conftest import ROOT

ENV_EXAMPLE = ROOT / ".env.example"
_LINE = re.compile(r"^(# )?([A-Z][A-Z0-9_]*)=(.*)$")
UNITS = {
    "mindset-web.service": "/opt/mindset/venv/bin/gunicorn -c gunicorn.conf.py wsgi:app",
    "mindset-worker.service": "/opt/mindset/venv/bin/flask --app wsgi worker",
}


def example_lines() -> list[tuple[bool, str, str]]:
    """(commented, name, value) for each setting line of .env.example."""
    found = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = _LINE.match(line)
        if match:
            found.append((bool(match.group(1)), match.group(2), match.group(3)))
    return found


def gunicorn_settings() -> set[str]:
    source = (ROOT / "gunicorn.conf.py").read_text()
    return set(re.findall(r"""(?:os\.environ\.get|_int_env)\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))


def shown(default: str | int | bool) -> str:
    return ("1" if default else "0") if isinstance(default, bool) else str(default)


def test_env_example_lists_every_setting_once():
    names = [name for _commented, name, _value in example_lines()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    read = {setting.name for setting in fields(Settings)} | gunicorn_settings()
    assert "WEB_CONCURRENCY" in read and "PUBLIC_BASE_URL" in read
    assert set(names) == read, {
        "not in .env.example": sorted(read - set(names)),
        "not read by the app": sorted(set(names) - read),
    }


def unquoted(value: str) -> str:
    return (shlex.split(value) or [""])[0]


def test_env_example_shows_the_defaults():
    defaults = {setting.name: shown(setting.default) for setting in fields(Settings)}
    wrong = {
        name: (value, defaults[name])
        for commented, name, value in example_lines()
        if commented and name in defaults and unquoted(value) != defaults[name]
    }
    assert wrong == {}


def test_env_example_reads_the_same_in_a_shell(tmp_path):
    """Every line uncommented and sourced by sh gives each value as written (systemd reads the
    same quoting)."""
    lines = [
        line[2:] if line.startswith("# ") and _LINE.match(line) else line
        for line in ENV_EXAMPLE.read_text().splitlines()
    ]
    (tmp_path / "all.env").write_text("\n".join(lines) + "\n")
    dump = "import json, os; print(json.dumps(dict(os.environ)))"
    result = subprocess.run(
        ["sh", "-c", f'set -a; . "{tmp_path / "all.env"}"; set +a; exec "$0" -c "$1"', sys.executable, dump],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert {name: seen.get(name, "") for _c, name, _v in example_lines()} == {
        name: unquoted(value) for _c, name, value in example_lines()
    }


def test_env_example_leaves_the_secrets_empty():
    values = {name: value for commented, name, value in example_lines() if not commented}
    assert values["SECRET_KEY"] == "" and values["MAIL_PASSWORD"] == ""
    assert values["PUBLIC_BASE_URL"].startswith("https://")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((ROOT / "deploy" / name).read_text(), source=name)
    return parser


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_carries_what_a_service_needs(name):
    parsed = unit(name)
    assert parsed.sections() == ["Unit", "Service", "Install"]
    service = parsed["Service"]
    assert service["ExecStart"] == UNITS[name]
    assert service["EnvironmentFile"] == "/etc/mindset/mindset.env"
    assert service["WorkingDirectory"] == "/opt/mindset/app"
    assert service["Restart"] == "on-failure"
    assert service["User"] not in ("", "root", "0")
    for option, value in {
        "NoNewPrivileges": "true",
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[option] == value, option
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_verifies_the_units(tmp_path):
    """With systemd-analyze present, the units as installed into this checkout verify cleanly
    (their install paths point at this checkout and its virtualenv, which exist here)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        # CI without systemd: the strict parse above is the check.
        assert all(unit(name).sections() for name in UNITS)
        return
    bin_dir = Path(sys.executable).parent
    paths = []
    for name in UNITS:
        text = (ROOT / "deploy" / name).read_text()
        text = text.replace("/opt/mindset/venv/bin", str(bin_dir)).replace("/opt/mindset/app", str(ROOT))
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    result = subprocess.run([analyze, "verify", *paths], capture_output=True, text=True, timeout=60)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "mindset-" in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr
