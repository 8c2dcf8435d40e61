"""Scale benchmark: reads on a database with three years of history (100,000 bookings)
against a fresh one with the same upcoming slots and bookings. Target: large within 1.25x
of fresh for p50 at 1 connection and for mean latency at 32 connections.

    python bench/scale.py [--duration 10] [--bookings 100000] [--years 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import itertools
import random
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from common import Database, Server, markdown_table, staff_headers, stop_on_sigterm, write_result, wrk

TARGET = 1.25
FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Mia",
    "Lucas",
    "Maria",
    "Jose",
    "Ana",
    "Wei",
    "Mei",
    "Priya",
    "Arjun",
    "Fatima",
    "Grace",
    "Owen",
]
LAST = [
    "Smith",
    "Johnson",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Taylor",
    "Moore",
    "Lee",
    "Nguyen",
    "Clark",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Hill",
    "Flores",
]


_NUMBERS = itertools.count(1)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _reference(number: int) -> str:
    """A distinct booking reference per row: the row's number in Crockford base32."""
    return "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(8)))


def booking(rng: random.Random, slot_id: int, starts_at: datetime, now: datetime, cancelled: bool) -> dict:
    """One booking row: a repeat patient now and then, created before its slot; cancelled ones
    free their slot, past confirmed ones carry attendance."""
    n = rng.randrange(60_000)
    first, last = FIRST[n % 20], LAST[n // 20 % 20]
    created = min(starts_at - timedelta(hours=rng.uniform(13, 720)), now - timedelta(minutes=5))
    row = {
        "public_id": secrets.token_urlsafe(12),
        "reference": _reference(next(_NUMBERS)),
        "slot_id": slot_id,
        "mode": rng.choice(["in_person", "phone"]),
        "status": "cancelled" if cancelled else "confirmed",
        "name": f"{first} {last}",
        "email": f"{first}.{last}{n}@example.com".lower(),
        "phone": f"+1970555{n % 10000:04d}",
        "interest": rng.choice(["tms", "ketamine", "not_sure"]),
        "note": "",
        "consent_at": created,
        "manage_token_hash": secrets.token_hex(32),
        "ical_uid": f"{secrets.token_hex(16)}@bench.example",
        "ical_sequence": int(cancelled),
        "created_at": created,
        "updated_at": created,
        "cancelled_at": created if cancelled else None,
        "cancelled_by": "patient" if cancelled else None,
        "attendance": "attended" if starts_at < now and not cancelled else None,
        "staff_notes": "",
    }
    return row


def build(database: Database, opts, history: bool) -> str:
    """Tables, demo hours and their slots for the booking horizon, a quarter of the upcoming
    slots booked (the same in both databases); with `history`, weekday slots every 5 minutes
    from 8:00 to 18:00 back to `--years` ago and the rest of the bookings, bulk-inserted."""
    from sqlalchemy import func, insert, select, text

    from app.booking.cli import seed_demo
    from app.core.database import write_transaction
    from app.core.extensions import db
    from app.core.timefmt import clinic_zone
    from app.models import Booking, Slot, new_public_id, utcnow

    def insert_all(table, rows):
        for start in range(0, len(rows), 5000):
            with write_transaction() as session:
                session.execute(insert(table), rows[start : start + 5000])

    app = database.app()
    with app.app_context():
        db.create_all()
        now = utcnow()
        horizon = int(app.config["BOOKING_HORIZON_DAYS"])
        seed_demo(days=horizon)
        rng = random.Random(6)
        upcoming = db.session.execute(select(Slot.id, Slot.starts_at).order_by(Slot.starts_at)).all()
        insert_all(
            Booking.__table__,
            [booking(rng, *slot, now, cancelled=i % 8 == 5) for i, slot in enumerate(upcoming) if i % 4 == 1],
        )
        if history:
            zone, today = clinic_zone(), now.astimezone(clinic_zone()).date()
            past = []
            for back in range(1, int(opts.years * 365) - horizon):
                start = datetime.combine(today - timedelta(days=back), clock(8), zone).astimezone(UTC)
                if start.astimezone(zone).weekday() < 5:
                    past += [start + timedelta(minutes=m) for m in range(0, 600, 5)]
            insert_all(
                Slot.__table__,
                [
                    {
                        "public_id": new_public_id(),
                        "starts_at": at,
                        "is_blocked": False,
                        "ends_at": at + timedelta(minutes=5),
                        "modes": "in_person,phone",
                        "source": "manual",
                        "created_at": at - timedelta(days=60),
                    }
                    for at in past
                ],
            )
            past = db.session.execute(select(Slot.id, Slot.starts_at).where(Slot.starts_at < now)).all()
            wanted = max(0, opts.bookings - db.session.execute(select(func.count(Booking.id))).scalar_one())
            confirmed = min(wanted * 4 // 5, len(past))
            rows = [booking(rng, *slot, now, cancelled=False) for slot in rng.sample(past, confirmed)]
            rows += [booking(rng, *rng.choice(past), now, cancelled=True) for _ in range(wanted - confirmed)]
            insert_all(Booking.__table__, sorted(rows, key=lambda r: r["created_at"]))
        if database.kind == "postgresql":  # as autovacuum would have by then
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        counts = [db.session.execute(select(func.count(model.id))).scalar_one() for model in (Slot, Booking)]
        db.session.remove()
        db.engine.dispose()
    return f"{counts[0]:,} slots, {counts[1]:,} bookings"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        help="seconds of load per endpoint and database at each concurrency, in two rounds (default 10)",
    )
    parser.add_argument("--bookings", type=int, default=100_000, help="bookings in the large database")
    parser.add_argument("--years", type=float, default=3.0, help="years of history in the large database")
    parser.add_argument("--database-url", help="PostgreSQL URL (a schema per database); default SQLite")
    opts = parser.parse_args()
    stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="mindset-bench-scale-"))
    databases = {"fresh": Database(opts.database_url, "fresh", workdir)}
    databases["large"] = Database(opts.database_url, "large", workdir)
    servers = {}
    try:
        notes = []
        for label, database in databases.items():
            began = time.monotonic()
            counts = build(database, opts, history=label == "large")
            notes.append(f"{label} {database.kind} database: {counts} (built in {time.monotonic() - began:.0f} s)")
            print(notes[-1], flush=True)
        for label, database in databases.items():
            servers[label] = Server("wsgi:app", database, workdir / f"{label}.log").wait_ready("/healthz")
        staff = {label: staff_headers(server) for label, server in servers.items()}
        today = datetime.now(UTC).date()
        reads = [
            ("GET /book", "/book"),
            (
                "GET /api/v1/slots (two weeks)",
                f"/api/v1/slots?start={today + timedelta(days=1)}&end={today + timedelta(days=14)}",
            ),
            ("GET /compare/tms-vs-ketamine", "/compare/tms-vs-ketamine"),
            ("GET /staff/bookings (signed in)", "/staff/bookings"),
            ("GET /staff/ (dashboard, signed in)", "/staff/"),
        ]
        seconds = max(1, opts.duration // 2)
        rows, failed = [], False
        for name, path in reads:

            def run(label, connections, path=path, name=name):
                return wrk(
                    servers[label].url + path,
                    seconds,
                    connections,
                    min(2, connections),
                    headers=staff[label] if name.startswith("GET /staff") else (),
                )

            runs = {(label, c): [] for label in servers for c in (1, 32)}
            for label in servers:
                run(label, 1)  # warm-up
            # One connection first: a 32-connection run leaves a backlog the workers finish after it.
            for connections in (1, 32):
                for label in ("fresh", "large", "large", "fresh"):
                    runs[label, connections].append(run(label, connections))
            p50 = [sum(r["p50"] for r in runs[label, 1]) / 2 for label in ("fresh", "large")]
            loaded = [sum(r["mean"] for r in runs[label, 32]) / 2 for label in ("fresh", "large")]
            errors = sum(r["errors"] + (not r["requests"]) for parts in runs.values() for r in parts)
            ratios = (p50[1] / p50[0] if p50[0] else 0, loaded[1] / loaded[0] if loaded[0] else 0)
            ok = max(ratios) <= TARGET and not errors
            failed |= not ok
            rows.append(
                [
                    name,
                    f"{p50[0]:.1f}",
                    f"{p50[1]:.1f}",
                    f"{ratios[0]:.2f}",
                    f"{loaded[0]:.1f}",
                    f"{loaded[1]:.1f}",
                    f"{ratios[1]:.2f}",
                    str(errors),
                    "pass" if ok else "FAIL",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
        notes += [
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; each server gunicorn -c gunicorn.conf.py, one loaded "
            f"at a time; two runs of {seconds} s per database and concurrency (fresh, large, large, fresh)",
            "p50 at 1 connection (wrk -t1 -c1) and mean latency at 32 (wrk -t2 -c32), in ms; "
            f"target: large within {TARGET}x of fresh for both, no errors",
        ]
        header = [
            "endpoint",
            "fresh p50",
            "large p50",
            "p50 x",
            "fresh mean@32",
            "large mean@32",
            "mean x",
            "errors",
            f"<= {TARGET}x",
        ]
        write_result("scale.md", "Scale benchmark", notes, markdown_table(header, rows))
        return 1 if failed else 0
    finally:
        for server in servers.values():
            server.stop()
        for database in databases.values():
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
