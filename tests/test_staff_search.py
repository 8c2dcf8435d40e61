"""Staff search finds people, on SQLite and PostgreSQL alike: accents, case and word order
do not matter ("maria lopez", "López", "Lopez Maria" find "María López"), phone digits in
any format, the reference with or without its dash; the folded search text follows edits
and erasure, and migration 0015 fills it in for existing bookings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from app import create_app
from app.booking import service
from app.booking.search import fold, search_text, words
from app.core.actors import Actor
from app.core.extensions import db
from app.models import Booking, utcnow
from app.models.staff import StaffUser
from app.staff import bookings_admin, erase
from tests.conftest import _overrides, make_booking, make_slot
from tests.fixtures_staff import signed_in_client

NAMES = ("María López", "Ada Lovelace", "Marianne Lopes")


@pytest.fixture
def app(any_app):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_app


@pytest.fixture
def staff(ctx):
    return signed_in_client(ctx, "sam@mindset-tms.example", "staff")


@pytest.fixture
def people(ctx):
    start = utcnow().replace(microsecond=0) + timedelta(days=3)
    maria = make_booking(make_slot(start), name="María López", email="MLopez@Example.com", phone="+19705550142").booking
    ada = make_booking(
        make_slot(start + timedelta(hours=1)), name="Ada Lovelace", email="ada@example.com", phone="+13035550199"
    ).booking
    marianne = make_booking(
        make_slot(start + timedelta(hours=2)), name="Marianne Lopes", email="m.lopes@example.org", phone="+17205550123"
    ).booking
    return maria, ada, marianne


def found(client, q: str) -> set[str]:
    html = client.get("/staff/bookings", query_string={"q": q}).get_data(as_text=True)
    return {name for name in NAMES if name in html}


def test_fold_drops_accents_case_and_extra_spaces():
    assert fold("  María   LÓPEZ ") == "maria lopez"
    assert fold("Zoë Ñúñez-Straße") == "zoe nunez-strasse"
    assert search_text("José", None) == "jose"
    assert words("Lopez, María") == ["lopez,", "maria"]


@pytest.mark.parametrize(
    "query", ["maria lopez", "López", "Lopez Maria", "MARÍA LÓPEZ", "maría  lópez", "mlopez@example", "lópez marí"]
)
def test_names_are_found_whatever_the_accents_case_and_order(people, staff, query):
    assert found(staff, query) == {"María López"}


def test_every_word_must_match(people, staff):
    assert found(staff, "maria") == {"María López", "Marianne Lopes"}
    assert found(staff, "lopez ada") == set()
    assert found(staff, "100%_") == set()


@pytest.mark.parametrize("query", ["(970) 555-0142", "970.555.0142", "9705550142", "+1 970 555 0142", "555-0142"])
def test_phone_digits_in_any_format(people, staff, query):
    assert found(staff, query) == {"María López"}


def test_the_reference_with_or_without_its_dash(people, staff):
    maria = people[0]
    shown = maria.reference_display  # K7Q4-92MP
    for query in (shown, shown.replace("-", ""), shown.lower(), f" {shown.lower().replace('-', ' ')} "):
        assert found(staff, query) == {"María López"}, query


def test_the_search_text_follows_an_edit_and_is_emptied_by_erasure(people, staff):
    maria = people[0]
    actor = db.session.execute(select(StaffUser)).scalar_one()
    bookings_admin.edit_details(
        maria.public_id,
        bookings_admin.Details(
            name="Maria Lopes-Ortiz", email="maria@example.net", phone="+19705550142", locale="en", mode="phone"
        ),
        actor,
    )
    html = staff.get("/staff/bookings", query_string={"q": "ortiz"}).get_data(as_text=True)
    assert "Maria Lopes-Ortiz" in html
    assert found(staff, "mlopez") == set()

    service.cancel(maria.public_id, actor=Actor("staff"))
    erase.erase_patient(maria.public_id, actor)
    db.session.expire_all()
    assert db.session.get(Booking, maria.id).search_text == ""


def test_0015_fills_in_the_search_text_and_lets_email_be_empty(empty_database_url):
    from flask_migrate import downgrade, upgrade

    app = create_app(_overrides(empty_database_url))
    insert = (
        "INSERT INTO booking (id, public_id, reference, slot_id, status, mode, name, email, phone, "
        "interest, note, consent_at, manage_token_hash, ical_uid, ical_sequence, created_at, "
        "updated_at, staff_notes) VALUES (:id, :pid, :ref, :id, 'confirmed', 'phone', :name, :email, "
        "'+19705550142', 'tms', '', '2026-11-25 10:00:00.000000', :hash, :uid, 0, "
        "'2026-11-25 10:00:00.000000', '2026-11-25 10:00:00.000000', '')"
    )
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as connection:
            for row in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO slot (id, public_id, starts_at, ends_at, modes, is_blocked, source, created_at) "
                        f"VALUES ({row}, 's{row}', '2027-01-0{row} 16:00:00.000000', "
                        f"'2027-01-0{row} 16:30:00.000000', 'phone', false, 'manual', '2026-11-25 10:00:00.000000')"
                    )
                )
            connection.execute(
                text(insert),
                {
                    "id": 1,
                    "pid": "b1",
                    "ref": "K7Q492MP",
                    "name": "María López",
                    "email": "MLopez@Example.com",
                    "hash": "1" * 64,
                    "uid": "u1@x",
                },
            )
        upgrade(revision="0015")
        with db.engine.begin() as connection:
            assert (
                connection.execute(text("SELECT search_text FROM booking")).scalar_one()
                == "maria lopez mlopez@example.com"
            )
            connection.execute(
                text(insert),
                {
                    "id": 2,
                    "pid": "b2",
                    "ref": "K7Q492MQ",
                    "name": "Rosa",
                    "email": None,
                    "hash": "2" * 64,
                    "uid": "u2@x",
                },
            )
        downgrade(revision="0014")
        with db.engine.connect() as connection:
            columns = {c["name"]: c for c in inspect(connection).get_columns("booking")}
            emails = connection.execute(text("SELECT email FROM booking ORDER BY id")).scalars().all()
        assert "search_text" not in columns and columns["email"]["nullable"] is False
        assert emails == ["MLopez@Example.com", "phone-only-b2@invalid"]
        db.session.remove()
        db.engine.dispose()
