"""Lighthouse's performance score on the home page, /book and a booking form, as a phone,
against the app under the production gunicorn settings on loopback. A timing, so it is taken
here on a quiet machine, not in the test suite (tests/test_lighthouse.py judges what the page
controls). Prints a Markdown table, writes bench/results/lighthouse.md, exits 1 below the floor.

    .venv/bin/python bench/lighthouse.py            # about a minute
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from common import ROOT, Database, Server, markdown_table, stop_on_sigterm, write_result

sys.path.insert(0, str(ROOT))
from tests.test_lighthouse import CATEGORIES, lighthouse_missing, page_figures, run_lighthouse  # noqa: E402

FLOOR = 1.0  # every category 100 on a quiet machine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--floor", type=float, default=FLOOR, help="lowest performance score accepted (default 1.0)")
    opts = parser.parse_args()
    reason = lighthouse_missing()
    if reason:
        print(reason)
        return 1
    stop_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="bench-lighthouse-") as tmp:
        workdir = Path(tmp)
        database = Database(None, "lighthouse", workdir)
        app = database.app()
        from app.core.database import write_transaction
        from app.core.extensions import db
        from app.models import Slot
        from tests.conftest import future_day, local_dt

        with app.app_context():
            db.create_all()
            with write_transaction() as session:
                slots = [
                    Slot(
                        starts_at=local_dt(future_day(3), 9) + timedelta(minutes=30 * i),
                        ends_at=local_dt(future_day(3), 9) + timedelta(minutes=30 * i + 30),
                        modes="in_person,phone,video",
                    )
                    for i in range(8)
                ]
                session.add_all(slots)
            form = f"/book/{slots[0].public_id}"
        server = Server("wsgi:app", database, workdir / "gunicorn.log").wait_ready("/healthz")
        rows, worst = [], 1.0
        try:
            for path in ("/", "/book", form):
                report = run_lighthouse(server.url + path, workdir)
                scores = {name: report["categories"][name]["score"] for name in CATEGORIES}
                figures = page_figures(report)
                worst = min(worst, scores["performance"])
                rows.append(
                    [
                        path if path != form else "/book/<slot>",
                        *(f"{scores[name]:.2f}" for name in CATEGORIES),
                        f"{figures['bytes'] / 1024:.0f} KiB",
                        str(figures["elements"]),
                        f"{figures['layout shift']:.3f}",
                    ]
                )
        finally:
            server.stop()
    write_result(
        "lighthouse.md",
        "Lighthouse, phone",
        [f"load average at the end: {os.getloadavg()[0]:.2f} (quiet: under 1)", f"floor: performance {opts.floor}"],
        markdown_table(["page", *CATEGORIES, "bytes", "elements", "layout shift"], rows),
    )
    return 0 if worst >= opts.floor else 1


if __name__ == "__main__":
    sys.exit(main())
