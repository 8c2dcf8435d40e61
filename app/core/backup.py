"""Online backup of the SQLite database (safe while the app is serving)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


def backup_sqlite(database_uri: str, destination: Path | None = None) -> Path:
    """Copy a live SQLite database with SQLite's backup API; returns the backup's path."""
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise ValueError("backup works on a SQLite database; for PostgreSQL use pg_dump")
    source_path = Path(url.database)
    if destination is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        destination = source_path.parent / "backups" / f"{source_path.stem}-{stamp}.db"
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        with target:
            source.backup(target)
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise RuntimeError(f"backup failed its integrity check: {check}")
    finally:
        target.close()
        source.close()
    return destination
