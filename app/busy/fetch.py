"""Reading a busy source over the network, carefully: http and https only, no private,
loopback or link-local addresses (unless allowed; checked as each connection is made, so
the address checked is the address used), at most 3 redirects, one total deadline and a
size limit (for CalDAV too), credentials sent only to the origin they were given for, and
conditional requests so an unchanged ICS feed costs one 304 and an
unchanged CalDAV calendar one sync-collection REPORT (RFC 6578) listing no changes.

Errors are FetchError with a message safe to show staff: never the URL (secret ICS links
are credentials), never the server's body."""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import niquests
from niquests.packages.urllib3.contrib.resolver.system import SystemResolver

MAX_REDIRECTS = 3


def _no_request_lines(record: logging.LogRecord) -> bool:
    # urllib3 logs each request line at DEBUG, path and query included: a secret ICS link.
    return record.levelno > logging.DEBUG


logging.getLogger("urllib3.connectionpool").addFilter(_no_request_lines)


class FetchError(Exception):
    pass


@dataclass(frozen=True)
class Limits:
    timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    allow_private: bool = False


@dataclass(frozen=True)
class Fetched:
    """`texts` is None when the server answered 304 Not Modified, or a CalDAV server
    reported no change since the stored sync token. `sync_token` is the CalDAV
    collection's token as of (or before) this read; "" when the server offers none."""

    texts: list[bytes] | None
    etag: str = ""
    last_modified: str = ""
    sync_token: str = ""


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port): where credentials given for `url` may be sent."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").rstrip("."), port


def check_url(url: str) -> None:
    """Refuses schemes other than http(s); addresses are checked as each connection is made."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http and https addresses may be used")


# IPv4-compatible (::a.b.c.d, deprecated, never routed) and local-use NAT64 (RFC 8215):
# refused whatever they embed.
_NEVER_PUBLIC_V6 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: NAT64 (RFC 6052), 6to4 (2002::/16) and
    both of Teredo's (2001::/32, server and client)."""
    found = [ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in found if address is not None]


def is_public(address: str) -> bool:
    """Whether an address may be connected to: a global unicast address, and for an IPv6
    form that carries an IPv4 address (mapped, NAT64, 6to4, Teredo), that one is too."""
    return _is_public(ipaddress.ip_address(address.split("%")[0]))


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return _is_public(ip.ipv4_mapped)
        if any(ip in network for network in _NEVER_PUBLIC_V6):
            return False
        if not all(_is_public(embedded) for embedded in _embedded_ipv4(ip)):
            return False
    return ip.is_global and not ip.is_multicast


class _CheckedResolver(SystemResolver):
    """The system's resolver, refusing private, loopback and link-local answers. The
    connection is made to the very addresses checked here (for every hop, IP literals
    included), so a name that answers differently a moment later (DNS rebinding) gains
    nothing."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private
        self.refused = ""

    def getaddrinfo(self, host, port, family, type, proto=0, flags=0, *, quic_upgrade_via_dns_rr=False):
        infos = super().getaddrinfo(host, port, family, type, proto, flags)
        if not self.allow_private and not all(is_public(str(info[4][0])) for info in infos):
            self.refused = str(host)
            raise socket.gaierror(f"{host} resolves to a private or local address")
        return infos


class _Expired(BaseException):
    """The fetch's deadline passed. A BaseException, so that no library's `except Exception`
    turns it into something else on its way out."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """One total deadline for a whole fetch (every redirect, request and byte of it): a
    server sending a byte a second is cut off like one sending nothing. An interval timer
    interrupts the read where it stands, so this runs in a process's main thread (a sync
    runs in a process of its own, app/busy/reader.py)."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("a busy calendar is fetched in a process's main thread")

    def expire(_signum, _frame) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Expired:
        raise FetchError(f"the server did not send the calendar within {seconds:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _session(limits: Limits) -> tuple[niquests.Session, _CheckedResolver]:
    resolver = _CheckedResolver(limits.allow_private)
    session = niquests.Session(resolver=resolver)
    session.trust_env = False  # no proxies or .netrc from the environment
    session.max_redirects = MAX_REDIRECTS
    return session, resolver


def _connection_error(error: Exception, resolver: _CheckedResolver, limits: Limits) -> FetchError:
    if resolver.refused:
        return FetchError(f"the host {resolver.refused} resolves to a private or local address, which is not allowed")
    if isinstance(error, niquests.Timeout):
        return FetchError(f"the server did not answer within {limits.timeout:g} s")
    if isinstance(error, niquests.TooManyRedirects):
        return FetchError(f"more than {MAX_REDIRECTS} redirects")
    return FetchError(f"could not connect ({type(error).__name__})")


def fetch_ics(
    url: str, limits: Limits, etag: str = "", last_modified: str = "", auth: tuple[str, str] | None = None
) -> Fetched:
    with deadline(limits.timeout):
        return _fetch_ics(url, limits, etag, last_modified, auth)


def _fetch_ics(url: str, limits: Limits, etag: str, last_modified: str, auth: tuple[str, str] | None) -> Fetched:
    headers = {"Accept": "text/calendar, */*;q=0.1", "User-Agent": "MindsetTMS-busy-sync/1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    session, resolver = _session(limits)
    with session:
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(url)
            try:
                response = session.get(
                    url, headers=headers, auth=auth, timeout=limits.timeout, allow_redirects=False, stream=True
                )
            except niquests.RequestException as error:
                raise _connection_error(error, resolver, limits) from error
            with response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("Location", ""))
                    if auth and origin(target) != origin(url):
                        auth = None  # credentials go only to the origin they were given for
                    url = target
                    continue
                if response.status_code == 304:
                    return Fetched(None, etag, last_modified)
                if response.status_code != 200:
                    raise FetchError(f"the server answered HTTP {response.status_code}")
                body = _read_limited(response, limits)
                return Fetched([body], response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _read_limited(response: niquests.Response, limits: Limits) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(f"the feed is larger than {limits.max_bytes} bytes")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > limits.max_bytes:
                raise FetchError(f"the feed is larger than {limits.max_bytes} bytes")
            chunks.append(chunk)
    except niquests.RequestException as error:
        raise FetchError(f"the download failed ({type(error).__name__})") from error
    return b"".join(chunks)


def _bounded_body(limits: Limits):
    """A response hook reading each body (the caldav client's too) within the size limit,
    before the client reads and parses it."""

    def read(response: niquests.Response, *args, **kwargs) -> niquests.Response:
        response._content = _read_limited(response, limits)
        return response

    return read


def fetch_caldav(
    url: str,
    limits: Limits,
    start: datetime,
    end: datetime,
    username: str = "",
    password: str = "",
    sync_token: str = "",
) -> Fetched:
    """The events of one CalDAV calendar collection in [start, end) (a calendar-query
    REPORT), each resource's iCalendar text as it is stored; recurrences are expanded here.
    The client talks through the same checked, bounded session as the ICS fetch.

    With a `sync_token` from an earlier read, the server is first asked what changed since
    (a sync-collection REPORT, hrefs and ETags only): nothing changed gives texts None, as
    an ICS 304 does. Any change, an unknown or expired token, or a server without sync
    support leads to the full calendar-query; the token stored from it is the one read
    just before the query, so a change made during the read is seen again next time."""
    with deadline(limits.timeout):
        return _fetch_caldav(url, limits, start, end, username, password, sync_token)


def _fetch_caldav(
    url: str, limits: Limits, start: datetime, end: datetime, username: str, password: str, sync_token: str
) -> Fetched:
    from caldav.davclient import DAVClient

    check_url(url)
    session, resolver = _session(limits)
    session.hooks["response"].append(_bounded_body(limits))
    try:
        client = DAVClient(
            url=url,
            username=username or None,
            password=password or None,
            timeout=int(limits.timeout),
            enable_rfc6764=False,
            require_tls=urlsplit(url).scheme == "https",
        )
        client.session.close()
        client.session = session
        with client:
            calendar = client.calendar(url=url)
            since = _changed_since(calendar, sync_token) if sync_token else None
            if since is not None and not since[1]:
                return Fetched(None, sync_token=since[0])
            new_token = since[0] if since is not None else _current_token(calendar)
            resources = calendar.search(start=start, end=end, event=True, expand=False)
            texts, size = [], 0
            for resource in resources:
                data = resource.data
                text = data.encode() if isinstance(data, str) else bytes(data)
                size += len(text)
                if size > limits.max_bytes:
                    raise FetchError(f"the calendar is larger than {limits.max_bytes} bytes")
                texts.append(text)
    except FetchError:
        raise
    except niquests.RequestException as error:
        raise _connection_error(error, resolver, limits) from error
    except Exception as error:  # noqa: BLE001 - the caldav library raises many kinds
        if resolver.refused:
            raise _connection_error(error, resolver, limits) from error
        raise FetchError(f"the CalDAV server could not be read ({type(error).__name__})") from error
    return Fetched(texts, sync_token=new_token)


def _changed_since(calendar, sync_token: str) -> tuple[str, bool] | None:
    """(the server's new token, whether anything changed) since `sync_token`, or None when
    the server cannot say (no sync support, an unknown or expired token): read it all."""
    from caldav.lib import error

    if sync_token.startswith("fake-"):
        return None  # the caldav library would emulate sync with an unbounded full read
    try:
        changes = calendar.objects_by_sync_token(sync_token=sync_token, load_objects=False, disable_fallback=True)
    except error.DAVError:
        return None
    new_token = str(changes.sync_token or "")
    if not new_token or new_token.startswith("fake-"):
        return None
    return new_token, bool(len(changes) or changes.deleted_urls or changes.truncated)


def _current_token(calendar) -> str:
    """The collection's DAV:sync-token, or "" when the server offers none."""
    from caldav.elements import dav
    from caldav.lib import error

    try:
        token = calendar.get_property(dav.SyncToken())
    except error.DAVError:
        return ""
    return str(token or "")
