"""Static asset URLs carrying a content hash, so browsers may cache them for a year."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_url(filename: str) -> str:
    """The file's address with its hash, checked against the file on each call (one stat,
    without pathlib's objects: every page has six of these)."""
    path = os.path.join(current_app.static_folder or "", filename)
    try:
        version = _digest(path, os.stat(path).st_mtime_ns)
    except FileNotFoundError:
        version = "missing"
    return url_for("static", filename=filename, v=version)
