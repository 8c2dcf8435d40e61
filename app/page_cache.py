"""Per-process caches for pages many people read and few things change.

Public information pages depend only on settings, so each is rendered once per process.
Slot listings depend on the calendar: they are keyed on the calendar version (bumped
after every committed change to slots or bookings, see app.booking.calendar_version) and
on the current minute, since the booking window moves with the clock."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import TypeVar

from flask import Flask, current_app, make_response, request

T = TypeVar("T")


class RenderCache:
    """A small LRU cache whose entries also expire after `ttl` seconds (a safety net)."""

    def __init__(self, size: int = 256, ttl: float = 300.0) -> None:
        self.size, self.ttl = size, ttl
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                self._entries.move_to_end(key)
                return hit[1]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cache() -> RenderCache:
    return current_app.extensions["render_cache"]


def cached_page(view: Callable) -> Callable:
    """Cache a GET page that depends only on its URL and the settings (not on the visitor)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "GET" or not current_app.config.get("PAGE_CACHE", True):
            return view(*args, **kwargs)

        def render():
            response = make_response(view(*args, **kwargs))
            return response.status_code, response.get_data(), list(response.headers.items())

        status, body, headers = cache().get_or_make(("page", request.host, request.full_path), render)
        return current_app.response_class(body, status, headers)

    return wrapper


def register(app: Flask) -> None:
    app.extensions["render_cache"] = RenderCache()
