"""Patient emails to addresses nobody verified: the daily offer limit counts a mailbox once
whatever its case or +tag, and every patient email greets and addresses a neutralised
first name, so what someone typed as a name ("=1+1", "claim your prize at evil.example")
is never written into an email as if the clinic said it. SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from app.booking.validation import mailbox_key
from app.core.extensions import db
from app.mail.compose import first_name
from app.mail.delivery import deliver_due
from app.models import WaitlistOffer
from app.waitlist.offering import offer_freed_slots
from tests.conftest import make_booking
from tests.test_waitlist import free_a_slot, join


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "MAIL_TIMEOUT_SECONDS": 5}


def test_a_mailbox_is_one_whatever_its_case_or_tag():
    for address in ("flood@example.com", "flood+1@example.com", "FLOOD+2@Example.COM", " Flood+a+b@example.com"):
        assert mailbox_key(address) == "flood@example.com", address
    assert mailbox_key("+only@example.com") == "+only@example.com"
    assert mailbox_key("other@example.com") != mailbox_key("flood@example.com")


def test_names_are_shown_only_as_a_neutral_first_name():
    assert first_name("Ada Lovelace") == "Ada"
    assert first_name("José María") == "José"
    assert first_name("O'Brien-Smith Jr") == "O'Brien-Smith"
    for typed in (
        "=1+1",
        "+1 Ada",
        "@SUM(A1)",
        "evil.example is here",
        "http://evil.example",
        "=?utf-8?q?x?=",
        "Ada2 Lovelace",
        "",
        "   ",
    ):
        assert first_name(typed) == "", typed
    assert first_name("claim your prize at evil.example") == "claim"


def test_the_daily_offer_limit_counts_a_mailbox_once(ctx, client):
    ctx.config["WAITLIST_MAX_OFFERS_PER_DAY"] = 1
    for n, email in enumerate(("flood@example.com", "flood+1@example.com", "FLOOD+2@example.com")):
        join(client, n, email=email)
    join(client, 9, email="someone@example.com")
    free_a_slot()
    free_a_slot()
    offer_freed_slots()
    offer_freed_slots()
    db.session.commit()
    sent = Counter(db.session.execute(select(WaitlistOffer.email)).scalars())
    assert sent == Counter({"flood@example.com": 1, "someone@example.com": 1})


def test_offer_emails_greet_and_address_a_neutralised_first_name(ctx, client, smtp_server):
    ctx.config["WAITLIST_OFFERS_PER_SLOT"] = 3
    join(client, 0, name="=1+1 A", email="formula@example.com")
    join(client, 1, name="claim your prize at evil.example", email="prize@example.com")
    join(client, 2, name="Grace Hopper", email="grace@example.com")
    free_a_slot()
    offer_freed_slots()
    deliver_due()
    formula, prize, grace = (smtp_server.to(f"{who}@example.com")[-1].message for who in ("formula", "prize", "grace"))
    assert formula["To"].addresses[0].display_name == ""
    assert prize["To"].addresses[0].display_name == "claim"
    assert grace["To"].addresses[0].display_name == "Grace"
    for message, greeting in ((formula, "Hello there,"), (prize, "Hello claim,"), (grace, "Hello Grace,")):
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert text.startswith(greeting)
        for body in (text, html):
            assert "=1+1" not in body and "evil.example" not in body and "prize" not in body
            assert "Hopper" not in body


def test_booking_emails_greet_a_neutralised_first_name_too(ctx, smtp_server):
    make_booking(name='=HYPERLINK("http://evil.example") Ada', email="hyper@example.com")
    deliver_due()
    [confirmation] = smtp_server.to("hyper@example.com")
    message = confirmation.message
    assert message["To"].addresses[0].display_name == ""
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hello there,") and "evil.example" not in text and "HYPERLINK" not in text
