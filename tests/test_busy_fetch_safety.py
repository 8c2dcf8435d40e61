"""Fetch safety against real servers on loopback: the address checked is the address
connected to (a name that rebinds to a private address after the check gains nothing), a
redirect to a private address is refused before any request reaches it, and the CalDAV
client's own redirects and response sizes are bounded.

127.0.0.1 plays a public host here and 127.0.0.2 a private one (both reach this machine):
the one function deciding what is public is swapped for the test, the fetch code is not."""

from __future__ import annotations

import ipaddress
import socket
from datetime import timedelta

import pytest

from app.busy import fetch
from app.models import utcnow
from tests.busy_helpers import FeedServer, Route, google_feed

PUBLIC, PRIVATE = "127.0.0.1", "127.0.0.2"
LIMITS = fetch.Limits(timeout=2, max_bytes=1024, allow_private=False)
REAL_IS_PUBLIC = fetch.is_public  # the tests below swap it; the address-form tests use it


@pytest.fixture(autouse=True)
def only_127_0_0_1_is_public(monkeypatch):
    monkeypatch.setattr(
        fetch, "is_public", lambda address: ipaddress.ip_address(address) == ipaddress.ip_address(PUBLIC)
    )


@pytest.fixture
def public():
    server = FeedServer(PUBLIC)
    yield server
    server.stop()


@pytest.fixture
def private(public):
    server = FeedServer(PRIVATE, public.port)  # the same port: only the address differs
    yield server
    server.stop()


def test_a_name_rebinding_to_a_private_address_after_the_check_reaches_only_the_checked_one(
    monkeypatch, public, private
):
    answers = iter([PUBLIC] + [PRIVATE] * 10)
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "calendar.test":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    public.routes["/f.ics"] = private.routes["/f.ics"] = Route(google_feed())
    fetched = fetch.fetch_ics(f"http://calendar.test:{public.port}/f.ics", LIMITS)
    assert fetched.texts == [google_feed()]
    assert [path for path, _ in public.requests] == ["/f.ics"] and private.requests == []
    assert public.requests[0][1]["Host"] == f"calendar.test:{public.port}"
    # Asked again, the name now answers privately, and is refused.
    with pytest.raises(fetch.FetchError, match="private or local address"):
        fetch.fetch_ics(f"http://calendar.test:{public.port}/f.ics", LIMITS)
    assert private.requests == []


@pytest.mark.parametrize("target", [f"http://{PRIVATE}:{{port}}/f.ics", "http://127.0.0.2.nip.invalid/"])
def test_a_redirect_to_a_private_address_is_refused_before_any_request_reaches_it(monkeypatch, public, private, target):
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: real(PRIVATE if host == "127.0.0.2.nip.invalid" else host, port, *a, **k),
    )
    private.routes["/f.ics"] = Route(google_feed())
    public.routes["/go"] = Route(status=302, location=target.format(port=public.port))
    with pytest.raises(fetch.FetchError, match="private or local address"):
        fetch.fetch_ics(public.url + "/go", LIMITS)
    assert [path for path, _ in public.requests] == ["/go"] and private.requests == []


def caldav(url: str, limits: fetch.Limits = LIMITS, sync_token: str = "") -> fetch.Fetched:
    now = utcnow()
    return fetch.fetch_caldav(url, limits, now, now + timedelta(days=30), "drlee", "pw", sync_token)


def test_the_caldav_client_is_refused_a_private_address_and_a_redirect_to_one(public, private):
    with pytest.raises(fetch.FetchError, match="private or local address"):
        caldav(private.url + "/dav/")
    public.routes["/dav/"] = Route(status=301, location=private.url + "/dav/")
    with pytest.raises(fetch.FetchError, match="private or local address"):
        caldav(public.url + "/dav/")
    assert private.requests == []


def test_the_caldav_clients_own_redirects_are_bounded(public):
    for hop in range(10):
        public.routes[f"/dav{hop}/"] = Route(status=301, location=f"/dav{hop + 1}/")
    with pytest.raises(fetch.FetchError, match="more than 3 redirects"):
        caldav(public.url + "/dav0/")
    assert len(public.requests) <= 2 * (fetch.MAX_REDIRECTS + 1)


def test_a_caldav_answer_larger_than_the_limit_is_refused_before_it_is_parsed(public):
    public.routes["/dav/"] = Route(b"<multistatus>" + b"x" * 4096)
    with pytest.raises(fetch.FetchError, match="larger than 1024 bytes"):
        caldav(public.url + "/dav/")


def test_the_sync_token_request_has_the_same_size_limit_and_address_check(public, private):
    public.routes["/dav/"] = Route(b"<multistatus>" + b"x" * 4096)
    with pytest.raises(fetch.FetchError, match="larger than 1024 bytes"):
        caldav(public.url + "/dav/", sync_token="http://radicale.org/ns/sync/abc")
    with pytest.raises(fetch.FetchError, match="private or local address"):
        caldav(private.url + "/dav/", sync_token="http://radicale.org/ns/sync/abc")
    assert private.requests == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::7f00:1",
        "::127.0.0.1",
        "::8.8.8.8",  # IPv4-compatible: deprecated, never routed
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::7f00:1",
        "64:ff9b::a01:203",  # NAT64 to a private address
        "64:ff9b:1::808:808",
        "64:ff9b:1:a9fe:a9fe::",  # local-use NAT64, whatever it carries
        "2002:7f00:1::",
        "2002:a9fe:a9fe::1",
        "2002:a01:203::",  # 6to4 of a private address
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:0:a9fe:a9fe::1",  # Teredo, server 169.254.169.254
    ],
)
def test_every_form_of_a_private_or_local_address_is_refused(address):
    assert not REAL_IS_PUBLIC(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]
)
def test_public_addresses_and_forms_carrying_a_public_one_are_allowed(address):
    assert REAL_IS_PUBLIC(address)


@pytest.mark.parametrize("kind", ["ics", "caldav"])
def test_a_server_sending_a_byte_at_a_time_is_cut_off_at_one_total_deadline(public, kind):
    """Each byte comes well within the per-read timeout; the whole answer would take minutes."""
    public.routes["/slow/"] = Route(google_feed(), trickle=0.05)
    with pytest.raises(fetch.FetchError, match="did not send the calendar within 1 s"):
        if kind == "ics":
            fetch.fetch_ics(public.url + "/slow/", fetch.Limits(timeout=1, max_bytes=1024 * 1024))
        else:
            caldav(public.url + "/slow/", fetch.Limits(timeout=1, max_bytes=1024 * 1024))


@pytest.fixture
def other_port():
    server = FeedServer(PUBLIC)  # the same host, another port
    yield server
    server.stop()


def test_credentials_go_only_to_the_exact_origin_they_were_given_for(public, other_port):
    public.routes["/f.ics"] = other_port.routes["/f.ics"] = Route(google_feed())
    public.routes["/here"] = Route(status=302, location="/f.ics")
    public.routes["/there"] = Route(status=302, location=other_port.url + "/f.ics")
    fetch.fetch_ics(public.url + "/here", LIMITS, auth=("drlee", "pw"))
    assert [headers.get("Authorization", "") != "" for _path, headers in public.requests] == [True, True]
    fetch.fetch_ics(public.url + "/there", LIMITS, auth=("drlee", "pw"))
    assert public.requests[-1][1]["Authorization"].startswith("Basic ")
    assert [path for path, _ in other_port.requests] == ["/f.ics"]
    assert "Authorization" not in other_port.requests[0][1]


def test_a_caldav_redirect_to_another_port_gets_no_credentials(public, other_port):
    public.routes["/dav/"] = Route(status=301, location=other_port.url + "/dav/")
    other_port.routes["/dav/"] = Route(status=401)
    with pytest.raises(fetch.FetchError):
        caldav(public.url + "/dav/")
    assert other_port.requests and all("Authorization" not in headers for _p, headers in other_port.requests)


@pytest.mark.parametrize(
    ("given", "other"),
    [
        ("https://cal.example/f.ics", "http://cal.example/f.ics"),
        ("https://cal.example/f.ics", "https://cal.example:8443/f.ics"),
        ("http://cal.example/f.ics", "https://cal.example/f.ics"),
        ("https://cal.example/f.ics", "https://evil.example/f.ics"),
        ("https://cal.example/f.ics", "https://cal.example.evil.example/f.ics"),
    ],
)
def test_another_scheme_port_or_host_is_another_origin(given, other):
    assert fetch.origin(given) != fetch.origin(other)
    assert fetch.origin(given) == fetch.origin(given.replace("/f.ics", "/g.ics"))
    assert fetch.origin("https://cal.example/f.ics") == fetch.origin("https://CAL.example:443/x")
