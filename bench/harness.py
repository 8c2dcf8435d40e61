"""What both benchmark commands share: bench databases, gunicorn and worker processes,
wrk runs, peak memory sampling, staff sign-in and result tables."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
LOOPBACK = "127.0.0.1"

# Settings for every bench server: limits that would turn a load test into a 429 test are off.
BENCH_SETTINGS = {
    "SECRET_KEY": "bench-secret-key",
    "RATELIMIT_ENABLED": "false",
    "BOOKING_MIN_FILL_SECONDS": "0",
    "BOOKING_MAX_ACTIVE_PER_EMAIL": "1000000",
    "MAIL_SERVER": "",
    "LOG_LEVEL": "WARNING",
}

STAFF_EMAIL = "bench.staff@mindset-tms.example"
# Sent both when signing in and by wrk, as a browser sends the same one all along (the
# session records which browser signed in; another one would mark it not fresh).
STAFF_USER_AGENT = "mindset-bench/1 (signed-in staff browser)"
STAFF_PASSWORD = "bench-Staff-passphrase-2931"


def interrupt_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so that `finally` blocks stop what we started."""
    def _raise(_signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _raise)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def bench_env(database_url: str, workers: int | None = None, **extra: str) -> dict[str, str]:
    env = {**os.environ, **BENCH_SETTINGS, "DATABASE_URL": database_url, **extra}
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    return env


def configured_workers(workers: int | None) -> int:
    """The worker count gunicorn.conf.py gives for this environment."""
    if workers:
        return workers
    import runpy

    return int(runpy.run_path(str(GUNICORN_CONF))["workers"])


# --- databases ---------------------------------------------------------------------------

@dataclass
class BenchDatabase:
    """A SQLite file in the work directory, or a dedicated schema on PostgreSQL."""

    url: str
    schema: str | None = None
    admin_url: str | None = None

    @property
    def kind(self) -> str:
        return "postgresql" if self.schema else "sqlite"

    def drop(self) -> None:
        if self.schema:
            _postgres_execute(self.admin_url, f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def _postgres_execute(admin_url: str, sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def bench_database(base_url: str | None, label: str, workdir: Path) -> BenchDatabase:
    """An empty database for `label`: SQLite by default, else a fresh PostgreSQL schema
    ("bench" for the large database, "bench_<label>" for the others; a search_path given
    in base_url's options replaces the "bench" prefix)."""
    if not base_url or base_url.startswith("sqlite"):
        path = workdir / f"{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return BenchDatabase(url=f"sqlite:///{path}")
    from sqlalchemy.engine import make_url

    from app.core.config import database_url

    url = make_url(database_url(base_url))
    options = url.query.get("options", "")
    match = re.search(r"-c\s*search_path=([A-Za-z0-9_]+)", options if isinstance(options, str) else "")
    prefix = match.group(1) if match else "bench"
    if not prefix.startswith("bench"):
        raise SystemExit(f"refusing to use schema {prefix!r}: bench schemas are dropped and "
                         "recreated, so their names must start with 'bench'")
    schema = prefix if label == "large" else f"{prefix}_{label}"
    admin = url.difference_update_query(["options"]).render_as_string(hide_password=False)
    _postgres_execute(admin, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    _postgres_execute(admin, f'CREATE SCHEMA "{schema}"')
    app_url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return BenchDatabase(url=app_url.render_as_string(hide_password=False), schema=schema,
                         admin_url=admin)


def make_app(database_url: str, **settings: str):
    """The real app on `database_url`, configured from the environment like the server."""
    os.environ.update({**BENCH_SETTINGS, "DATABASE_URL": database_url, **settings})
    from app import create_app

    return create_app()


def dispose_app(app) -> None:
    from app.core.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- processes ---------------------------------------------------------------------------

class Process:
    """A child process in its own session, stopped (with all it started) on stop()."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if self.running():
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(5)
            except ProcessLookupError:
                pass
        self._log.close()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Gunicorn(Process):
    """An app under gunicorn with the repository's production config."""

    def __init__(self, name: str, app_spec: str, env: dict[str, str], workdir: Path,
                 ready_path: str, pythonpath: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.ready_path = ready_path
        args = [PY, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "-b", f"{LOOPBACK}:{self.port}"]
        if pythonpath:
            args += ["--pythonpath", str(pythonpath)]
        args.append(app_spec)
        env = {**env, "PUBLIC_BASE_URL": self.url}
        super().__init__(name, args, env, workdir / f"{name}.log")

    def wait_ready(self, workers: int, timeout: float = 60) -> Gunicorn:
        """Until the app answers and all `workers` processes are forked (warm-ups then
        make each of them import and load everything before anything is measured)."""
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name}: gunicorn exited\n{self.log_tail()}")
            try:
                answered = requests.get(self.url + self.ready_path, timeout=2).status_code == 200
            except requests.RequestException:
                answered = False
            if answered and len(self.worker_pids()) >= workers:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: not ready within {timeout:.0f} s\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return children(self.pid)


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
        return found


def cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) used so far by a gunicorn master's workers, counting the
    workers already replaced (their time is in the master's cutime/cstime once reaped)."""
    tick = os.sysconf("SC_CLK_TCK")

    def fields(pid: int) -> list[str]:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return []

    total = 0
    master = fields(master_pid)
    if master:
        total += int(master[13]) + int(master[14])
    for child in children(master_pid):
        worker = fields(child)
        if worker:
            total += int(worker[11]) + int(worker[12])
    return total / tick


# --- memory ------------------------------------------------------------------------------

def peak_rss_kb(pid: int) -> int | None:
    """VmHWM: the process's peak resident set size so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemorySampler:
    """Samples the peak RSS of processes (a gunicorn master's workers, or a lone process)
    while the load runs, so that a worker recycled by max_requests still counts."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peaks: dict[str, dict[int, int]] = {}
        self._targets: dict[str, tuple[int, bool]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, label: str, pid: int, *, workers_of: bool) -> None:
        self._targets[label] = (pid, workers_of)
        self.peaks.setdefault(label, {})
        self.sample()

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def sample(self) -> None:
        for label, (pid, workers_of) in list(self._targets.items()):
            for target in (children(pid) if workers_of else [pid]):
                kb = peak_rss_kb(target)
                if kb:
                    peaks = self.peaks[label]
                    peaks[target] = max(kb, peaks.get(target, 0))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def peak_mb(self, label: str) -> float | None:
        values = self.peaks.get(label, {}).values()
        return max(values) / 1024 if values else None


# --- wrk ---------------------------------------------------------------------------------

@dataclass
class LoadResult:
    endpoint: str
    requests: int = 0
    duration_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    unavailable: str | None = None
    cpu_ms: float | None = None  # server CPU time per request, all workers together
    raw: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def served(self) -> int:
        """Requests the server answered: wrk's timeouts were still served (they count for CPU)."""
        return self.requests + self.errors.get("timeout", 0)

    @classmethod
    def combined(cls, endpoint: str, parts: list[LoadResult]) -> LoadResult:
        """Several runs of one endpoint as one: totals added up, p50 the median of theirs,
        p90/p99 and max the worst of theirs (percentiles cannot be merged exactly, so the
        tail is stated conservatively), CPU per request over all of them."""
        served = sum(p.served for p in parts)
        cpu_ms = (sum(p.cpu_ms * p.served for p in parts) / served
                  if served and all(p.cpu_ms is not None for p in parts) else None)
        errors: dict[str, int] = {}
        for part in parts:
            for kind, count in part.errors.items():
                errors[kind] = errors.get(kind, 0) + count
        p50s = sorted(p.p50_ms for p in parts)
        return cls(endpoint=endpoint, requests=sum(p.requests for p in parts),
                   duration_s=sum(p.duration_s for p in parts), errors=errors,
                   p50_ms=p50s[len(p50s) // 2] if p50s else 0.0,
                   p90_ms=max((p.p90_ms for p in parts), default=0.0),
                   p99_ms=max((p.p99_ms for p in parts), default=0.0),
                   max_ms=max((p.max_ms for p in parts), default=0.0), cpu_ms=cpu_ms,
                   raw="\n".join(p.raw for p in parts))

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error_text(self) -> str:
        if not self.error_count:
            return "0"
        parts = ", ".join(f"{k} {v}" for k, v in self.errors.items() if v)
        return f"{self.error_count} ({parts})"


def wrk(endpoint: str, url: str, *, duration: int, connections: int, threads: int,
        script: Path | None = None, script_args: list[str] | None = None,
        headers: list[str] | None = None) -> LoadResult:
    """Run wrk (bounded by -d, on loopback) and read the JSON line from report.lua."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError("load goes to 127.0.0.1 only")
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "2s",
            "--latency", "-s", str(script or BENCH / "report.lua")]
    for header in headers or []:
        args += ["-H", header]
    args.append(url)
    if script_args:
        args += ["--", *script_args]
    completed = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    output = completed.stdout + completed.stderr
    match = re.search(r"^BENCH_JSON (\{.*\})$", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed for {endpoint} (exit {completed.returncode}):\n{output}")
    data = json.loads(match.group(1))
    return LoadResult(
        endpoint=endpoint, requests=data["requests"], duration_s=data["duration_us"] / 1e6,
        errors={k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
        p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000, raw=output,
    )


# --- staff sign-in -----------------------------------------------------------------------

class _FormParser(HTMLParser):
    """The form that has a password field: its action and its inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action") or "", "inputs": []}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("name"):
            self._current["inputs"].append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def sign_in_fields(html: str, email: str, password: str) -> tuple[str, dict[str, str]] | None:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if not any(i.get("type") == "password" for i in form["inputs"]):
            continue
        fields: dict[str, str] = {}
        for item in form["inputs"]:
            name, kind = item["name"], (item.get("type") or "text").lower()
            if kind == "password":
                fields[name] = password
            elif kind == "email" or "email" in name:
                fields[name] = email
            elif kind in ("checkbox", "radio", "submit"):
                continue
            else:
                fields[name] = item.get("value") or ""
        return form["action"], fields
    return None


def create_staff_account(env: dict[str, str]) -> str | None:
    """Create the bench staff account with the CLI; None when done, else why not."""
    args = [PY, "-m", "flask", "--app", "wsgi", "staff", "create", "--email", STAFF_EMAIL,
            "--name", "Bench Staff", "--role", "staff", "--password", STAFF_PASSWORD]
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
    except subprocess.TimeoutExpired:
        return "`flask staff create` did not finish"
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"`flask staff create` failed: {last[0][:120]}"
    return None


def staff_cookie(base_url: str) -> tuple[str | None, str]:
    """Sign in through /staff/sign-in like a browser; the Cookie header value, or why not."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = STAFF_USER_AGENT
    sign_in = base_url + "/staff/sign-in"
    page = session.get(sign_in, timeout=10)
    if page.status_code != 200:
        return None, f"/staff/sign-in answered {page.status_code}"
    form = sign_in_fields(page.text, STAFF_EMAIL, STAFF_PASSWORD)
    if form is None:
        return None, "no sign-in form with a password field on /staff/sign-in"
    action, fields = form
    signed = session.post(urljoin(sign_in, action or sign_in), data=fields, timeout=30,
                          allow_redirects=False)
    listing = session.get(base_url + "/staff/bookings", timeout=10, allow_redirects=False)
    if listing.status_code != 200:
        return None, (f"sign-in answered {signed.status_code}, then /staff/bookings "
                      f"answered {listing.status_code}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return cookie, ""


# --- tables ------------------------------------------------------------------------------

def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_table(header: list[str], rows: list[list[str]]) -> tuple[str, str]:
    """The same table as aligned text (for the terminal) and as Markdown."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    numeric = [all(re.match(r"^[\d,.\-x ]+$", str(r[i]) or "-") for r in rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).rjust(w) if num else str(c).ljust(w)
                         for c, w, num in zip(cells, widths, numeric, strict=True)).rstrip()

    text = "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])
    md = "\n".join(["| " + " | ".join(header) + " |",
                    "| " + " | ".join("---:" if num else "---" for num in numeric) + " |",
                    *("| " + " | ".join(str(c) for c in r) + " |" for r in rows)])
    return text, md
