"""Load benchmark: each endpoint's req/s as a ratio to a bare Flask route served under the
same gunicorn settings (gunicorn -c gunicorn.conf.py), measured by wrk -t2 -c8 in slices
that alternate with the bare route's, so drift in the machine's speed cancels out.

    python bench/run.py [--duration 10] [--only book,slots,compare,content,post,staff,dashboard]
                        [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import Database, Server, markdown_table, staff_headers, stop_on_sigterm, write_result, wrk

CONNECTIONS = 8
PUBLIC_FLOOR, PUBLIC_P99_MS = 0.25, 50
STAFF_FLOOR, STAFF_P99_MS = 0.15, 100
POST_P99_MS = 100  # the booking POST has no ratio floor: its req/s is reported
FULL_DAYS = 14  # booked in full before the staff pages are measured
# The information pages besides the comparison page, in both languages where it matters.
CONTENT_PAGES = (
    "/",
    "/treatments",
    "/treatments/tms",
    "/faq",
    "/about",
    "/privacy",
    "/self-check",
    "/es/compare/tms-vs-ketamine",
)
SLOTS_PER_SECOND = 2500  # free slots set aside per second of POST load, above any rate reached


def add_booking_slots(app, count: int) -> list[str]:
    """`count` one-minute slots inside the booking window for the POST run (the demo hours
    give only ~600 in the 60-day horizon), on minutes no demo slot uses."""
    from sqlalchemy import insert

    from app.booking.rules import booking_window
    from app.core.database import write_transaction
    from app.models import Slot, new_public_id, utcnow

    with app.app_context():
        now = utcnow()
        window = booking_window(now)
        minute = (window.earliest + timedelta(hours=1)).replace(second=0, microsecond=0)
        rows = []
        while len(rows) < count and minute < window.latest - timedelta(hours=1):
            if minute.minute % 30:  # demo slots start on the hour and half hour
                rows.append(
                    {
                        "public_id": new_public_id(),
                        "starts_at": minute,
                        "modes": "phone",
                        "ends_at": minute + timedelta(minutes=1),
                        "is_blocked": False,
                        "source": "manual",
                        "created_at": now,
                    }
                )
            minute += timedelta(minutes=1)
        for start in range(0, len(rows), 5000):
            with write_transaction() as session:
                session.execute(insert(Slot.__table__), rows[start : start + 5000])
    return [row["public_id"] for row in rows]


def book_coming_days(app, days: int) -> int:
    """Every free demo slot of the coming `days` days booked through the booking service, as
    in a full clinic: the staff list's first page is full and the dashboard has a full week."""
    from app.booking import service
    from app.booking.slots import free_slots
    from app.core.actors import THE_PATIENT
    from app.core.extensions import db
    from app.models import utcnow

    with app.app_context():
        now = utcnow()
        slots = free_slots(now, now + timedelta(days=days))
        for number, slot in enumerate(slots):
            details = service.PatientDetails(
                name=f"Patient {number}", email=f"week{number}@example.com", phone="+19705550142", interest="tms"
            )
            service.book(slot.public_id, slot.modes.split(",")[0], details, actor=THE_PATIENT)
        db.session.remove()
    return len(slots)


def paired(server: Server, bare: Server, path: str, opts, workdir: Path, post_ids=None, headers=()):
    """The endpoint and the bare route in alternating slices; both results, slices added up
    (p50 the median slice's, p99 the worst slice's)."""
    slices = max(1, min(5, opts.duration // 2))  # slices of 2 s or more
    seconds = opts.duration // slices
    runs = {"app": [], "bare": []}
    if post_ids is None:
        wrk(server.url + path, 2, CONNECTIONS, headers=headers)  # warm-up
    for number in range(slices):
        runs["bare"].append(wrk(bare.url + "/", seconds, CONNECTIONS))
        ids_file = None
        if post_ids is not None:
            ids_file = workdir / f"ids-{number}.txt"
            share = seconds * SLOTS_PER_SECOND
            ids_file.write_text("\n".join(post_ids[number * share : (number + 1) * share]) + "\n")
        runs["app"].append(wrk(server.url + path, seconds, CONNECTIONS, post_ids=ids_file, headers=headers))

    def total(parts):
        p50s = sorted(p["p50"] for p in parts)
        return {
            "requests": sum(p["requests"] for p in parts),
            "errors": sum(p["errors"] for p in parts),
            "rps": sum(p["requests"] for p in parts) / (seconds * len(parts)),
            "p50": p50s[len(p50s) // 2],
            "p99": max(p["p99"] for p in parts),
        }

    return total(runs["app"]), total(runs["bare"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint (default 10)")
    parser.add_argument(
        "--only", default="book,slots,compare,content,post,staff,dashboard", help="endpoints, comma-separated"
    )
    parser.add_argument("--database-url", help="PostgreSQL URL (a schema is made for the run); default SQLite")
    opts = parser.parse_args()
    only = set(opts.only.split(","))
    stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="mindset-bench-"))
    database = Database(opts.database_url, "load", workdir)
    servers = []
    try:
        from app.booking.cli import seed_demo
        from app.core.extensions import db

        app = database.app()
        with app.app_context():
            db.create_all()
            demo_slots = seed_demo(days=int(app.config["BOOKING_HORIZON_DAYS"]))[1]
            db.session.remove()
        server = Server("wsgi:app", database, workdir / "app.log").wait_ready("/healthz")
        servers.append(server)
        bare = Server("bare_app:app", database, workdir / "bare.log").wait_ready("/")
        servers.append(bare)
        wrk(bare.url + "/", 1, CONNECTIONS)  # warm-up
        today = datetime.now(UTC).date()
        slots = f"/api/v1/slots?start={today + timedelta(days=1)}&end={today + timedelta(days=14)}"
        rows, failed = [], False

        def measure(name: str, path: str, floor: float | None, p99_ms: float, **kwargs) -> None:
            nonlocal failed
            result, reference = paired(server, bare, path, opts, workdir, **kwargs)
            ratio = result["rps"] / reference["rps"]
            misses = [f"ratio < {floor:.2f}"] if floor is not None and ratio < floor else []
            misses += [f"p99 > {p99_ms} ms"] * (result["p99"] > p99_ms)
            misses += ["errors"] * bool(result["errors"]) + ["no answers"] * (not result["requests"])
            failed |= bool(misses)
            rows.append(
                [
                    name,
                    f"{result['rps']:,.0f}",
                    f"{reference['rps']:,.0f}",
                    f"{ratio:.2f}",
                    f">= {floor:.2f}" if floor is not None else "(reported)",
                    f"{result['p50']:.1f}",
                    f"{result['p99']:.1f}",
                    f"<= {p99_ms}",
                    str(result["errors"]),
                    "FAIL: " + ", ".join(misses) if misses else "pass",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)

        if "book" in only:
            measure("GET /book", "/book", PUBLIC_FLOOR, PUBLIC_P99_MS)
            measure("GET /es/book", "/es/book", PUBLIC_FLOOR, PUBLIC_P99_MS)
        if "slots" in only:
            measure("GET /api/v1/slots (two weeks)", slots, PUBLIC_FLOOR, PUBLIC_P99_MS)
        if "compare" in only:
            measure("GET /compare/tms-vs-ketamine", "/compare/tms-vs-ketamine", PUBLIC_FLOOR, PUBLIC_P99_MS)
        if "content" in only:
            for path in CONTENT_PAGES:
                measure(f"GET {path}", path, PUBLIC_FLOOR, PUBLIC_P99_MS)
        booked = book_coming_days(app, FULL_DAYS)
        if only & {"staff", "dashboard"}:
            headers = staff_headers(server)
            if "staff" in only:
                measure(
                    "GET /staff/bookings (signed in)", "/staff/bookings", STAFF_FLOOR, STAFF_P99_MS, headers=headers
                )
            if "dashboard" in only:
                measure("GET /staff/ (dashboard, signed in)", "/staff/", STAFF_FLOOR, STAFF_P99_MS, headers=headers)
        post_ids = add_booking_slots(app, opts.duration * SLOTS_PER_SECOND)
        if "post" in only:
            measure("POST /api/v1/bookings", "/api/v1/bookings", None, POST_P99_MS, post_ids=post_ids)
        notes = [
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {database.kind}, {demo_slots} demo slots in the "
            f"booking horizon, those of the next {FULL_DAYS} days booked ({booked}) before the staff "
            f"pages, and {len(post_ids):,} one-minute slots for the POST run; load average "
            f"{os.getloadavg()[0]:.2f} at the end (other work on the machine weighs on both sides)",
            f"wrk -t2 -c{CONNECTIONS}, {opts.duration} s per endpoint in slices alternating with the bare "
            "route's; floors: vs bare and p99 as shown, no errors (non-2xx answers count)",
        ]
        header = [
            "endpoint",
            "req/s",
            "bare req/s",
            "vs bare",
            "floor",
            "p50 ms",
            "p99 ms",
            "p99 floor",
            "errors",
            "result",
        ]
        write_result("latest.md", "Load benchmark", notes, markdown_table(header, rows))
        return 1 if failed else 0
    finally:
        for each in servers:
            each.stop()
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
