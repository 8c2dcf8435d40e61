"""Malformed input is a 4xx with a proper error page, never a 500: NUL bytes and lone
surrogates anywhere, JSON nested past the parser's depth, dates at the calendar's edges,
numbers too large for the database, and bodies over MAX_CONTENT_LENGTH. The sweep sends
such values to every route the app has: all of them on SQLite, and on PostgreSQL the ones
PostgreSQL treats differently (the rest never reach the database differently)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from tests.conftest import build_app, dispose, make_booking, make_slot
from tests.fixtures_staff import signed_in_client

# Values no route may answer with a 5xx, wherever they appear.
MALFORMED = (
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "9999-12-31",
    "0001-01-01",
    "2999-12-31",
    "1900-01-01",
    "99999999999999999999999",
    "-1",
    "",
)
# The values PostgreSQL answers differently from SQLite: it refuses NUL in text and text that
# is not valid UTF-8, and bounds integers and dates. Parsing (empty, negative, deep JSON, odd
# keys) happens before any query, the same whatever the database.
DATABASE_SENSITIVE = ("a\x00b", "\ud800", "9999-12-31", "0001-01-01", "99999999999999999999999")
# Every query parameter the views read.
QUERY_NAMES = (
    "day",
    "week",
    "start",
    "end",
    "date_from",
    "date_to",
    "page",
    "q",
    "status",
    "mode",
    "interest",
    "when",
    "action",
    "next",
    "done",
    "edit",
    "first",
    "last",
)
# Form names read straight from request.form (the rest come from the form classes).
RAW_FORM_NAMES = ("active", "role", "password", "slot", "action", "back", "attendance", "week")
# 30,000 levels fit under the 64 KB body limit and are far past the JSON parser's depth.
DEEP_JSON = "[" * 30_000 + "]" * 30_000


def form_field_names() -> set[str]:
    """Every field name of every form class the app defines (its views are imported)."""
    names = set(RAW_FORM_NAMES)
    pending = list(FlaskForm.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        names.update(name for name in dir(cls) if isinstance(getattr(cls, name, None), UnboundField))
    return names


def valid_path_values(booking) -> dict[str, object]:
    return {
        "token": booking.manage_token,
        "slot_id": booking.booking.slot.public_id,
        "public_id": booking.booking.public_id,
        "slug": "tms",
        "pair_slug": "tms-vs-ketamine",
        "filename": "app.css",
    }


def build_path(rule, values: dict[str, object], fill: object | None = None) -> str:
    """The rule's URL with each argument taken from `values` (or `fill` for all of them),
    written directly, so malformed values reach the router unescaped."""
    path = rule.rule
    # Arguments given by the rule's defaults (a "new" page's `item_id=None`) are not in its path.
    for argument in rule._converters:
        numeric = "Integer" in type(rule._converters[argument]).__name__
        value = fill if fill is not None else values.get(argument, 1 if numeric else "x")
        placeholder = next(
            part for part in _placeholders(path) if part.endswith(f":{argument}>") or part == f"<{argument}>"
        )
        path = path.replace(placeholder, str(value))
    return path


def on_the_wire(text: str) -> str:
    """`text` percent-encoded as a client sends it: lone surrogates as their UTF-8 bytes
    (what "surrogatepass" writes), which only the server can decide what to do with."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def encoded_pairs(names, value: str) -> str:
    return "&".join(f"{on_the_wire(name)}={on_the_wire(value)}" for name in sorted(names))


def _placeholders(path: str):
    start = path.find("<")
    while start != -1:
        end = path.index(">", start)
        yield path[start : end + 1]
        start = path.find("<", end)


class Sweep:
    def __init__(self) -> None:
        self.routes: set[str] = set()
        self.cases = 0
        self.server_errors: list[tuple] = []

    def send(self, client, method: str, path: str, kind: str, **kwargs) -> None:
        self.cases += 1
        try:
            response = client.open(path, method=method, **kwargs)
        except Exception as error:  # noqa: BLE001 - an error that escapes the app is a 500 too
            self.server_errors.append((method, path, kind, repr(error)[:200]))
            return
        if response.status_code >= 500:
            self.server_errors.append((method, path, kind, response.status_code))


def sweep_app(app, clients, malformed=MALFORMED, parsing: bool = True) -> Sweep:
    """Every route, method and client with each of `malformed` in the path, the query, a form and
    a JSON body; with `parsing`, also odd JSON keys and JSON nested past the parser's depth."""
    sweep = Sweep()
    with app.app_context():
        booking = make_booking()
        make_slot()
        values = valid_path_values(booking)
    form_names = form_field_names()
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods & {"GET", "POST"})
        sweep.routes.add(rule.rule)
        for client in clients:
            for method in methods:
                valid = build_path(rule, values)
                for value in malformed:
                    if rule.arguments:
                        sweep.send(client, method, build_path(rule, values, on_the_wire(value)), "path")
                    sweep.send(client, method, valid, "query", query_string=encoded_pairs(QUERY_NAMES, value))
                    sweep.send(
                        client,
                        method,
                        valid,
                        "form",
                        data=encoded_pairs(form_names, value),
                        content_type="application/x-www-form-urlencoded",
                    )
                    sweep.send(
                        client, method, valid, "json", json={name: value for name in (*form_names, *QUERY_NAMES)}
                    )
                if parsing:
                    sweep.send(client, method, valid, "json-key", json={"\ud800": "x", "a\x00": ["\x00"]})
                    sweep.send(client, method, valid, "deep-json", data=DEEP_JSON, content_type="application/json")
    return sweep


@pytest.fixture
def swept_app(database_url):
    app = build_app(database_url, {"WTF_CSRF_ENABLED": False, "DEV_MAIL_VIEWER": True})
    yield app
    dispose(app)


def test_no_route_answers_malformed_input_with_a_server_error(swept_app):
    clients = [swept_app.test_client(), signed_in_client(swept_app, "alex@mindset-tms.example", "admin")]
    on_sqlite = swept_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    sweep = (
        sweep_app(swept_app, clients) if on_sqlite else sweep_app(swept_app, clients, DATABASE_SENSITIVE, parsing=False)
    )
    print(
        f"\nsweep on {swept_app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}: "
        f"{len(sweep.routes)} routes, {sweep.cases} cases, {len(sweep.server_errors)} 5xx"
    )
    assert sweep.routes == {rule.rule for rule in swept_app.url_map.iter_rules()}
    assert sweep.server_errors[:20] == []


# Path text the language redirect copies into its Location header.
PATH_BREAKERS = ("\x00", "\ud800", "\n", "\r\n", "\t", "\x7f", "\x85", "\u2028", "%", "é€")
# Both ways a visitor asks for a language, for both languages.
PREFERENCES = tuple((way, language) for way in ("header", "cookie") for language in ("es", "en"))


def language_sweep(app) -> Sweep:
    """Every GET route, at its English and Spanish address, with malformed and line-breaking
    text in its path (or after it), for a visitor who prefers each language by the
    Accept-Language header or the lang cookie (the preference redirect copies the path)."""
    sweep = Sweep()
    with app.app_context():
        values = valid_path_values(make_booking())
    for way, language in PREFERENCES:
        client = app.test_client()
        headers = {"Accept-Language": language} if way == "header" else {}
        if way == "cookie":
            client.set_cookie("lang", language)
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            sweep.routes.add(rule.rule)
            for value in PATH_BREAKERS:
                encoded = on_the_wire(value)
                path = build_path(rule, values, encoded) if rule.arguments else build_path(rule, values) + encoded
                for address in (path, f"/es{path}"):
                    sweep.send(client, "GET", address, f"{way}={language}", headers=headers)
    return sweep


@pytest.fixture
def sqlite_swept_app(sqlite_url):
    """SQLite alone: the redirect reads no database, and the path values PostgreSQL treats
    differently (NUL, invalid UTF-8) reach it in the sweep above."""
    app = build_app(sqlite_url, {"WTF_CSRF_ENABLED": False, "DEV_MAIL_VIEWER": True})
    yield app
    dispose(app)


def test_the_language_redirect_never_answers_malformed_input_with_a_server_error(sqlite_swept_app):
    sweep = language_sweep(sqlite_swept_app)
    print(f"\nlanguage sweep: {len(sweep.routes)} routes, {sweep.cases} cases, {len(sweep.server_errors)} 5xx")
    assert sweep.server_errors[:20] == []


@pytest.mark.parametrize(("way", "language"), PREFERENCES)
def test_a_newline_in_a_path_is_encoded_in_the_language_redirect(client, way, language):
    if way == "cookie":
        client.set_cookie("lang", language)
    headers = {"Accept-Language": language} if way == "header" else {}
    response = client.get("/faq%0a", headers=headers)
    if language == "es":
        assert response.status_code == 302 and response.headers["Location"] == "/es/faq%0A"
    else:
        assert response.status_code == 404
    assert client.get("/es/faq%0a", headers=headers).status_code == 404


# --- each kind of malformed input, on its own ------------------------------------------------

API_BODY = {
    "mode": "phone",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "970-555-0123",
    "interest": "tms",
    "consent": True,
}


def test_nul_and_surrogates_in_a_booking_are_a_json_400_on_both_databases(any_app):
    client = any_app.test_client()
    with any_app.app_context():
        slot_id = make_slot().public_id
    for name in ("Ada\x00 Lovelace", "Ada \ud800"):
        response = client.post("/api/v1/bookings", json={**API_BODY, "slot_id": slot_id, "name": name})
        assert response.status_code == 400, name
        assert response.get_json()["error"]["code"] == "malformed_input"
    page = client.post(f"/book/{slot_id}", data={"name": "Ada\x00"})
    assert page.status_code == 400 and "<html" in page.get_data(as_text=True)
    assert client.get("/manage/abc%00def").status_code == 400
    assert client.get("/book?x=%ED%A0%80").status_code in (200, 400)  # decoded as U+FFFD


def test_json_nested_past_the_parsers_depth_is_a_400(sqlite_url):
    app = build_app(sqlite_url, {"MAX_CONTENT_LENGTH": 1024 * 1024})
    try:
        client = app.test_client()
        deep = "[" * 100_000 + "]" * 100_000
        response = client.post("/api/v1/bookings", data=deep, content_type="application/json")
        assert response.status_code == 400
        assert response.get_json()["error"]["code"] == "malformed_input"
        assert client.post("/self-check", data=deep, content_type="application/json").status_code == 400
    finally:
        dispose(app)


def test_dates_at_the_edges_of_the_calendar_are_a_400(app, client):
    for query in ("start=9999-12-31", "start=0001-01-01", "end=9999-12-31", "start=2026-01-01&end=10000-01-01"):
        response = client.get(f"/api/v1/slots?{query}")
        assert response.status_code == 400, query
        assert "error" in response.get_json()
    staff = signed_in_client(app, "sam@mindset-tms.example")
    for path in (
        "/staff/calendar?week=9999-12-31",
        "/staff/bookings?date_from=0001-01-01",
        "/staff/export?first=9999-12-31&last=9999-12-31",
        "/staff/audit?page=99999999999999999999",
    ):
        assert staff.get(path).status_code == 400, path
    assert staff.get("/staff/calendar?week=2999-12-31").status_code == 200


def test_a_body_over_the_limit_is_refused_with_413(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    big = "x" * (64 * 1024)
    api = client.post("/api/v1/bookings", json={**API_BODY, "note": big})
    assert api.status_code == 413
    assert api.get_json()["error"] == {"code": "too_much_data", "message": "That request was larger than we accept."}
    form = client.post("/self-check", data={"seizures": "yes", "note": big})
    assert form.status_code == 413
    assert "Too much data" in form.get_data(as_text=True)
    # Just under the limit is read as usual.
    assert client.post("/api/v1/bookings", json={**API_BODY, "note": "x" * 1000}).status_code == 422
