"""What bench/run.py and bench/scale.py share: bench databases, gunicorn servers, wrk runs,
the staff sign-in and Markdown tables."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PY = sys.executable
sys.path.insert(0, str(ROOT))

# Limits that would turn a load test into a 429 test are off; mail is queued, not sent.
SETTINGS = {
    "SECRET_KEY": "bench-secret-key",
    "RATELIMIT_ENABLED": "false",
    "BOOKING_MIN_FILL_SECONDS": "0",
    "BOOKING_MAX_ACTIVE_PER_EMAIL": "1000000",
    "MAIL_SERVER": "",
    "LOG_LEVEL": "WARNING",
}
STAFF = ("bench.staff@mindset-tms.example", "bench-Staff-passphrase-2931")
USER_AGENT = "mindset-bench/1"  # the same at sign-in and in wrk, as one browser would send


def stop_on_sigterm() -> None:
    """SIGTERM becomes KeyboardInterrupt, so `finally` blocks stop the servers and drop schemas."""

    def _raise(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


class Database:
    """A SQLite file in `workdir`, or with `base_url` a PostgreSQL schema made for the run."""

    def __init__(self, base_url: str | None, name: str, workdir: Path) -> None:
        self.schema = self.admin = None
        if not base_url or base_url.startswith("sqlite"):
            self.kind, self.url = "sqlite", f"sqlite:///{workdir / name}.db"
            return
        from sqlalchemy.engine import make_url

        from app.core.config import database_url

        url = make_url(database_url(base_url))
        self.kind, self.schema = "postgresql", f"bench_{name}_{os.getpid()}"
        self.admin = url.render_as_string(hide_password=False)
        self._execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE', f'CREATE SCHEMA "{self.schema}"')
        self.url = url.update_query_dict({"options": f"-csearch_path={self.schema}"}).render_as_string(
            hide_password=False
        )

    def _execute(self, *statements: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
        engine.dispose()

    def drop(self) -> None:
        if self.schema:
            self._execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def app(self):
        """The real app on this database, configured from the environment as the server is."""
        os.environ.update({**SETTINGS, "DATABASE_URL": self.url})
        from app import create_app

        return create_app()


class Server:
    """`gunicorn -c gunicorn.conf.py` on a free loopback port, in its own process group."""

    def __init__(self, app_spec: str, database: Database, log: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **SETTINGS, "DATABASE_URL": database.url, "PUBLIC_BASE_URL": self.url}
        self.log = log
        self.process = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "-b",
                f"127.0.0.1:{port}",
                "--pythonpath",
                str(BENCH),
                app_spec,
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, path: str, timeout: float = 60) -> Server:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if requests.get(self.url + path, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)


def wrk(
    url: str,
    seconds: int,
    connections: int = 32,
    threads: int = 2,
    post_ids: Path | None = None,
    headers: tuple[str, ...] = (),
) -> dict:
    """One wrk run through bench.lua: requests, req/s, errors (socket errors, timeouts and
    non-2xx answers) and latency (mean, p50, p99) in ms."""
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "2s",
        "-s",
        str(BENCH / "bench.lua"),
    ]
    for header in headers:
        args += ["-H", header]
    args.append(url)
    if post_ids:
        args += ["--", str(post_ids), str(threads)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60).stdout
    match = re.search(r"^BENCH_JSON (\{.*\})$", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk failed on {url}:\n{out}")
    data = json.loads(match.group(1))
    # The server still answers requests queued when wrk stopped: let it finish them, so they
    # do not weigh on the next run (about one mean latency; wrk's timeout at most).
    time.sleep(min(2.0, data["mean_us"] / 1e6))
    return {
        "requests": data["requests"],
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "errors": data["errors"],
        **{k: data[k + "_us"] / 1000 for k in ("mean", "p50", "p99")},
    }


def staff_headers(server: Server) -> tuple[str, ...]:
    """Make the staff account with `flask staff create`, sign in through /staff/sign-in with
    its CSRF token, and return the headers wrk sends as that signed-in browser."""
    import requests

    email, password = STAFF
    subprocess.run(
        [
            PY,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "staff",
            "create",
            "--email",
            email,
            "--name",
            "Bench Staff",
            "--password",
            password,
        ],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(server.url + "/staff/sign-in", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    session.post(
        server.url + "/staff/sign-in",
        timeout=30,
        allow_redirects=False,
        data={"csrf_token": token, "email": email, "password": password},
    )
    check = session.get(server.url + "/staff/bookings", timeout=10, allow_redirects=False)
    if check.status_code != 200:
        raise RuntimeError(f"staff sign-in failed: /staff/bookings answered {check.status_code}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return f"Cookie: {cookie}", f"User-Agent: {USER_AGENT}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(row) + " |" for row in rows)]
    )


def write_result(name: str, title: str, notes: list[str], table: str) -> None:
    text = "\n".join([f"# {title}", "", *(f"- {n}" for n in notes), "", table, ""])
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(text)
    print(f"Written to {RESULTS / name}")
