"""Property tests for the field rules shared by the forms and the API."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.booking import validation
from app.booking.validation import Invalid

CONTROL = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x1b", "\x7f", "\x85", "\u2028"])


def outcome(check, value):
    try:
        return check(value)
    except Invalid as error:
        return error


@given(st.text(max_size=40), CONTROL, st.text(max_size=40))
def test_single_line_fields_refuse_any_control_character(before, control, after):
    value = before + control + after
    if not value.strip():
        return
    for check in (validation.person_name, validation.email_address, validation.phone_number):
        result = outcome(check, "Ada" + value + "x")
        assert isinstance(result, Invalid)


@given(st.text(max_size=300))
def test_accepted_names_are_clean_single_lines(value):
    result = outcome(validation.person_name, value)
    if isinstance(result, str):
        assert result == result.strip() and 0 < len(result) <= 100
        assert not re.search(r"[\x00-\x1f\x7f-\x9f]", result)
        assert any(ch.isalpha() for ch in result)


@given(st.text(max_size=80))
def test_phone_numbers_are_refused_or_normalised_to_e164(value):
    result = outcome(validation.phone_number, value)
    assert isinstance(result, Invalid) or re.fullmatch(r"\+\d{8,15}", result)


@given(st.emails())
def test_real_email_addresses_are_accepted(address):
    result = outcome(validation.email_address, address)
    if isinstance(result, str):
        assert "@" in result and "\n" not in result


@given(st.text(max_size=1200))
def test_notes_keep_newlines_but_nothing_else_odd(value):
    result = outcome(lambda v: validation.multi_line(v, "Your note", max_length=1000), value)
    if isinstance(result, str):
        assert len(result) <= 1000 and "\r" not in result
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", result)


@given(
    st.one_of(
        st.from_regex(r"\+?1?[ -]?\(?[2-9]\d{2}\)?[ -]?\d{3}[ -]?\d{4}", fullmatch=True),
        st.from_regex(r"\+\d{7,14}", fullmatch=True),
    ),
    st.sampled_from(["US", "CA", "GB"]),
)
def test_phone_check_agrees_with_the_full_validity_check(raw, region):
    import phonenumbers

    try:
        expected = phonenumbers.is_valid_number(phonenumbers.parse(raw, region))
    except phonenumbers.NumberParseException:
        expected = False
    result = outcome(lambda value: validation.phone_number(value, region), raw)
    assert isinstance(result, str) == expected, (raw, region, result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("416-967-1111", "+14169671111"),
        ("+1 264 497 2340", "+12644972340"),
        ("970-555-0123", "+19705550123"),
        ("(970) 555 0123", "+19705550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("1 970 555 0123", "+19705550123"),
    ],
)
def test_phone_examples(raw, expected):
    assert validation.phone_number(raw) == expected


@pytest.mark.parametrize("raw", ["ada@example", "ada@@example.com", "a b@example.com", "", "x" * 250 + "@e.com"])
def test_bad_emails(raw):
    with pytest.raises(Invalid):
        validation.email_address(raw)


@pytest.mark.parametrize("raw", ["maríalópez@example.com", "ñandú@example.com", "josé.pérez@correo.mx"])
def test_accented_letters_before_the_at_are_refused_with_a_reason(raw):
    """Mail servers without SMTPUTF8 refuse such mailboxes: the form says so, rather than
    take a booking whose confirmation can never be sent."""
    with pytest.raises(Invalid, match="accents"):
        validation.email_address(raw)


def test_accents_after_the_at_are_still_accepted():
    assert validation.email_address("maria@correos-españa.es").endswith("@correos-españa.es")
