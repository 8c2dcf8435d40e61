"""Finding a patient by what staff type: each booking keeps its name and email folded (no
accents, no case) in `booking.search_text`, written by the service with the booking, so
"maria lopez", "López" and "Lopez Maria" find "María López" with one plain LIKE per word,
the same on SQLite and PostgreSQL. Pure: no Flask, no database."""

from __future__ import annotations

import unicodedata


def fold(text: str | None) -> str:
    """'María  LÓPEZ' -> 'maria lopez': accents dropped, case folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def search_text(name: str | None, email: str | None) -> str:
    """What a booking is found by (its `search_text` column)."""
    return " ".join(part for part in (fold(name), fold(email)) if part)


def words(query: str) -> list[str]:
    """The folded words of a query; a booking matches when its search text holds every one,
    in any order."""
    return fold(query).split()
