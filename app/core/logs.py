"""Structured (JSON) logs that never carry manage tokens or patient details."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from werkzeug.routing import Map

# A route that takes a secret names it `token` (/manage/<token>, /offers/<token>,
# /calendar/<token>.ics...): the URL map is the one list of paths whose token is redacted.
TOKEN_ARGUMENT = "token"  # noqa: S105 - a route variable's name
_VARIABLE = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
# A token ends where its path segment does (tokens are URL-safe base64: no dot).
_TOKEN_SEGMENT = r"[^/?#.\s\"'<>]+"  # noqa: S105 - a pattern
# Without an app (a log line written outside one), every segment that looks like a token.
_ANY_TOKEN = re.compile(r"(?P<lead>/)[A-Za-z0-9_-]{20,64}(?=[/?#.\s\"'<>]|$)")
_APP_KEY = "mindset.token_paths"
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
    return _CONTROL.sub(
        lambda found: f"\\x{ord(found.group()):02x}" if ord(found.group()) < 0x100 else f"\\u{ord(found.group()):04x}",
        text,
    )


def token_paths(url_map: Map) -> re.Pattern[str]:
    """What comes before the token in every route that takes one (its variables before the
    token read as any segment), as one pattern whose `lead` group is kept and whose token
    is replaced. Unanchored, so it also finds the path inside a full URL or a /es address."""
    leads = set()
    for rule in url_map.iter_rules():
        if TOKEN_ARGUMENT not in rule.arguments:
            continue
        before = rule.rule[: next(m.start() for m in _VARIABLE.finditer(rule.rule) if m.group(1) == TOKEN_ARGUMENT)]
        parts = _VARIABLE.split(before)  # static, variable name, static, ...
        leads.add("".join(re.escape(part) if n % 2 == 0 else "[^/]+" for n, part in enumerate(parts)))
    if not leads:
        return _ANY_TOKEN
    alternatives = "|".join(sorted(leads, key=len, reverse=True))
    return re.compile(f"(?P<lead>{alternatives}){_TOKEN_SEGMENT}")


def app_token_paths(app: Flask) -> re.Pattern[str]:
    """token_paths of the app's URL map, worked out again only when routes were added."""
    count = len(app.url_map._rules)
    cached = app.extensions.get(_APP_KEY)
    if cached is None or cached[0] != count:
        cached = app.extensions[_APP_KEY] = (count, token_paths(app.url_map))
    return cached[1]


def redact_tokens(text: str, pattern: re.Pattern[str] | None = None) -> str:
    """`text` with the token of every token route replaced by `<token>` (by `pattern`, else
    the current app's routes, else any segment that looks like a token)."""
    if pattern is None:
        pattern = app_token_paths(current_app) if has_app_context() else _ANY_TOKEN
    return pattern.sub(r"\g<lead><token>", text)


def redact(text: str) -> str:
    text = redact_tokens(text)
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
        root.setLevel(app.config["LOG_LEVEL"])
    # Alembic announces every plugin it loads at INFO; that is noise in an app log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
