"""One cache for the pages read most: each rendered GET response is kept per process for
PAGE_CACHE_SECONDS (default 5), and the whole cache is dropped whenever this process commits
a change (`write_transaction`). A change made by another process shows here within those
seconds. Nothing is booked from a cached page without the service checking the slot in the
database again, so a slot taken meanwhile gets the usual "just booked" answer. Public pages
are shared by everyone; a signed-in page (`per_visitor`) is kept for that session only."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from flask import Flask, current_app, has_app_context, request, session


class PageCache:
    """A small LRU of (status, body, headers) by URL, each entry kept for `seconds`."""

    def __init__(self, seconds: float, size: int = 512, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.size, self.clock = seconds, size, clock
        self._entries: OrderedDict[str, tuple[float, tuple]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or self.clock() - hit[0] >= self.seconds:
                return None
            self._entries.move_to_end(key)
            return hit[1]

    def put(self, key: str, value: tuple) -> None:
        with self._lock:
            self._entries[key] = (self.clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear() -> None:
    """Drop every cached page of this process (called after each committed change)."""
    if has_app_context():
        cache = current_app.extensions.get("page_cache")
        if cache is not None:
            cache.clear()


def cached_page(view: Callable | None = None, *, per_visitor: bool = False) -> Callable:
    """Serve a GET page from the cache. Only a plain 200 answer to a visitor with no flashed
    messages is kept, and nothing that set a cookie, so no visitor's state is shared; with
    `per_visitor` the page is kept for the visitor's own session cookie only."""
    if view is None:
        return lambda function: cached_page(function, per_visitor=per_visitor)

    @wraps(view)
    def wrapper(*args, **kwargs):
        cache: PageCache | None = current_app.extensions.get("page_cache")
        if cache is None or cache.seconds <= 0 or request.method != "GET" or "_flashes" in session:
            return view(*args, **kwargs)
        key = f"{request.host}{request.script_root}{request.full_path}"
        if per_visitor:
            cookie = request.cookies.get(current_app.config["SESSION_COOKIE_NAME"], "")
            key += "|" + hashlib.sha256(cookie.encode()).hexdigest()
        hit = cache.get(key)
        if hit is not None:
            return current_app.response_class(hit[1], hit[0], hit[2])
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not session.modified and "Set-Cookie" not in response.headers:
            cache.put(key, (response.status_code, response.get_data(), list(response.headers.items())))
        return response

    return wrapper


def register(app: Flask) -> None:
    app.extensions["page_cache"] = PageCache(float(app.config.get("PAGE_CACHE_SECONDS", 5)))
