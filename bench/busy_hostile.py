"""One sync of one busy feed file (e.g. tests/feeds/hostile_minutely.ics), served on
loopback, into a fresh SQLite database: prints the wall time, the result, this process's
peak resident memory and the largest peak of any process it started (bench/README.md,
"Busy calendars"). Run it under `timeout`: on a service that reads feeds in-process a
hostile one never finishes."""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.busy_helpers import FeedServer, Route  # noqa: E402


def descendants_peak_kb(stop: threading.Event, peak: list[int]) -> None:
    """Samples the peak resident memory (VmHWM) of every process descended from this one."""
    me = os.getpid()
    while not stop.wait(0.02):
        parents, peaks = {}, {}
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                status = Path(f"/proc/{entry}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            parents[int(entry)] = int(fields.get("PPid", "0"))
            peaks[int(entry)] = int(fields.get("VmHWM", "0 kB").split()[0])
        for pid, hwm in peaks.items():
            ancestor = parents.get(pid, 0)
            while ancestor not in (0, me):
                ancestor = parents.get(ancestor, 0)
            if ancestor == me:
                peak[0] = max(peak[0], hwm)


def main(path: str) -> None:
    from app import create_app
    from app.busy import service
    from app.core.extensions import db

    server = FeedServer()
    server.routes["/feed.ics"] = Route(Path(path).read_bytes())
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                "SECRET_KEY": "bench",
                "BUSY_ALLOW_PRIVATE_ADDRESSES": True,
                "MAIL_SERVER": "",
            }
        )
        with app.app_context():
            db.create_all()
            service.add_source(server.url + "/feed.ics", "Hostile")
            stop, peak = threading.Event(), [0]
            sampler = threading.Thread(target=descendants_peak_kb, args=(stop, peak), daemon=True)
            sampler.start()
            started = time.monotonic()
            [result] = service.sync_all()
            elapsed = time.monotonic() - started
            stop.set()
            sampler.join()
            db.session.remove()
    server.stop()
    print(
        f"{Path(path).name}: {elapsed:.1f} s, "
        f"{'ok, ' + str(result.intervals) + ' intervals' if result.ok else 'failed: ' + result.error}; "
        f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB here, "
        f"{peak[0] // 1024} MB in a child"
    )


if __name__ == "__main__":
    main(sys.argv[1])
