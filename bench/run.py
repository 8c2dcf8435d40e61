"""Load benchmark: the app under gunicorn (production config) against a bare Flask route
under the same settings, in one run, driven by wrk on 127.0.0.1.

    .venv/bin/python bench/run.py [--duration 10] [--database-url URL] [--workers N]
    .venv/bin/python bench/run.py --scale ...   (same as bench/build_large_db.py)
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import (  # noqa: E402
    BENCH,
    PY,
    ROOT,
    STAFF_USER_AGENT,
    Gunicorn,
    LoadResult,
    MemorySampler,
    Process,
    bench_database,
    bench_env,
    configured_workers,
    cpu_seconds,
    create_staff_account,
    dispose_app,
    fmt,
    interrupt_on_sigterm,
    make_app,
    render_table,
    staff_cookie,
    wrk,
)

RESULTS = BENCH / "results"
READ_TARGET = 0.40
POST_TARGET = 0.25
P99_TARGET_MS = 100.0
WARMUP_SECONDS = 2
COMPARE_PATH = "/compare/tms-vs-ketamine"
ENDPOINTS = ("book", "slots", "compare", "post", "staff")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint (default 10)")
    parser.add_argument("--slices", type=int, default=5,
                        help="alternating slices of bare route and endpoint per endpoint (default 5)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers for both servers (default: gunicorn.conf.py's)")
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL base URL (a bench schema is created); default: SQLite in a temp dir")
    parser.add_argument("--only", default="", metavar="NAMES",
                        help="run only these endpoints, comma-separated, from: " + ", ".join(ENDPOINTS)
                        + " (each with its bare slices; a partial run does not write latest.md)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and bench schema")
    parser.add_argument("--scale", action="store_true",
                        help="run the scale benchmark instead (options as bench/build_large_db.py)")
    opts = parser.parse_args(argv)
    opts.only = {name.strip() for name in opts.only.split(",") if name.strip()} or set(ENDPOINTS)
    unknown = opts.only - set(ENDPOINTS)
    if unknown:
        parser.error(f"--only: unknown endpoint(s) {', '.join(sorted(unknown))}")
    return opts


# --- database ----------------------------------------------------------------------------

def prepare_fresh_database(url: str):
    """Tables and the demo opening hours' slots for the whole booking horizon."""
    from app.booking.cli import seed_demo
    from app.core.extensions import db

    app = make_app(url)
    with app.app_context():
        db.create_all()
        _, added = seed_demo(days=int(app.config["BOOKING_HORIZON_DAYS"]))
    return app, added


def add_booking_slots(app, count: int) -> list[str]:
    """`count` extra one-minute slots inside the booking window for the POST run (the demo
    hours give only ~600), on minutes no demo slot uses. Added after the read runs, so the
    pages measured show the normal horizon."""
    from sqlalchemy import insert, select

    from app.booking.rules import booking_window
    from app.core.database import write_transaction
    from app.core.extensions import db
    from app.models import Slot, new_public_id, utcnow

    with app.app_context():
        now = utcnow()
        window = booking_window(now)
        taken = set(db.session.execute(select(Slot.starts_at).where(
            Slot.starts_at >= window.earliest, Slot.starts_at <= window.latest)).scalars())
        db.session.rollback()
        start = (window.earliest + timedelta(hours=1)).replace(second=0, microsecond=0)
        rows, ids = [], []
        minute = start
        while len(rows) < count and minute < window.latest - timedelta(hours=1):
            if minute.minute % 30 and minute not in taken:
                public_id = new_public_id()
                rows.append({"public_id": public_id, "starts_at": minute,
                             "ends_at": minute + timedelta(minutes=1), "modes": "phone",
                             "is_blocked": False, "source": "manual", "created_at": now})
                ids.append(public_id)
            minute += timedelta(minutes=1)
        for chunk in range(0, len(rows), 5000):
            with write_transaction() as session:
                session.execute(insert(Slot.__table__), rows[chunk:chunk + 5000])
    return ids


def pending_mail(app) -> int | None:
    from sqlalchemy import func, select

    from app.core.extensions import db
    from app.models import OutboxMessage
    from app.models.mail import OUTBOX_PENDING

    with app.app_context():
        try:
            return db.session.execute(select(func.count(OutboxMessage.id))
                                      .where(OutboxMessage.status == OUTBOX_PENDING)).scalar_one()
        finally:
            db.session.remove()


# --- checks ------------------------------------------------------------------------------

def endpoint_problem(url: str, headers: dict | None = None) -> str | None:
    """Why an endpoint cannot be benchmarked (not built yet, failing), or None."""
    import requests

    try:
        response = requests.get(url, headers=headers or {}, timeout=10, allow_redirects=False)
    except requests.RequestException as error:
        return f"not available ({type(error).__name__})"
    if response.status_code == 200:
        return None
    return f"not available ({response.status_code})"


def one_booking(base_url: str, slot_id: str) -> str | None:
    """Book one slot through the API and return its manage token (for the log check)."""
    import requests

    response = requests.post(base_url + "/api/v1/bookings", timeout=10, json={
        "slot_id": slot_id, "mode": "phone", "name": "Log Check", "email": "log-check@example.com",
        "phone": "+19705550123", "interest": "tms", "note": "", "consent": True})
    if response.status_code != 201:
        return None
    token = response.json()["manage_token"]
    requests.get(f"{base_url}/manage/{token}", timeout=10)
    requests.get(f"{base_url}/api/v1/bookings/{token}?x=1", timeout=10)
    return token


def serving_checks(app_server: Gunicorn, token: str | None) -> list[str]:
    import requests

    notes = []
    server = requests.get(app_server.url + "/healthz", timeout=10).headers.get("Server")
    notes.append("Server header: " + ("absent" if server is None else f"PRESENT ({server!r})"))
    if token is None:
        notes.append("access log redaction: not checked (the check booking failed)")
    else:
        log = app_server.log_path.read_text(errors="replace")
        leaked = token in log
        redacted = "/manage/<token>" in log and "/api/v1/bookings/<token>" in log
        notes.append("access log redaction: " + ("TOKEN LEAKED" if leaked else
                                                  "ok (paths logged as /manage/<token>)" if redacted
                                                  else "no access log lines found"))
    return notes


# --- the run -----------------------------------------------------------------------------

def measure(endpoint: str, server: Gunicorn, path: str, seconds: int, opts, **kwargs) -> LoadResult:
    """One wrk run, with the server's CPU time per request."""
    cpu_before = cpu_seconds(server.pid)
    result = wrk(endpoint, server.url + path, duration=seconds, connections=opts.connections,
                 threads=opts.threads, **kwargs)
    if result.served:
        result.cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / result.served
    return result


def slice_plan(opts) -> tuple[int, int]:
    """How many slices each endpoint runs in, and their length in seconds."""
    slices = max(1, min(opts.slices, opts.duration))
    return slices, max(1, round(opts.duration / slices))


def paired_load(endpoint: str, server: Gunicorn, path: str, bare: Gunicorn, opts, *,
                post_ids: list[str] | None = None, workdir: Path | None = None,
                **kwargs) -> tuple[LoadResult, LoadResult]:
    """`endpoint` and the bare route in alternating slices (bare, endpoint, bare, endpoint,
    ...; `--slices` of each, `--duration` seconds in all for each): when the machine's speed
    drifts during the run (a shared host), both see the same drift, so their ratio holds.
    Returns the endpoint's result and its paired bare result, slices combined.

    For the booking POST, `post_ids` are the free slots to book: each slice gets its own
    share (2,500 a second, more than any run has reached), so no slot is asked for twice."""
    slices, seconds = slice_plan(opts)
    if post_ids is None:
        wrk(endpoint, server.url + path, duration=WARMUP_SECONDS, connections=opts.connections,
            threads=opts.threads, **kwargs)
    parts: list[LoadResult] = []
    bare_parts: list[LoadResult] = []
    per_slice = seconds * 2500
    for number in range(slices):
        bare_parts.append(measure("bare GET /", bare, "/", seconds, opts))
        if post_ids is not None:
            ids_file = workdir / f"slots-{number}.txt"
            ids_file.write_text("\n".join(post_ids[number * per_slice:(number + 1) * per_slice]) + "\n")
            kwargs = {**kwargs, "script_args": [str(ids_file), str(opts.threads)]}
        parts.append(measure(endpoint, server, path, seconds, opts, **kwargs))
    result = LoadResult.combined(endpoint, parts)
    paired = LoadResult.combined(f"bare GET / (paired with {endpoint.split(' (')[0]})", bare_parts)
    print(f"  {endpoint:<36} {result.rps:9.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
          f"p99 {result.p99_ms:7.1f} ms  errors {result.error_text()}  "
          f"CPU {fmt(result.cpu_ms, 2)} ms/req  (bare beside it: {paired.rps:,.1f} req/s, "
          f"CPU {fmt(paired.cpu_ms, 2)} ms/req)", flush=True)
    return result, paired


def unavailable(endpoint: str, why: str) -> LoadResult:
    print(f"  {endpoint:<36} {why}", flush=True)
    return LoadResult(endpoint=endpoint, unavailable=why)


def run_mail_worker(app, env, workdir: Path, sampler: MemorySampler, limit_s: float = 90) -> str:
    """Run `flask worker` until the outbox is empty (or `limit_s`); what happened, briefly."""
    # `flask --app wsgi worker`, with captured mail kept in the work directory.
    env = {**env, "BENCH_MAIL_CAPTURE_DIR": str(workdir / "mail")}
    command = [PY, "-m", "flask", "--app", str(BENCH / "worker_app.py"), "worker"]
    probe = subprocess.run([*command, "--help"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    if probe.returncode != 0:
        return "not available (`flask --app wsgi worker` is not a command yet)"
    before = pending_mail(app) or 0
    worker = Process("mail-worker", command, env, workdir / "mail-worker.log")
    try:
        sampler.watch("mail", worker.pid, workers_of=False)
        started = time.monotonic()
        left = before
        while time.monotonic() - started < limit_s and worker.running():
            time.sleep(1)
            left = pending_mail(app) or 0
            if left == 0 and time.monotonic() - started > 3:
                break
        sampler.sample()
        elapsed = time.monotonic() - started
        state = "exited early: " + worker.log_tail(3) if not worker.running() else "ran"
    finally:
        worker.stop()
    rate = (before - left) / elapsed if elapsed else 0
    return (f"{state}; outbox {before} pending -> {left} in {elapsed:.0f} s, rendering and "
            f"delivering {rate:,.0f} messages/s" + ("" if left == 0 else f" (stopped after {limit_s:.0f} s)"))


def verdict(result: LoadResult, reference: float, ratio_target: float | None) -> str:
    if result.unavailable:
        return "-"
    problems = []
    if ratio_target is not None and result.rps < ratio_target * reference:
        problems.append(f"ratio<{ratio_target:.2f}")
    if result.p99_ms > P99_TARGET_MS:
        problems.append(f"p99>{P99_TARGET_MS:.0f}ms")
    if result.error_count:
        problems.append("errors")
    return "PASS" if not problems else "FAIL: " + ", ".join(problems)


@dataclass
class Measured:
    """One endpoint's result, its target ratio, and the bare route measured beside it."""

    result: LoadResult
    target: float
    bare: LoadResult | None = None

    @property
    def ratio(self) -> float | None:
        return self.result.rps / self.bare.rps if self.bare and self.bare.rps else None


def report(measured: list[Measured], bare_all: LoadResult, meta: list[str], notes: list[str]) -> str:
    header = ["endpoint", "req/s", "p50 ms", "p99 ms", "errors", "bare req/s", "vs bare", "target",
              "result", "CPU ms/req", "CPU vs bare"]
    rows = [[bare_all.endpoint, fmt(bare_all.rps), fmt(bare_all.p50_ms), fmt(bare_all.p99_ms),
             bare_all.error_text(), "-", "1.00", "reference", "-", fmt(bare_all.cpu_ms, 2), "1.00"]]
    for item in measured:
        result, bare = item.result, item.bare
        if result.unavailable:
            rows.append([result.endpoint, "-", "-", "-", "-", "-", "-", "-", result.unavailable, "-", "-"])
            continue
        rows.append([
            result.endpoint, fmt(result.rps), fmt(result.p50_ms), fmt(result.p99_ms),
            result.error_text(), fmt(bare.rps), f"{item.ratio:.2f}" if item.ratio else "-",
            f">= {item.target:.2f}", verdict(result, bare.rps, item.target), fmt(result.cpu_ms, 2),
            f"{bare.cpu_ms / result.cpu_ms:.2f}" if bare.cpu_ms and result.cpu_ms else "-",
        ])
    text, md = render_table(header, rows)
    print("\n" + "\n".join(meta) + "\n\n" + text + "\n\n" + "\n".join(notes))
    return "\n".join(["# Load benchmark", "", *(f"- {m}" for m in meta), "", md, "",
                      *(f"- {n}" for n in notes), ""])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--scale" in argv:
        import build_large_db

        return build_large_db.main([a for a in argv if a != "--scale"])
    opts = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    interrupt_on_sigterm()
    workers = configured_workers(opts.workers)
    workdir = Path(tempfile.mkdtemp(prefix="mindset-bench-"))
    started: list[Process] = []
    sampler = MemorySampler()
    database = app = None
    loadavg = os.getloadavg()
    try:
        database = bench_database(opts.database_url, "load", workdir)
        print(f"Building a fresh {database.kind} database ...", flush=True)
        app, slot_count = prepare_fresh_database(database.url)
        env = bench_env(database.url, workers)
        staff_problem = create_staff_account(env)

        app_server = Gunicorn("app", "wsgi:app", env, workdir, "/healthz")
        started.append(app_server)
        bare = Gunicorn("bare", "bare_app:app", env, workdir, "/", pythonpath=BENCH)
        started.append(bare)
        app_server.wait_ready(workers)
        bare.wait_ready(workers)
        sampler.watch("app", app_server.pid, workers_of=True)
        sampler.watch("bare", bare.pid, workers_of=True)
        sampler.start()
        print(f"gunicorn -c gunicorn.conf.py, {workers} sync workers each; "
              f"wrk -t{opts.threads} -c{opts.connections}, {opts.duration} s per endpoint in "
              f"{slice_plan(opts)[0]} slices beside slices of the bare route", flush=True)

        today = datetime.now(UTC).date()
        start, end = today + timedelta(days=1), today + timedelta(days=14)
        measured: list[Measured] = []

        def paired(endpoint: str, path: str, target: float, **kwargs) -> None:
            result, bare_beside = paired_load(endpoint, app_server, path, bare, opts, **kwargs)
            measured.append(Measured(result, target, bare_beside))

        wrk("warm-up", bare.url + "/", duration=WARMUP_SECONDS, connections=opts.connections,
            threads=opts.threads)
        if "book" in opts.only:
            paired("GET /book", "/book", READ_TARGET)
        if "slots" in opts.only:
            paired("GET /api/v1/slots (two weeks)", f"/api/v1/slots?start={start}&end={end}", READ_TARGET)
        if "compare" in opts.only:
            problem = endpoint_problem(app_server.url + COMPARE_PATH)
            if problem:
                measured.append(Measured(unavailable(f"GET {COMPARE_PATH}", problem), READ_TARGET))
            else:
                paired(f"GET {COMPARE_PATH}", COMPARE_PATH, READ_TARGET)

        # POST: distinct free slots, enough for the fastest plausible rate.
        ids = add_booking_slots(app, (opts.duration + WARMUP_SECONDS) * 2500 + 200)
        token = one_booking(app_server.url, ids[0])
        if "post" in opts.only:
            warm_file = workdir / "warm-slots.txt"
            warm_file.write_text("\n".join(ids[1:200]) + "\n")
            post = BENCH / "post_bookings.lua"
            wrk("warm-up", app_server.url + "/api/v1/bookings", duration=1,
                connections=opts.threads * 2, threads=opts.threads, script=post,
                script_args=[str(warm_file), str(opts.threads)])
            paired("POST /api/v1/bookings", "/api/v1/bookings", POST_TARGET, script=post,
                   post_ids=ids[200:], workdir=workdir)

        if "staff" in opts.only:
            staff_endpoint = "GET /staff/bookings (signed in)"
            cookie, why = (None, staff_problem) if staff_problem else staff_cookie(app_server.url)
            if cookie:
                paired(staff_endpoint, "/staff/bookings", READ_TARGET,
                       headers=[f"Cookie: {cookie}", f"User-Agent: {STAFF_USER_AGENT}"])
            else:
                measured.append(Measured(unavailable(staff_endpoint, f"not available ({why})"),
                                         READ_TARGET))
        bare_all = LoadResult.combined("bare GET / (all its slices)",
                                       [m.bare for m in measured if m.bare is not None])

        sampler.sample()
        mail = run_mail_worker(app, env, workdir, sampler)
        sampler.stop()
        slices, _ = slice_plan(opts)
        meta = [
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
            f"load average before {loadavg[0]:.2f}",
            f"database: {database.kind}, {slot_count} demo slots in the booking horizon; "
            f"{len(ids) - 200} extra one-minute slots for the POST run",
            f"gunicorn -c gunicorn.conf.py, {workers} sync workers for both servers; "
            f"wrk -t{opts.threads} -c{opts.connections} on 127.0.0.1, {opts.duration} s per endpoint "
            f"in {slices} slices, each beside a slice of the bare route (bare, endpoint, bare, ...)",
            "vs bare: req/s over the bare route's in the slices beside it (bare req/s); targets: "
            f"reads >= {READ_TARGET:.2f}, POST >= {POST_TARGET:.2f}, p99 <= {P99_TARGET_MS:.0f} ms, 0 errors",
            "CPU ms/req: CPU time of all the server's workers per request (from /proc); CPU vs bare: "
            "bare's CPU per request over this one's, the req/s ratio expected when CPU-bound on an "
            "idle machine (less moved by other load on the machine than req/s)",
        ]
        notes = [
            f"peak RSS, one app web worker: {fmt(sampler.peak_mb('app'))} MB "
            f"(bare worker: {fmt(sampler.peak_mb('bare'))} MB)",
            "peak RSS, mail worker: " + (f"{fmt(sampler.peak_mb('mail'))} MB ({mail})"
                                         if sampler.peak_mb("mail") else mail),
            *serving_checks(app_server, token),
        ]
        markdown = report(measured, bare_all, meta, notes)
        if opts.only == set(ENDPOINTS):
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / "latest.md").write_text(markdown)
            print(f"\nWritten to {RESULTS / 'latest.md'}")
        failed = [m for m in measured if not m.result.unavailable
                  and verdict(m.result, m.bare.rps, m.target) != "PASS"]
        return 1 if failed else 0
    finally:
        sampler.stop()
        for process in reversed(started):
            process.stop()
        if app is not None:
            dispose_app(app)
        if opts.keep:
            schema = database.schema if database else None
            print(f"Kept {workdir}" + (f" and schema {schema}" if schema else ""))
        else:
            if database is not None:
                database.drop()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
