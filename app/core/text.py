"""Text from outside (names, subjects, addresses) made safe for a header or a one-line field."""

from __future__ import annotations

import unicodedata


def one_line(text: str) -> str:
    """Text safe for an email header, an iCalendar parameter or a feed summary, whatever the
    Python version: control and format characters (CR, LF, NUL, U+0085 ...) and line or
    paragraph separators (U+2028, U+2029) become spaces, runs of spaces collapse, and every
    `=?` becomes `= ?`, so no RFC 2047 encoded-word can be read into the text. (Python
    builds without the CVE-2024-6923 fix decode such a word while folding a header and
    write its CR/LF out as a real line break.) The readable text is otherwise kept."""
    cleaned = "".join(" " if unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" else c for c in text)
    # Last, on the collapsed text: nothing removed afterwards can bring `=` and `?` together.
    return " ".join(cleaned.split()).replace("=?", "= ?")
