"""Reading one busy source in a process of its own, so that no calendar can stall or bloat
the process that asked: the download, the parse and the expansion of recurrences run in a
child process with an address-space limit (BUSY_SYNC_MEMORY_MB), killed when
BUSY_SYNC_SECONDS have passed. The caller gets the busy spans, or a ReadError with a message
safe to show staff, within that time, whatever the feed holds.

Before parsing, a feed whose time zones would send the parser and every offset lookup
walking a rule from its start (dateutil does) is refused: more than MAX_TIME_ZONES zones,
a zone rule repeating more often than monthly, or one that never happens."""

from __future__ import annotations

import logging
import math
import multiprocessing
import re
import resource
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.busy import fetch, rules

log = logging.getLogger("app.busy")

MAX_TIME_ZONES = 100


class ReadError(Exception):
    """The source could not be read; the message is safe to show (no URL, no feed text)."""


@dataclass(frozen=True)
class Job:
    """What the child needs to read one source."""

    url: str
    caldav: bool
    start: str  # ISO 8601, UTC: the window busy times are expanded in
    end: str
    zone: str  # the clinic's time zone, for floating times and all-day dates
    limits: dict
    username: str = ""
    password: str = ""
    owner: str = ""
    etag: str = ""
    last_modified: str = ""
    sync_token: str = ""

    def __repr__(self) -> str:  # never printed or logged by accident
        return "Job(...)"


@dataclass(frozen=True)
class Read:
    """`busy` is None when the source is unchanged since the validators or token sent."""

    busy: list[rules.Busy] | None
    etag: str = ""
    last_modified: str = ""
    sync_token: str = ""


# Children are forked from a small server process that has imported this module once, so
# a read costs a fork, not a fresh interpreter, and nothing of the caller (threads, open
# connections, the app) is copied into it.
_PROCESSES = multiprocessing.get_context("forkserver")
_PROCESSES.set_forkserver_preload([__name__])


def read(job: Job, seconds: float, memory_mb: int) -> Read:
    receiving, sending = _PROCESSES.Pipe(duplex=False)
    child = _PROCESSES.Process(target=_child, args=(job, seconds, memory_mb, sending), name="busy-reader", daemon=True)
    child.start()
    sending.close()
    answered, in_time = None, False
    try:
        in_time = receiving.poll(seconds)
        if in_time:
            answered = receiving.recv()
    except EOFError:
        pass  # the child ended without an answer
    finally:
        child.join(10 if in_time else 0)
        if child.is_alive():
            child.kill()
            child.join()
        receiving.close()
    if not in_time:
        raise ReadError(f"reading the calendar took more than {seconds:g} s and was stopped")
    if not isinstance(answered, dict):
        log.warning("busy calendar reader ended with exit status %s and no answer", child.exitcode)
        raise ReadError(
            f"reading the calendar stopped unexpectedly (exit status {child.exitcode}); "
            f"it may need more than {memory_mb} MB"
        )
    return result(answered)


def result(answer: dict) -> Read:
    """The child's answer as the caller's Read, or its ReadError."""
    if "error" in answer:
        raise ReadError(str(answer["error"]))
    busy = None if answer["busy"] is None else [rules.Busy(*span) for span in answer["busy"]]
    return Read(busy, answer["etag"], answer["last_modified"], answer["sync_token"])


_FOLD = re.compile(r"\r?\n[ \t]")
_RRULE = re.compile(r"^RRULE[;:]", re.IGNORECASE)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_time_zones(text: bytes | str) -> None:
    """Raises FeedError for more than MAX_TIME_ZONES time zones in one feed, or a zone rule
    that repeats more often than monthly or can never happen (BYMONTH=2;BYMONTHDAY=30)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    zones, inside = 0, False
    for line in _FOLD.sub("", text).splitlines():
        name = line.strip().upper()
        if name == "BEGIN:VTIMEZONE":
            zones, inside = zones + 1, True
            if zones > MAX_TIME_ZONES:
                raise rules.FeedError(f"the feed has more than {MAX_TIME_ZONES} time zones")
        elif name == "END:VTIMEZONE":
            inside = False
        elif inside and _RRULE.match(name):
            _check_zone_rule(name.rsplit(":", 1)[-1])


def _check_zone_rule(value: str) -> None:
    parts = dict(part.split("=", 1) for part in value.split(";") if "=" in part)
    if parts.get("FREQ") not in ("YEARLY", "MONTHLY"):
        raise rules.FeedError("the feed has a time zone whose rule repeats more often than monthly")
    try:
        months = [int(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else range(1, 13)
        days = [int(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else [1]
    except ValueError:
        raise rules.FeedError("the feed has a time zone rule that cannot be read") from None
    if not any(1 <= m <= 12 and 1 <= abs(d) <= _DAYS_IN_MONTH[m - 1] for m in months for d in days):
        raise rules.FeedError("the feed has a time zone rule that never happens")


def _read_here(job: Job) -> dict:
    limits = fetch.Limits(**job.limits)
    start, end = datetime.fromisoformat(job.start), datetime.fromisoformat(job.end)
    if job.caldav:
        fetched = fetch.fetch_caldav(job.url, limits, start, end, job.username, job.password, job.sync_token)
    else:
        auth = (job.username, job.password) if job.username else None
        fetched = fetch.fetch_ics(job.url, limits, job.etag, job.last_modified, auth)
    busy = None
    if fetched.texts is not None:
        for text in fetched.texts:
            check_time_zones(text)
        calendars = rules.parse_calendars(fetched.texts) if fetched.texts else []
        found = rules.busy_times(calendars, start, end, ZoneInfo(job.zone), job.owner)
        busy = [(b.starts_at, b.ends_at, b.uid) for b in found]
    return {
        "busy": busy,
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
        "sync_token": fetched.sync_token,
    }


def _out_of_memory(error: BaseException | None, memory_mb: int) -> bool:
    """Whether a failure came from the memory limit: a MemoryError behind it, or this
    process's address space having come near the limit (a failed allocation may surface
    as another error, such as a thread that cannot start)."""
    while error is not None:
        if isinstance(error, MemoryError):
            return True
        error = error.__cause__ or error.__context__
    with open("/proc/self/status") as status:
        peak_kb = next((int(line.split()[1]) for line in status if line.startswith("VmPeak:")), 0)
    return peak_kb >= memory_mb * 1024 * 0.9


def _child(job: Job, seconds: float, memory_mb: int, sending) -> None:
    """In the child: limit its memory (and, should it outlive the caller, its CPU time),
    read, and send back the spans or an error message."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    cpu = math.ceil(seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    sending.send(answer(job, memory_mb))
    sending.close()


def answer(job: Job, memory_mb: int) -> dict:
    """Reads the source here: the busy spans and validators, or {"error": message}."""
    try:
        return _read_here(job)
    except Exception as error:  # noqa: BLE001 - every failure becomes a message for staff
        if _out_of_memory(error, memory_mb):
            return {"error": f"reading the calendar needed more than {memory_mb} MB"}
        if isinstance(error, fetch.FetchError | rules.FeedError | ValueError):
            return {"error": str(error)}
        log.exception("busy calendar reader: unexpected failure")
        return {"error": "unexpected error (see the server log)"}
