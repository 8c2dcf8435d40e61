"""A loopback HTTP server that answers as Twilio's Messages API does (there is no SMS network
here): 201 with a JSON message resource, 400 with code 21211 for a number that cannot take
texts, 503 while it is "down". It keeps every request it received, field by field."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

__all__ = ["sms_provider"]  # the fixture conftest.py makes available to every test

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "loopback-auth-token"  # noqa: S105 - the test provider's
FROM_NUMBER = "+19705550199"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@dataclass
class Request:
    method: str
    path: str
    authorization: str
    content_type: str
    form: dict[str, str]


class Provider:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.accepted: list[Request] = []  # the texts the provider took (answered 201)
        self.invalid_numbers: set[str] = set()
        self.outage = 0  # answer this many requests with 503
        self.delay = 0.0  # seconds each accepted text takes (a slow provider, for the worker tests)
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"provider": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def settings(self, **extra) -> dict:
        return {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE": self.url,
            **extra,
        }

    def answer(self, request: Request) -> tuple[int, dict]:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.requests.append(request)
            if request.path != MESSAGES_PATH:
                return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            if request.authorization != basic_auth(ACCOUNT_SID, AUTH_TOKEN):
                return 401, {"code": 20003, "message": "Authenticate", "status": 401}
            if self.outage > 0:
                self.outage -= 1
                return 503, {"code": 20503, "message": "Service unavailable", "status": 503}
            to = request.form.get("To", "")
            if to in self.invalid_numbers:
                return 400, {
                    "code": 21211,
                    "message": f"The 'To' number {to} is not a valid phone number.",
                    "more_info": "https://www.twilio.com/docs/errors/21211",
                    "status": 400,
                }
            self.accepted.append(request)
            return 201, {
                "sid": "SM" + secrets.token_hex(16),
                "account_sid": ACCOUNT_SID,
                "to": to,
                "from": request.form.get("From"),
                "body": request.form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "error_code": None,
            }


def basic_auth(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        form = {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        status, body = self.provider.answer(
            Request(
                "POST", self.path, self.headers.get("Authorization", ""), self.headers.get("Content-Type", ""), form
            )
        )
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def sms_provider() -> Iterator[Provider]:
    provider = Provider()
    provider.thread.start()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()
