"""Response headers that every page carries, proxy awareness when configured, and the
edge check that turns malformed input away before any view or database sees it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, quote_from_bytes, unquote, urlsplit

from flask import Flask, Response, request
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

# What no field of any request may carry: NUL (PostgreSQL refuses it in text, and it cuts
# strings short in C libraries) and lone UTF-16 surrogates (not Unicode: they cannot be
# encoded to UTF-8, so a database driver, a template or a log line would fail on them).
_UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff]")
# A value written as a whole date (YYYY-MM-DD, maybe with a time after it).
_ISO_DATE = re.compile(r"\s*(\d{4})-\d{2}-\d{2}(?:[T ][\d:.+\-Z]*)?\s*")
# The years a date in a request may name: a clinic calendar has no use for others, and
# date arithmetic (adding the booking horizon, a week, a day) near year 1 or 9999
# would overflow.
DATE_YEARS = range(1900, 3000)
# Longer runs of digits than any id or page number here: larger values would overflow a
# database's 64-bit integers.
MAX_WHOLE_NUMBER_DIGITS = 18


# The largest id a path may name: a database's signed 64-bit integer.
MAX_PATH_INT = 2**63 - 1
MALFORMED_MESSAGE = _l("That request held characters or values we cannot accept.")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# Every response carries these unless its view set its own.
_DEFAULT_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)


def is_unsafe_text(value: str) -> bool:
    """True when `value` holds a NUL or a lone surrogate: text no part of the app accepts."""
    return _UNSAFE_TEXT.search(value) is not None


# How many times a return address is percent-decoded when looking for a hidden `//`, `\`
# or control character (a browser or proxy may decode it once or twice more).
_RETURN_DECODINGS = 3


def safe_return_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: the one rule for every return address
    a request carries (`next` on the language switch and the staff sign-in). It must start with
    a single `/` (not `//` or `/\\`, which browsers read as another host), hold no backslash
    and no control or invisible character (browsers drop tabs and newlines, so a tab between
    two slashes makes `//host`), and stay so when percent-decoded (`/%2F/host`, `/%09/host`)."""
    if not target:
        return None
    forms = [target]
    for _ in range(_RETURN_DECODINGS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    for form in forms:
        if not form.startswith("/") or form.startswith("//") or "\\" in form:
            return None
        if not all(ch.isprintable() for ch in form):
            return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# What a path or query may keep as it is in a Location header (RFC 3986 reserved and
# unreserved characters; `%` too in a query, which arrives already encoded).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?%"


def location_of(path: str, query: bytes = b"") -> str:
    """A path (decoded, as routing sees it) and its raw query as a Location header value:
    a newline or other control character in a request path is written %0A, never sent raw."""
    location = quote(path, safe=_PATH_SAFE)
    return f"{location}?{quote_from_bytes(query, safe=_QUERY_SAFE)}" if query else location


def is_date_out_of_range(value: str) -> bool:
    """True for a value written as a date outside DATE_YEARS; other text is not a date."""
    date_match = _ISO_DATE.fullmatch(value)
    return date_match is not None and int(date_match.group(1)) not in DATE_YEARS


def is_out_of_range(value: str) -> bool:
    """True for a value no date or number parameter can use: a date outside DATE_YEARS, or a
    whole number too large for a database integer. Other text is left to each field's check."""
    if is_date_out_of_range(value):
        return True
    stripped = value.strip().lstrip("+-")
    return stripped.isdigit() and len(stripped.lstrip("0")) > MAX_WHOLE_NUMBER_DIGITS


def _json_strings(body) -> Iterator[str]:
    """Every key and string value in a parsed JSON body, walked without recursion (the body
    may be nested as deep as the parser allowed)."""
    pending = [body]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _json_body():
    """The parsed JSON body (None when there is none or it is not JSON). Nesting deeper than
    the parser can follow is a malformed request, like any other JSON syntax error."""
    if not request.is_json:
        return None
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return _MALFORMED


_MALFORMED = object()


def malformed_input() -> bool:
    """True when the request carries input no view can use: NUL bytes or lone surrogates
    anywhere, dates outside the years a calendar needs, query numbers too large for the
    database, or JSON nested too deep to parse. One check for every route, so no view, query
    or log line meets such input. (Reading the form or JSON body here is also where a body
    over MAX_CONTENT_LENGTH is refused with 413, before it is parsed.)"""
    if any(value > MAX_PATH_INT for value in (request.view_args or {}).values() if isinstance(value, int)):
        return True
    body = _json_body()
    if body is _MALFORMED:
        return True
    json_strings = list(_json_strings(body)) if body is not None else []
    query = list(request.args.items(multi=True))
    form = list(request.form.items(multi=True))
    names_and_values = [text for pair in (*query, *form) for text in pair]
    if any(is_unsafe_text(text) for text in (request.path, *names_and_values, *json_strings)):
        return True
    if any(is_out_of_range(value) for _name, value in query):
        return True
    return any(is_date_out_of_range(value) for value in (*(v for _n, v in form), *json_strings))


def keep_private(response: Response, keep_cache_control: bool = False) -> Response:
    """Headers for a page or answer that carries a token: never sent on to other sites in a
    Referer, never stored by a browser or proxy (unless the view chose its own caching)."""
    response.headers["Referrer-Policy"] = "no-referrer"
    if not keep_cache_control:
        response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    @app.before_request
    def _reject_malformed_input():
        if malformed_input():
            from app.core.errors import error_response

            return error_response(400, "malformed_input", MALFORMED_MESSAGE)
        return None

    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]  # middleware

    @app.after_request
    def _headers(response):
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        # Headers.setdefault looks each name up by raising and catching KeyError; one pass
        # over the few names the response has is far cheaper.
        headers.extend([(name, value) for name, value in _DEFAULT_HEADERS if name.lower() not in present])
        if request.is_secure and "strict-transport-security" not in present:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.view_args and "token" in request.view_args:
            keep_private(response, keep_cache_control="cache-control" in present)
        return response
