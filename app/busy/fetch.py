"""Reading a busy source over the network, carefully: http and https only, no private,
loopback or link-local addresses (unless allowed), at most 3 redirects, a timeout and a
size limit, and conditional requests so an unchanged ICS feed costs one 304.

Errors are FetchError with a message safe to show staff: never the URL (secret ICS links
are credentials), never the server's body."""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import requests

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
    """`texts` is None when the server answered 304 Not Modified."""

    texts: list[bytes] | None
    etag: str = ""
    last_modified: str = ""


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def check_url(url: str, allow_private: bool) -> None:
    """Refuses schemes other than http(s), and hosts resolving to internal addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http and https addresses may be used")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError(f"the host {parts.hostname} could not be found") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise FetchError(f"the host {parts.hostname} resolves to a private or local address, "
                             "which is not allowed")


def fetch_ics(url: str, limits: Limits, etag: str = "", last_modified: str = "",
              auth: tuple[str, str] | None = None) -> Fetched:
    headers = {"Accept": "text/calendar, */*;q=0.1", "User-Agent": "MindsetTMS-busy-sync/1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc from the environment
        for _hop in range(MAX_REDIRECTS + 1):
            check_url(url, limits.allow_private)
            try:
                response = session.get(url, headers=headers, auth=auth, timeout=limits.timeout,
                                       allow_redirects=False, stream=True)
            except requests.Timeout as error:
                raise FetchError(f"the server did not answer within {limits.timeout:g} s") from error
            except requests.RequestException as error:
                raise FetchError(f"could not connect ({type(error).__name__})") from error
            with response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("Location", ""))
                    if auth and host_of(target) != host_of(url):
                        auth = None  # credentials go only to the host they were given for
                    url = target
                    continue
                if response.status_code == 304:
                    return Fetched(None, etag, last_modified)
                if response.status_code != 200:
                    raise FetchError(f"the server answered HTTP {response.status_code}")
                body = _read_limited(response, limits)
                return Fetched([body], response.headers.get("ETag", ""),
                               response.headers.get("Last-Modified", ""))
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _read_limited(response: requests.Response, limits: Limits) -> bytes:
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
    except requests.RequestException as error:
        raise FetchError(f"the download failed ({type(error).__name__})") from error
    return b"".join(chunks)


def fetch_caldav(url: str, limits: Limits, start: datetime, end: datetime,
                 username: str = "", password: str = "") -> Fetched:
    """The events of one CalDAV calendar collection in [start, end) (a calendar-query
    REPORT), each resource's iCalendar text as it is stored; recurrences are expanded here."""
    import caldav

    check_url(url, limits.allow_private)
    try:
        client = caldav.DAVClient(url=url, username=username or None, password=password or None,
                                  timeout=int(limits.timeout), enable_rfc6764=False,
                                  require_tls=urlsplit(url).scheme == "https")
        with client:
            calendar = client.calendar(url=url)
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
    except Exception as error:  # noqa: BLE001 - the caldav library raises many kinds
        raise FetchError(f"the CalDAV server could not be read ({type(error).__name__})") from error
    return Fetched(texts)
