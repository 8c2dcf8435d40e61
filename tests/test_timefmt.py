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


@pytest.mark.parametrize(
    "language, expected",
    [
        (
            "en",
            [
                "9:00 AM",
                "9:00 AM MST",
                "Thursday, December 3, 2026",
                "Thu, Dec 3",
                "Thursday, December 3, 2026 at 9:00 AM MST",
                "Thursday, December 3, 2026 at 9:00 AM MST (Mountain Time)",
                "Thursday, December 3",
                "Thu",
            ],
        ),
        (
            "es",
            [
                "9:00 a. m.",
                "9:00 a. m. (hora de Colorado)",
                "jueves, 3 de diciembre de 2026",
                "jue, 3 dic",
                "jueves, 3 de diciembre de 2026, 9:00 a. m. (hora de Colorado)",
                "jueves, 3 de diciembre de 2026, 9:00 a. m. (hora de Colorado)",
                "jueves, 3 de diciembre",
                "jue",
            ],
        ),
    ],
)
def test_each_format_in_each_language(ctx, language, expected):
    with force_locale(language):
        got = [
            timefmt.clock(NINE_AM_DENVER),
            timefmt.clock_with_zone(NINE_AM_DENVER),
            timefmt.day(NINE_AM_DENVER),
            timefmt.short_day(NINE_AM_DENVER),
            timefmt.when(NINE_AM_DENVER),
            timefmt.when_with_zone_name(NINE_AM_DENVER),
            timefmt.weekday_and_date(date(2026, 12, 3)),
            timefmt.weekday_abbr(date(2026, 12, 3)),
        ]
    assert [readable(g) for g in got] == expected


def test_words_kept_for_the_request_follow_a_forced_language_and_come_back(ctx):
    """time_words keeps the page language's words for the request; an email worded in
    another language inside it (force_locale) gets its own, and the page's return after."""
    with force_locale("en"):
        assert timefmt.short_day(NINE_AM_DENVER) == "Thu, Dec 3"
        with force_locale("es"):
            assert [timefmt.short_day(NINE_AM_DENVER), readable(timefmt.clock(NINE_AM_DENVER))] == [
                "jue, 3 dic",
                "9:00 a. m.",
            ]
        assert [timefmt.short_day(NINE_AM_DENVER), readable(timefmt.clock(NINE_AM_DENVER))] == ["Thu, Dec 3", "9:00 AM"]


def test_daylight_saving_time_is_named_in_english(ctx):
    with force_locale("en"):
        assert timefmt.when(SUMMER) == "Thursday, June 3, 2027 at 10:00 AM MDT"


def test_english_without_a_request_or_a_forced_language(ctx):
    assert timefmt.when(NINE_AM_DENVER) == "Thursday, December 3, 2026 at 9:00 AM MST"


# --- the clinic's zone in words: one phrase per language, never "Denver" -----------------

REPEATED_FIRST = datetime(2027, 11, 7, 7, 30, tzinfo=UTC)  # 1:30 a.m. MDT
REPEATED_SECOND = datetime(2027, 11, 7, 8, 30, tzinfo=UTC)  # 1:30 a.m. MST, an hour later


def test_spanish_names_the_zone_as_hora_de_colorado_in_every_format(ctx):
    with force_locale("es"):
        texts = [
            timefmt.clock_with_zone(NINE_AM_DENVER),
            timefmt.when(NINE_AM_DENVER),
            timefmt.when_with_zone_name(NINE_AM_DENVER),
            timefmt.when(SUMMER),
            timefmt.zone_label(),
        ]
    assert all("hora de Colorado" in readable(t) and "Denver" not in t for t in texts), texts


def test_the_repeated_autumn_hour_says_which_one_in_both_languages(ctx):
    with force_locale("es"):
        first, second = timefmt.when(REPEATED_FIRST), timefmt.when(REPEATED_SECOND)
    assert readable(first).endswith("1:30 a. m. (hora de Colorado, horario de verano)"), first
    assert readable(second).endswith("1:30 a. m. (hora de Colorado, horario estándar)"), second
    with force_locale("en"):
        assert timefmt.clock_with_zone(REPEATED_FIRST) == "1:30 AM MDT"
        assert timefmt.clock_with_zone(REPEATED_SECOND) == "1:30 AM MST"
        assert timefmt.when_with_zone_name(REPEATED_SECOND).endswith("1:30 AM MST (Mountain Time)")


def test_english_names_the_zone_mountain_time(ctx):
    with force_locale("en"):
        assert timefmt.zone_label() == "Mountain Time"
        assert "Denver" not in timefmt.when_with_zone_name(SUMMER)


def test_a_zone_without_our_words_gets_babels_city_wording_not_its_key(ctx):
    from zoneinfo import ZoneInfo

    with force_locale("es"):
        assert timefmt.zone_label(ZoneInfo("America/Chicago")) == "hora del Centro"
        assert timefmt.zone_label(ZoneInfo("America/Chihuahua")) == "hora de Chihuahua"
    with force_locale("en"):
        assert timefmt.zone_label(ZoneInfo("Europe/Madrid")) == "Madrid Time"


@pytest.mark.parametrize("language, prefix, words", [("es", "/es", "hora de Colorado"), ("en", "", "Mountain Time")])
def test_pages_and_emails_name_the_zone_in_one_phrase_per_language(ctx, client, language, prefix, words):
    """A video booking's pages and every email it sends, in each language: the zone is named
    in the language's words ("hora de Colorado"; English "Mountain Time" or MST/MDT), and
    "Denver" is never shown."""
    from sqlalchemy import select

    from app.booking import service
    from app.core.actors import THE_PATIENT
    from app.core.extensions import db
    from app.mail import rendering
    from app.models import OutboxMessage
    from tests.conftest import make_booking, make_slot

    result = make_booking(mode="video", locale=language, email=f"{language}@example.com")
    token = result.manage_token
    other = make_slot()
    service.reschedule(result.booking.public_id, other.public_id, "video", actor=THE_PATIENT)
    pages = {
        path: client.get(f"{prefix}{path}").get_data(as_text=True)
        for path in (
            "/book",
            f"/book/{make_slot().public_id}",
            f"/manage/{token}",
            f"/manage/{token}/reschedule",
            "/waitlist",
        )
    }
    for path, html in pages.items():
        assert "Denver" not in html.replace("America/Denver", ""), (language, path)
    assert words in pages["/book"], language
    messages = (
        db.session.execute(select(OutboxMessage).where(OutboxMessage.booking_id == result.booking.id)).scalars().all()
    )
    assert len(messages) >= 2
    for message in messages:
        rendered = rendering.render(message, datetime.now(UTC))
        for text in (rendered.subject, rendered.text, rendered.html):
            assert "Denver" not in text, (language, message.kind)
        if message.kind in (rendering.CONFIRMATION, rendering.UPDATE) and language == "es":
            assert "hora de Colorado" in readable(rendered.text), rendered.text
        if message.kind in (rendering.CONFIRMATION, rendering.UPDATE) and language == "en":
            assert "(Mountain Time)" in rendered.text, rendered.text
        if rendered.ics:
            description = rendered.ics.split("DESCRIPTION:", 1)[1].split("\n", 1)[0]
            assert "Denver" not in description
