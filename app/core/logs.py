"""Structured (JSON) logs that never carry manage tokens or patient details."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

# Paths that carry a secret token: /manage/<token>..., /api/v1/bookings/<token>..., /calendar/<token>.ics
_TOKEN_PATHS = re.compile(r"(/manage/|/api/v1/bookings/|/calendar/)[A-Za-z0-9_-]{16,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")


# Characters that would end, rewrite or cut a log line: C0 controls (newline, carriage
# return, NUL, escape sequences), DEL, C1 controls and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Terminal colour codes (werkzeug colours its start-up banner): dropped from text lines
# rather than shown as escapes; any other escape sequence is still escaped.
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
_DEV_SERVER_BANNER = "WARNING: This is a development server."


def escape_controls(text: str) -> str:
    """`text` with every control character written as a visible escape (a newline as \\x0a),
    so input that reaches a log line (a request path, a header) cannot start a forged line
    or write a NUL."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}" if ord(found.group()) < 0x100
                        else f"\\u{ord(found.group()):04x}", text)


def redact(text: str) -> str:
    text = _TOKEN_PATHS.sub(r"\1<token>", text)
    text = _EMAIL.sub("<email>", text)
    return _PHONE.sub("<phone>", text)


def request_id() -> str:
    """The id every log line of this request carries: the proxy's X-Request-ID, else a new
    random one. Made when the request first logs, not for every request."""
    found = g.get("request_id")
    if found is None:
        found = g.request_id = request.headers.get("X-Request-ID", "")[:64] or secrets.token_hex(8)
    return found


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if has_request_context():
            entry["method"] = request.method
            entry["path"] = redact(request.path)
            entry["request_id"] = request_id()
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry)


class TextFormatter(logging.Formatter):
    """Readable lines for a local run, redacted the same way: the message and any traceback,
    not the line's own timestamp (whose "2026-11-25 02" looks like a phone number). The
    message's control characters are escaped, so one record is one line (a traceback below
    it keeps its own lines); terminal colour codes are left out."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        message = _COLOUR.sub("", redact(record.message))
        if record.name == "werkzeug" and not record.args and message.startswith(_DEV_SERVER_BANNER):
            # The dev server's start-up banner: werkzeug's own words and the configured
            # address, a line each (no request input can reach this message).
            lines = message.splitlines()
        else:
            lines = [message]
        formatted = []
        for line in lines:
            record.message = escape_controls(line)
            formatted.append(super().formatMessage(record))
        return "\n".join(formatted)

    def formatException(self, ei) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))


def register(app: Flask) -> None:
    if app.config.get("TESTING"):
        return
    formatter = TextFormatter() if app.config.get("LOG_FORMAT") == "text" else JsonFormatter()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter | TextFormatter) for h in root.handlers):
        root.handlers = [handler]
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Alembic announces every plugin it loads at INFO; that is noise in an app log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

