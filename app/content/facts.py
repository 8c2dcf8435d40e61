"""The building block of all medical copy: a sentence written for patients, and its sources."""

from __future__ import annotations

from dataclasses import dataclass

# The source of a sentence that only says we have no figure to give (never a claim).
NO_FIGURE = "(no figure in the fact sheet: the sentence says so)"


@dataclass(frozen=True)
class Fact:
    """Patient-facing copy and the fact-sheet lines it is written from. `message` is a catalog
    message (`_l(...)`), so `text` is in the language of the page being rendered. Each source
    is quoted word for word from the English treatment-facts.md (whitespace aside), so a test
    can trace every claim."""

    message: str
    sources: tuple[str, ...]

    @property
    def text(self) -> str:
        return str(self.message)

    def __str__(self) -> str:
        return self.text


def fact(message: str, *sources: str) -> Fact:
    return Fact(message, tuple(sources))
