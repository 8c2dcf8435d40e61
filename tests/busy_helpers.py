"""Helpers for the busy-calendar tests: a tiny ICS server on loopback (with ETag and
Last-Modified handling, redirects, errors, stalls, answers sent a byte at a time and
answers held until the test releases them) and feeds written like Google's."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    location: str = ""
    delay: float = 0.0
    # Seconds between bytes: the whole answer, status line and headers too, sent a byte at a time.
    trickle: float = 0.0
    # Set: the request is held until the test sets it (`FeedServer.arrived` tells it came).
    hold: threading.Event | None = None
    modified: datetime = field(default_factory=lambda: datetime(2026, 12, 1, tzinfo=UTC))


class FeedServer:
    """Serves `routes[path]`; answers 304 when If-None-Match matches the body's ETag."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.arrived = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append((self.path, dict(self.headers)))
                server.arrived.set()
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.hold is not None:
                    route.hold.wait(120)
                if route.trickle:
                    self.send_slowly(route)
                    return
                etag = '"' + sha256(route.body).hexdigest()[:16] + '"'
                if route.location:
                    self.send_response(route.status)
                    self.send_header("Location", route.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", "text/calendar; charset=UTF-8")
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", format_datetime(route.modified, usegmt=True))
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def send_slowly(self, route: Route) -> None:
                answer = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nX-Padding: "
                    + b"x" * 2000
                    + b"\r\nContent-Length: %d\r\n\r\n" % len(route.body)
                    + route.body
                )
                for byte in answer:
                    try:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    time.sleep(route.trickle)

            do_PROPFIND = do_REPORT = do_GET  # noqa: N815 - enough of CalDAV to redirect or flood a client

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def vevent(uid: str, starts_at: datetime, ends_at: datetime, *extra: str) -> str:
    lines = [
        "BEGIN:VEVENT",
        f"DTSTART:{stamp(starts_at)}",
        f"DTEND:{stamp(ends_at)}",
        "DTSTAMP:20261201T120000Z",
        f"UID:{uid}",
        "SUMMARY:Treatment session - J. Smith",
        "DESCRIPTION:Private notes about a patient",
        *extra,
        "END:VEVENT",
    ]
    return "\r\n".join(lines) + "\r\n"


def google_feed(*events: str) -> bytes:
    head = (
        "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\n"
        "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Dr Lee\r\n"
        "X-WR-TIMEZONE:America/Denver\r\n"
    )
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode()


@pytest.fixture
def feeds():
    """A FeedServer on loopback for one test."""
    server = FeedServer()
    yield server
    server.stop()
