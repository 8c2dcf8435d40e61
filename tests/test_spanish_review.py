"""The Spanish review's last points, as a reader sees them: no English left on a Spanish
page (the sample address's note), opening hours that read as part of the line they sit in,
and one name for the questions page in each language."""

from __future__ import annotations

import re

from tests.conftest import make_booking


def text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_sample_address_note_is_in_the_page_language(client):
    spanish = text_of(client.get("/es/about").get_data(as_text=True))
    assert "123 Sample Street, Suite 100 (dirección de ejemplo)" in spanish
    assert "sample address" not in spanish


def test_the_sample_address_note_is_in_the_invite_language(ctx):
    from app.invites import ics

    result = make_booking(mode="in_person", locale="es")
    from flask_babel import force_locale

    with force_locale("es"):
        assert "(dirección de ejemplo)" in ics.patient_description(result.booking, None)
    with force_locale("en"):
        assert "(sample address)" in ics.patient_description(result.booking, None)


def test_hours_without_a_schedule_read_as_part_of_the_line(client):
    spanish = text_of(client.get("/es/about").get_data(as_text=True))
    assert "Horario: con cita previa (llámenos)" in spanish and "previa:" not in spanish
    assert "Hours: By appointment (please call us)" in text_of(client.get("/about").get_data(as_text=True))


def test_the_questions_page_has_one_name_in_english(client):
    home = text_of(client.get("/").get_data(as_text=True))
    faq = text_of(client.get("/faq").get_data(as_text=True))
    assert "Questions people often ask" not in home
    assert home.count("Questions and answers") >= 2  # the home card and the footer
    assert "Questions and answers" in faq
