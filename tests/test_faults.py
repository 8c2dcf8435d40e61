"""Faults: a busy SQLite file and a PostgreSQL server that goes away and comes back. Requests
fail cleanly with a retryable 503, nothing is half-written, and the app recovers by itself."""

from __future__ import annotations

import socket
import sqlite3
import threading
from contextlib import suppress

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app.core.extensions import db
from app.models import Booking
from tests.conftest import POSTGRES_ADMIN_URL, booking_form, build_app, dispose, make_slot

API_BODY = {
    "mode": "phone",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "970-555-0123",
    "interest": "tms",
    "consent": True,
}


def count_bookings(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(Booking.id))).scalar_one()


def test_sqlite_busy_gives_503_then_recovers(sqlite_url, tmp_path):
    app = build_app(sqlite_url, {"SQLITE_BUSY_TIMEOUT_MS": 150})
    try:
        with app.app_context():
            slot_id = make_slot().public_id
        client = app.test_client()
        page = client.get(f"/book/{slot_id}").get_data(as_text=True)
        blocker = sqlite3.connect(str(tmp_path / "test.db"), isolation_level=None, timeout=0.1)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            api = client.post("/api/v1/bookings", json={**API_BODY, "slot_id": slot_id})
            assert api.status_code == 503 and api.headers["Retry-After"]
            assert api.get_json()["error"]["code"] == "unavailable"
            form = client.post(f"/book/{slot_id}", data=booking_form(page, name="Grace Hopper"))
            body = form.get_data(as_text=True)
            assert form.status_code == 503
            assert "nothing was booked" in body and 'value="Grace Hopper"' in body
            assert "database is locked" not in body
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert count_bookings(app) == 0
        assert client.post("/api/v1/bookings", json={**API_BODY, "slot_id": slot_id}).status_code == 201
        assert count_bookings(app) == 1
    finally:
        dispose(app)


class TcpProxy:
    """Forwards a local port to PostgreSQL; stopping it is the database going away."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server: socket.socket | None = None
        self.connections: list[socket.socket] = []

    def start(self) -> None:
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", self.port))
        self.server.listen(32)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def stop(self) -> None:
        if self.server:
            with suppress(OSError):
                self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept() thread
            self.server.close()
            self.server = None
        for conn in self.connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        self.connections.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_postgres_going_away_gives_503_then_recovers(postgres_url):
    url = make_url(postgres_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = build_app(proxied)
    try:
        with app.app_context():
            first, second = make_slot().public_id, make_slot().public_id
        client = app.test_client()
        assert client.get("/api/v1/slots").status_code == 200  # the pool holds a live connection

        proxy.stop()  # PostgreSQL "restarts": live connections die, new ones are refused
        down = client.post("/api/v1/bookings", json={**API_BODY, "slot_id": first})
        assert down.status_code == 503 and down.get_json()["error"]["code"] == "unavailable"
        assert client.get("/book").status_code == 503
        assert client.get("/healthz").status_code == 503

        proxy.start()  # back again: no app restart needed
        assert client.get("/healthz").status_code == 200
        assert client.post("/api/v1/bookings", json={**API_BODY, "slot_id": first}).status_code == 201
        assert (
            client.post("/api/v1/bookings", json={**API_BODY, "slot_id": second, "email": "b@example.com"}).status_code
            == 201
        )
        assert count_bookings(app) == 2
    finally:
        dispose(app)
        proxy.stop()


def test_connections_killed_by_the_server_are_replaced_transparently(postgres_url):
    app = build_app(
        postgres_url,
        {
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"application_name": "mindset-fault-test"},
            }
        },
    )
    try:
        with app.app_context():
            slot_id = make_slot().public_id
        client = app.test_client()
        assert client.get("/api/v1/slots").status_code == 200
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'mindset-fault-test'"
                )
            ).scalar_one()
        admin.dispose()
        assert killed >= 1
        assert client.post("/api/v1/bookings", json={**API_BODY, "slot_id": slot_id}).status_code == 201
    finally:
        dispose(app)
