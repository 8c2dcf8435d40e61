"""The mail worker as it runs in production: `flask --app wsgi worker` in its own process,
killed part-way through, restarted, and run twice at once on PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import time as clock_time

from sqlalchemy import func, select

from app.core.database import write_transaction
from app.core.extensions import db
from app.models import AvailabilityRule, OutboxMessage, Slot
from tests.conftest import ROOT, TEST_SETTINGS, build_app, dispose, make_booking

WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]


def start_worker(database_url: str, smtp_port: int, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **TEST_SETTINGS,
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [*WORKER, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def queue_bookings(count: int) -> set[str]:
    """`count` bookings: a confirmation and a staff notice each are due now."""
    for number in range(count):
        make_booking(email=f"patient{number}@example.com", name=f"Patient {number}")
    db.session.expire_all()
    return set(db.session.execute(select(OutboxMessage.message_id).where(OutboxMessage.kind != "reminder")).scalars())


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(process: subprocess.Popen) -> tuple[int, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
    return process.returncode, err


def test_worker_killed_mid_batch_loses_nothing(app, sqlite_url, smtp_server):
    with app.app_context():
        expected = queue_bookings(20)
    assert len(expected) == 40
    smtp_server.stall_after = 12  # the 13th message waits: the worker is killed in the middle
    first = start_worker(sqlite_url, smtp_server.port, "--interval", "0.2", "--lease", "2", "--batch-size", "10")
    try:
        wait_until(lambda: len(smtp_server.received) >= 12, 60, "the first worker to send some mail")
    finally:
        first.kill()
        first.wait()
    delivered_before_kill = len(smtp_server.received)
    smtp_server.stall_after = None
    assert delivered_before_kill == 12, "the worker was killed part-way"

    second = start_worker(sqlite_url, smtp_server.port, "--interval", "0.2", "--lease", "2", "--batch-size", "10")
    try:
        wait_until(
            lambda: {r.message_id for r in list(smtp_server.received)} >= expected, 60, "every message to arrive"
        )
    finally:
        code, stderr = stop(second)
    assert code == 0, stderr  # SIGTERM: finishes the message in hand and exits cleanly

    counts = Counter(r.message_id for r in smtp_server.received)
    assert set(counts) == expected, "nothing lost, nothing invented"
    # At most the message in flight at the kill is sent again, and with its own Message-ID.
    assert sum(counts.values()) - len(expected) <= 1
    resent = [mid for mid, n in counts.items() if n > 1]
    for message_id in resent:
        copies = [r for r in smtp_server.received if r.message_id == message_id]
        assert len({c.rcpt_tos for c in copies}) == 1
    with app.app_context():
        statuses = Counter(
            db.session.execute(select(OutboxMessage.status).where(OutboxMessage.kind != "reminder")).scalars()
        )
    assert statuses == {"sent": 40}


def test_two_workers_on_postgresql_never_send_a_message_twice(postgres_url, smtp_server):
    app = build_app(postgres_url)
    try:
        with app.app_context():
            expected = queue_bookings(30)
        smtp_server.wait_for_senders = 2  # no answer until both workers are sending
        workers = [
            start_worker(postgres_url, smtp_server.port, "--interval", "0.1", "--batch-size", "3") for _ in range(2)
        ]
        try:
            wait_until(
                lambda: {r.message_id for r in list(smtp_server.received)} >= expected, 60, "every message to arrive"
            )
        finally:
            # Each worker finishes the message in hand before it exits, so a double send
            # would have arrived by the time both have stopped.
            results = [stop(worker) for worker in workers]
        counts = Counter(r.message_id for r in smtp_server.received)
        assert set(counts) == expected and max(counts.values()) == 1
        sent_by = [len(re.findall(r"outbox \d+ \(\w+\) sent", err)) for _code, err in results]
        assert sum(sent_by) == len(expected)
        assert all(n > 0 for n in sent_by), f"both workers took part: {sent_by}"
        assert [code for code, _err in results] == [0, 0]
    finally:
        dispose(app)


def test_worker_once_delivers_and_keeps_slots_generated(app, smtp_server):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    with app.app_context():
        make_booking()
        with write_transaction() as session:
            session.add(AvailabilityRule(weekday=2, start_time=clock_time(9), end_time=clock_time(10), slot_minutes=30))
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    assert len(smtp_server.received) == 2
    with app.app_context():
        generated = db.session.execute(select(func.count(Slot.id)).where(Slot.source == "rule")).scalar_one()
    assert generated >= 2 * 8  # Wednesdays 9-10 across the 60-day horizon


def test_worker_command_is_documented(app):
    result = app.test_cli_runner().invoke(args=["worker", "--help"])
    assert result.exit_code == 0 and "--once" in result.output and "--interval" in result.output


def test_claiming_due_mail_probes_by_booking_and_status(app):
    """The in-order check ("no earlier message about this booking still pending") is one
    probe of the (booking, status) index per due message. (On PostgreSQL the plan follows
    the table's statistics; the load benchmark's mail figure shows it there.)"""
    from app.mail.delivery import _due_query
    from app.models import utcnow

    with app.app_context():
        queue_bookings(30)
        query = _due_query(utcnow(), 20)
        sql = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
        plan = [str(row[-1]) for row in db.session.execute(db.text("EXPLAIN QUERY PLAN " + sql))]
        assert any(
            "USING INDEX ix_outbox_message_booking_id_status (booking_id=? AND status=?" in step for step in plan
        ), plan
        db.session.rollback()
