"""Static asset URLs carrying a content hash, so browsers may cache them for a year."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from flask import current_app, request, url_for


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=512)
def _address(script_root: str, static_url_path: str | None, filename: str, version: str) -> str:
    """url_for's answer depends only on the URL rules and these values: built once each."""
    return url_for("static", filename=filename, v=version)


def static_url(filename: str) -> str:
    """The file's address with its hash, checked against the file on each call (one stat,
    without pathlib's objects: every page has six of these)."""
    app = current_app
    path = os.path.join(app.static_folder or "", filename)
    try:
        version = _digest(path, os.stat(path).st_mtime_ns)
    except FileNotFoundError:
        version = "missing"
    return _address(request.script_root, app.static_url_path, filename, version)
