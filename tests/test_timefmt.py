"""Dates and times in the language being shown, from Babel's data (nothing pasted by hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from app.core import timefmt

NINE_AM_DENVER = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
SUMMER = datetime(2027, 6, 3, 16, 0, tzinfo=UTC)


def readable(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


@pytest.mark.parametrize("language, expected", [
    ("en", ["9:00 AM", "9:00 AM MST", "Thursday, December 3, 2026", "Thu, Dec 3",
            "Thursday, December 3, 2026 at 9:00 AM MST",
            "Thursday, December 3, 2026 at 9:00 AM MST (Denver Time)", "Thursday, December 3", "Thu"]),
    ("es", ["9:00 a. m.", "9:00 a. m. (hora de Denver)", "jueves, 3 de diciembre de 2026", "jue, 3 dic",
            "jueves, 3 de diciembre de 2026, 9:00 a. m. (hora de Denver)",
            "jueves, 3 de diciembre de 2026, 9:00 a. m. (hora de Denver)", "jueves, 3 de diciembre", "jue"]),
])
def test_each_format_in_each_language(ctx, language, expected):
    with force_locale(language):
        got = [timefmt.clock(NINE_AM_DENVER), timefmt.clock_with_zone(NINE_AM_DENVER),
               timefmt.day(NINE_AM_DENVER), timefmt.short_day(NINE_AM_DENVER), timefmt.when(NINE_AM_DENVER),
               timefmt.when_with_city(NINE_AM_DENVER), timefmt.weekday_and_date(date(2026, 12, 3)),
               timefmt.weekday_abbr(date(2026, 12, 3))]
    assert [readable(g) for g in got] == expected


def test_daylight_saving_time_is_named_in_english(ctx):
    with force_locale("en"):
        assert timefmt.when(SUMMER) == "Thursday, June 3, 2027 at 10:00 AM MDT"


def test_english_without_a_request_or_a_forced_language(ctx):
    assert timefmt.when(NINE_AM_DENVER) == "Thursday, December 3, 2026 at 9:00 AM MST"
