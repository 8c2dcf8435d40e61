"""In-process cost of the pages: milliseconds per request through Flask's test client in
one process (wall clock and the process's CPU time), on a database with the demo hours,
their slots and 60 bookings; with `--profile PATH`, the cProfile lines of that path.

    python bench/cost.py [--requests 200] [--database-url URL] [--profile /book]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import STAFF, Database, markdown_table

BOOKINGS = 60  # more than the staff list's first page of 50


def prepare(app) -> None:
    """Demo hours and slots, BOOKINGS bookings through the booking service, and a staff account."""

    from app.booking import service
    from app.booking.cli import seed_demo
    from app.booking.slots import free_slots
    from app.core.actors import THE_PATIENT
    from app.core.extensions import db
    from app.models import utcnow
    from app.staff.accounts import create_account

    with app.app_context():
        db.create_all()
        seed_demo(days=int(app.config["BOOKING_HORIZON_DAYS"]))
        now = utcnow()
        free = free_slots(now, now + timedelta(days=90))
        for number, slot in enumerate(free[:: len(free) // BOOKINGS][:BOOKINGS]):
            details = service.PatientDetails(
                name=f"Patient {number}", email=f"p{number}@example.com", phone="+19705550142", interest="tms"
            )
            service.book(slot.public_id, slot.modes.split(",")[0], details, actor=THE_PATIENT)
        email, password = STAFF
        create_account(email, "Bench Staff", "admin", password)
        db.session.remove()


def sign_in(client) -> None:
    import re

    email, password = STAFF
    page = client.get("/staff/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/staff/sign-in", data={"csrf_token": token, "email": email, "password": password})
    assert answer.status_code in (302, 303), answer.status_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="requests per page (default 200)")
    parser.add_argument("--database-url", help="PostgreSQL URL (a schema is made for the run); default SQLite")
    parser.add_argument("--profile", help="a path to profile instead of timing every page")
    parser.add_argument("--lines", type=int, default=25, help="profile lines shown (default 25)")
    opts = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mindset-profile-"))
    database = Database(opts.database_url, "profile", workdir)
    try:
        app = database.app()
        prepare(app)
        today = datetime.now(UTC).date()
        slots = f"/api/v1/slots?start={today + timedelta(days=1)}&end={today + timedelta(days=14)}"
        public = [
            "/book",
            "/es/book",
            slots,
            "/compare/tms-vs-ketamine",
            "/",
            "/treatments",
            "/treatments/tms",
            "/faq",
            "/about",
            "/privacy",
            "/es/compare/tms-vs-ketamine",
        ]
        staff = ["/staff/bookings", "/staff/"]
        client, signed_in = app.test_client(), app.test_client()
        sign_in(signed_in)
        if opts.profile:
            chosen = signed_in if opts.profile.startswith("/staff") else client
            for _ in range(10):
                chosen.get(opts.profile)
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(opts.requests):
                chosen.get(opts.profile)
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(opts.lines)
            stats.sort_stats("tottime").print_stats(opts.lines)
            return 0
        rows = []
        for path in public + staff:
            chosen = signed_in if path.startswith("/staff") else client
            answer = chosen.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            for _ in range(10):
                chosen.get(path)
            wall, cpu = [], []
            for _ in range(3):  # the best of three rounds: the machine may be shared
                start, start_cpu = time.perf_counter(), time.process_time()
                for _ in range(opts.requests // 3):
                    chosen.get(path)
                wall.append((time.perf_counter() - start) * 1000 / (opts.requests // 3))
                cpu.append((time.process_time() - start_cpu) * 1000 / (opts.requests // 3))
            rows.append(
                [path.split("?")[0] + (" (two weeks)" if "?" in path else ""), f"{min(wall):.2f}", f"{min(cpu):.2f}"]
            )
            print(" | ".join(rows[-1]), flush=True)
        print(
            f"\n{database.kind}, ms per request (best of three rounds): wall clock, and this "
            "process's CPU time (the database server's not counted)\n"
        )
        print(markdown_table(["page", "ms", "CPU ms"], rows))
        return 0
    finally:
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
