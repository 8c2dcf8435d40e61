"""The building block of all medical copy: a sentence written for patients, and its sources."""

from __future__ import annotations

from dataclasses import dataclass

# The source of a sentence that only says we have no figure to give (never a claim).
NO_FIGURE = "(no figure in the fact sheet: the sentence says so)"


@dataclass(frozen=True)
class Fact:
    """Patient-facing copy and the fact-sheet lines it is written from. Each source is quoted
    word for word from treatment-facts.md (whitespace aside), so a test can trace every claim."""

    text: str
    sources: tuple[str, ...]

    def __str__(self) -> str:
        return self.text


def fact(text: str, *sources: str) -> Fact:
    return Fact(text, tuple(sources))
