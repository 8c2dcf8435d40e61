"""Calendar replies: a patient's Yes / Maybe / No from Gmail, Outlook and Apple Calendar,
read through `flask mail receive` (and, in test_calendar_replies_imap.py, from an IMAP
mailbox), acts on their booking only when it is theirs and current; other mail goes to staff."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.booking import service
from app.core.actors import THE_PATIENT, Actor
from app.core.extensions import db
from app.invites import ics
from app.mail.rendering import render
from app.models import Booking, FreedSlot, utcnow
from app.replies.service import handle_message
from tests.conftest import make_booking, make_slot
from tests.fixtures_mail import outbox_rows
from tests.reply_messages import apple_reply, google_reply, outlook_reply, plain_message


@pytest.fixture
def app(any_app):
    return any_app


def booking_now(public_id: str) -> Booking:
    db.session.rollback()  # a fresh read, whoever wrote (another process too)
    return db.session.execute(select(Booking).where(Booking.public_id == public_id)).scalar_one()


def receive(app, raw: bytes):
    """`flask --app wsgi mail receive` with the message on standard input."""
    result = app.test_cli_runner().invoke(args=["mail", "receive"], input=raw)
    assert result.exit_code == 0, result.output
    return result.output


def confirmed_on(slot_id: int) -> int:
    return db.session.execute(
        select(func.count(Booking.id)).where(Booking.slot_id == slot_id, Booking.status == "confirmed")
    ).scalar_one()


def test_a_no_from_gmail_cancels_the_booking_through_mail_receive(ctx):
    made = make_booking(mode="phone")
    booking = made.booking
    output = receive(ctx, google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"))

    assert output.startswith("cancelled")
    after = booking_now(booking.public_id)
    assert after.status == "cancelled" and after.cancelled_by == "calendar"
    assert after.calendar_reply == "declined" and after.calendar_reply_at is not None
    assert after.ical_sequence == 1
    # The slot is free again, bookable by someone else, and the waiting list hears of it.
    assert confirmed_on(after.slot_id) == 0
    assert service.is_open(after.slot)
    assert db.session.execute(select(FreedSlot).where(FreedSlot.slot_id == after.slot_id)).scalar_one()
    # The patient's usual cancellation (METHOD:CANCEL) says why and offers to book again.
    [cancellation] = outbox_rows("cancellation")
    words = render(cancellation, utcnow())
    assert 'you answered "No" to the invitation in your calendar' in words.text
    assert "http://localhost/book" in words.text and "Book again" in words.html
    assert words.ics_method == "CANCEL"
    # Staff hear of it.
    notices = [render(row, utcnow()) for row in outbox_rows("staff_notice")]
    assert any("declined it in their calendar" in notice.subject for notice in notices)


def test_the_cancellation_is_in_spanish_for_a_spanish_booking(ctx):
    booking = make_booking(locale="es").booking
    handle_message(google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"))
    [cancellation] = outbox_rows("cancellation")
    words = render(cancellation, utcnow())
    assert "La cancelamos porque usted respondió «No» a la invitación en su calendario." in words.text
    assert "http://localhost/es/book" in words.text


@pytest.mark.parametrize("case", ["spoofed From", "another attendee", "dmarc=fail", "unknown UID"])
def test_a_reply_that_is_not_the_patients_changes_nothing(ctx, case):
    booking = make_booking().booking
    uid, starts = booking.ical_uid, booking.slot.starts_at
    raw = {
        "spoofed From": google_reply(uid, starts, "DECLINED", sender="mallory@example.net"),
        "another attendee": google_reply(
            uid, starts, "DECLINED", attendee="mallory@example.net", sender="mallory@example.net"
        ),
        "dmarc=fail": google_reply(uid, starts, "DECLINED", dmarc="fail"),
        "unknown UID": google_reply("not-ours@mindset-tms.example", starts, "DECLINED"),
    }[case]
    before = len(outbox_rows())
    output = receive(ctx, raw)

    assert output.startswith("ignored")
    after = booking_now(booking.public_id)
    assert after.status == "confirmed" and after.calendar_reply is None and after.ical_sequence == 0
    assert len(outbox_rows()) == before, "nothing is sent"


def test_a_reply_to_an_older_sequence_is_stale(ctx):
    booking = make_booking().booking
    service.reschedule(booking.public_id, make_slot().public_id, actor=THE_PATIENT)  # SEQUENCE 1 now
    output = receive(ctx, outlook_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED", sequence=0))

    assert output.startswith("ignored: stale")
    after = booking_now(booking.public_id)
    assert after.status == "confirmed" and after.calendar_reply is None
    # The same "No" to the current invite is heard.
    assert receive(ctx, outlook_reply(booking.ical_uid, after.slot.starts_at, "DECLINED", sequence=1)).startswith(
        "cancelled"
    )
    assert booking_now(booking.public_id).status == "cancelled"


@pytest.mark.parametrize(
    "write, partstat, expected",
    [
        (outlook_reply, "ACCEPTED", "accepted"),  # base64 text/calendar
        (apple_reply, "TENTATIVE", "tentative"),  # quoted-printable, EMAIL= parameter
        (google_reply, "ACCEPTED", "accepted"),  # 7bit, with an invite.ics attachment
    ],
)
def test_yes_and_maybe_are_recorded_and_shown_to_staff(ctx, write, partstat, expected):
    from tests.fixtures_staff import signed_in_client

    booking = make_booking().booking
    before = len(outbox_rows())
    assert receive(ctx, write(booking.ical_uid, booking.slot.starts_at, partstat)).startswith("recorded")

    after = booking_now(booking.public_id)
    assert after.status == "confirmed" and after.calendar_reply == expected
    assert after.ical_sequence == 0 and len(outbox_rows()) == before
    staff = signed_in_client(ctx, "sam@mindset-tms.example")
    label = {"accepted": "Accepted in their calendar", "tentative": "Maybe"}[expected]
    assert label in staff.get(f"/staff/bookings/{booking.public_id}").get_data(as_text=True)
    assert "in their calendar" in staff.get("/staff/bookings").get_data(as_text=True)


def test_a_proposed_new_time_goes_to_staff_as_a_request(ctx):
    booking = make_booking().booking
    proposed = booking.slot.starts_at + timedelta(hours=2)
    output = receive(
        ctx,
        outlook_reply(booking.ical_uid, booking.slot.starts_at, "ACCEPTED", method="COUNTER", proposed_start=proposed),
    )

    assert output.startswith("counter")
    assert booking_now(booking.public_id).status == "confirmed"
    [row] = outbox_rows("inbound")
    assert row.to_address == "staff@mindset-tms.example"
    words = render(row, utcnow())
    assert words.subject.startswith("The patient proposes a new time")
    assert "Could we do a bit later?" in words.text
    assert f"/staff/bookings/{booking.public_id}" in words.text
    assert json.loads(row.event)["who"] == "Ada L."


def test_mail_that_is_not_a_reply_is_forwarded_to_staff(ctx):
    output = receive(ctx, plain_message())
    assert output.startswith("forwarded")
    [row] = outbox_rows("inbound")
    words = render(row, utcnow())
    assert words.subject.startswith("Unhandled message to the clinic's address: Re: Your consultation")
    assert "can I bring my husband" in words.text and "ada@example.com" in words.text
    assert "can I bring my husband" in words.html


def test_unreadable_bytes_are_forwarded_not_lost(ctx):
    assert receive(ctx, b"\xff\xfe garbage without headers\r\n").startswith("forwarded")
    assert len(outbox_rows("inbound")) == 1


@pytest.mark.parametrize("app_settings", [{"CALENDAR_REPLY_AUTO_CANCEL": False}])
def test_with_auto_cancel_off_a_no_only_flags_the_booking(ctx, app_settings):
    booking = make_booking().booking
    output = receive(ctx, google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"))

    assert output.startswith("flagged")
    after = booking_now(booking.public_id)
    assert after.status == "confirmed" and after.calendar_reply == "declined"
    assert outbox_rows("cancellation") == []
    [row] = outbox_rows("inbound")
    assert "CALENDAR_REPLY_AUTO_CANCEL is off" in render(row, utcnow()).subject


def test_a_second_no_is_harmless(ctx):
    booking = make_booking().booking
    raw = google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED")
    assert receive(ctx, raw).startswith("cancelled")
    assert receive(ctx, raw).startswith("ignored")  # SEQUENCE 0 is now stale
    assert len(outbox_rows("cancellation")) == 1


def test_invites_ask_for_a_reply_only_when_someone_reads_them(ctx):
    booking = make_booking().booking
    stamp = utcnow()
    assert "RSVP=FALSE" in ics.booking_invite(booking, ics.REQUEST, stamp).replace("\r\n ", "")
    ctx.config["INBOUND_MAIL_ENABLED"] = True
    assert "RSVP=TRUE" in ics.booking_invite(booking, ics.REQUEST, stamp).replace("\r\n ", "")
    ctx.config.update(
        INBOUND_MAIL_ENABLED=False, IMAP_HOST="imap.example.org", IMAP_USER="bookings", IMAP_PASSWORD="secret"
    )
    assert "RSVP=TRUE" in ics.booking_invite(booking, ics.REQUEST, stamp).replace("\r\n ", "")


def test_mail_receive_asks_the_mail_server_to_retry_when_the_database_is_away(ctx, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def away(*_args, **_kwargs):
        raise OperationalError("SELECT", None, Exception("connection refused"))

    monkeypatch.setattr("app.replies.service.parse.read_message", away)
    result = ctx.test_cli_runner().invoke(args=["mail", "receive"], input=plain_message())
    assert result.exit_code == 75


def test_a_move_between_reading_a_no_and_cancelling_makes_it_stale(ctx, monkeypatch):
    booking = make_booking().booking
    other = make_slot()
    real_cancel = service.cancel

    def moved_first(public_id, **kwargs):  # staff move the booking while the reply is read
        service.reschedule(public_id, other.public_id, actor=Actor("staff"))
        return real_cancel(public_id, **kwargs)

    monkeypatch.setattr("app.replies.service.booking_service.cancel", moved_first)
    outcome = handle_message(google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"))

    assert outcome.action == "ignored" and "stale" in outcome.reason
    after = booking_now(booking.public_id)
    assert after.status == "confirmed" and after.slot_id == other.id and after.calendar_reply is None


def test_a_no_after_the_consultation_began_is_flagged_for_staff(ctx):
    booking = make_booking().booking
    outcome = handle_message(
        google_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"),
        now=booking.slot.starts_at + timedelta(minutes=5),
    )
    assert outcome.action == "flagged"
    after = booking_now(booking.public_id)
    assert after.status == "confirmed" and after.calendar_reply == "declined"
    [row] = outbox_rows("inbound")
    assert "too late to cancel online" in render(row, utcnow()).subject


def test_a_forwarded_message_reaches_staff_with_its_words_and_no_header_of_the_senders(ctx, smtp_server):
    from app.mail.delivery import deliver_due

    ctx.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT_SECONDS=5)
    raw = plain_message("Please call me back.").replace(
        b"Subject: Re: Your consultation is booked \xe2\x80\x93 Mindset TMS",
        b"Subject: =?utf-8?q?Hello=0D=0ABcc:_mallory@example.net=0D=0A=0D=0Abody?=",
    )
    assert receive(ctx, raw).startswith("forwarded")
    report = deliver_due()
    assert report.sent == 1
    [received] = smtp_server.to("staff@mindset-tms.example")
    message = received.message
    assert "Bcc" not in message and "mallory" not in str(message.get("To", ""))
    assert message["Subject"].startswith("Unhandled message to the clinic's address: Hello Bcc:")
    assert "Reply-To" not in message
    assert [r.rcpt_tos for r in smtp_server.received] == [("staff@mindset-tms.example",)]
    assert "Please call me back." in message.get_body(("plain",)).get_content()


def test_the_command_as_a_mail_servers_pipe_runs_it(ctx, database_url):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, TEST_SETTINGS

    booking = make_booking().booking
    env = {**os.environ, **TEST_SETTINGS, "DATABASE_URL": database_url}
    piped = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "receive"],
        cwd=ROOT,
        env=env,
        input=outlook_reply(booking.ical_uid, booking.slot.starts_at, "DECLINED"),
        capture_output=True,
        timeout=60,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith(b"cancelled")
    assert booking_now(booking.public_id).status == "cancelled"
