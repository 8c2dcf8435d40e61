"""Every booking change reaches the patient as an invite, through a real SMTP server
(aiosmtpd on loopback); the outbox survives a mail server that is down or refuses."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking import service
from app.booking.errors import SlotTaken
from app.core.actors import THE_PATIENT, Actor
from app.core.database import write_transaction
from app.core.extensions import db
from app.mail import compose, outbox, rendering
from app.mail.delivery import deliver_due
from app.models import Booking, OutboxMessage, Slot, utcnow
from tests.conftest import booking_form, future_day, local_dt, make_booking, make_slot, patient
from tests.fixtures_mail import calendar_part, calendar_text, prop, structure
from tests.fixtures_mail import outbox_rows as rows

ADA = "ada@example.com"
STAFF = "staff@mindset-tms.example"


@pytest.fixture
def app_settings(smtp_server):
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_TIMEOUT_SECONDS": 5,
        "DEV_MAIL_VIEWER": True,
    }


def book_through_the_site(client, slot, **fields) -> str:
    html = client.get(f"/book/{slot.public_id}").get_data(as_text=True)
    response = client.post(f"/book/{slot.public_id}", data=booking_form(html, **fields))
    assert response.status_code == 303, response.get_data(as_text=True)
    return re.search(r"/manage/([A-Za-z0-9_-]+)/confirmed", response.headers["Location"]).group(1)


def text_of(message, subtype: str) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == f"text/{subtype}")
    return part.get_content()


# --- what arrives ----------------------------------------------------------------------------


def test_booking_sends_an_invite_every_calendar_accepts(ctx, client, smtp_server):
    slot = make_slot()
    token = book_through_the_site(client, slot, mode="in_person", note="Feeling low for months", interest="ketamine")
    assert {r.kind for r in rows()} == {"confirmation", "staff_notice", "reminder"}
    sent_at = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    report = deliver_due(now=sent_at)
    assert report.sent == 2
    to_ada = smtp_server.to(ADA)
    assert len(to_ada) == 1 and to_ada[0].mail_from == "bookings@mindset-tms.example"
    raw = to_ada[0].raw
    assert b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends throughout"
    message = to_ada[0].message

    assert structure(message) == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    assert message["Subject"] == "Your consultation is booked – Mindset TMS"
    assert message["From"].addresses[0].addr_spec == "bookings@mindset-tms.example"
    assert str(message["To"]) == "Ada <ada@example.com>"  # the first name only
    confirmation = rows("confirmation")[0]
    assert message["Message-ID"] == confirmation.message_id
    assert confirmation.status == "sent" and confirmation.sent_at == sent_at

    part = calendar_part(message)
    assert part.get_param("method") == "REQUEST" and part.get_content_charset() == "utf-8"
    calendar = calendar_text(message)
    assert prop(calendar, "METHOD") == ["METHOD:REQUEST"]
    assert prop(calendar, "DTSTAMP") == [f"DTSTAMP:{sent_at:%Y%m%dT%H%M%SZ}"]
    assert prop(calendar, "UID") == [f"UID:{db.session.get(Booking, 1).ical_uid}"]
    assert prop(calendar, "SEQUENCE") == ["SEQUENCE:0"]
    assert prop(calendar, "DTSTART") == [f"DTSTART:{slot.starts_at:%Y%m%dT%H%M%SZ}"]
    attachment = message.get_payload()[1]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_payload(decode=True).decode("utf-8") == calendar

    plain, html = text_of(message, "plain"), text_of(message, "html")
    local = compose.local_when(slot.starts_at)
    assert local.endswith("(Mountain Time)") and local in plain and local in html
    assert f"http://localhost/manage/{token}" in plain and f"http://localhost/manage/{token}" in html
    assert "123 Sample Street" in plain and "988" in plain and "988" in html
    everything = message.as_string().lower() + plain.lower() + html.lower() + calendar.lower()
    for private in ("feeling low", "ketamine", "interest"):
        assert private not in everything


def test_staff_notice_has_first_name_initial_and_a_console_link_only(ctx, smtp_server):
    result = make_booking(name="Ada King Lovelace", phone="+19705550123", note="panic attacks")
    deliver_due()
    [notice] = smtp_server.to(STAFF)
    message = notice.message
    assert message["Subject"].startswith("New consultation booked: ")
    plain = text_of(message, "plain")
    assert "Ada L." in plain and f"http://localhost/staff/bookings/{result.booking.public_id}" in plain
    raw = notice.raw.decode("utf-8", "replace").lower()
    for private in ("lovelace", "ada@example.com", "5550123", "panic", "tms therapy"):
        assert private not in raw and private not in plain.lower()
    assert structure(message) == ["multipart/alternative", "text/plain", "text/html"]


def test_each_message_has_its_own_message_id_and_the_database_refuses_a_repeat(ctx):
    """Unique per message (a retry resends the same id), and guaranteed by a unique index."""
    from sqlalchemy.exc import IntegrityError

    first = make_booking(name="Ada Lovelace")
    second = make_booking(name="Grace Hopper", email="grace@example.com")
    ids = (
        db.session.execute(
            select(OutboxMessage.message_id).where(OutboxMessage.booking_id.in_([first.booking.id, second.booking.id]))
        )
        .scalars()
        .all()
    )
    pattern = re.compile(r"^<[0-9a-f]{32}@mindset-tms\.example>$")
    assert len(ids) == 6 and len(set(ids)) == 6 and all(pattern.match(i) for i in ids)
    copy = db.session.execute(select(OutboxMessage).limit(1)).scalar_one()
    with pytest.raises(IntegrityError):
        db.session.execute(
            OutboxMessage.__table__.insert().values(
                message_id=copy.message_id,
                kind=copy.kind,
                to_address=copy.to_address,
                next_attempt_at=copy.next_attempt_at,
                created_at=copy.created_at,
            )
        )
    db.session.rollback()


def test_reschedule_moves_the_same_event(ctx, smtp_server):
    result = make_booking(mode="phone")
    deliver_due()
    first = calendar_text(smtp_server.to(ADA)[0].message)
    new_slot = make_slot()
    service.reschedule(result.booking.public_id, new_slot.public_id, "video", actor=THE_PATIENT)
    assert deliver_due().sent == 2  # the update, and the staff notice
    update = smtp_server.to(ADA)[1].message
    assert update["Subject"] == "Your consultation has moved – Mindset TMS"
    assert calendar_part(update).get_param("method") == "REQUEST"
    moved = calendar_text(update)
    assert prop(moved, "UID") == prop(first, "UID")
    assert prop(moved, "SEQUENCE") == ["SEQUENCE:1"]
    assert prop(moved, "DTSTART") == [f"DTSTART:{new_slot.starts_at:%Y%m%dT%H%M%SZ}"]
    assert prop(moved, "LOCATION") == ["LOCATION:Video call"]
    plain = text_of(update, "plain")
    assert compose.local_when(new_slot.starts_at) in plain
    link = re.search(r"http://\S+/manage/[\w-]+", plain).group(0)  # a move by staff issues a new link
    assert service.find_by_token(link.rsplit("/", 1)[1]).id == result.booking.id


@pytest.mark.parametrize("by", ["patient", "staff"])
def test_cancel_withdraws_the_event(ctx, smtp_server, by):
    result = make_booking()
    deliver_due()
    note = "The clinic is closed that day." if by == "staff" else None
    service.cancel(result.booking.public_id, actor=Actor(by), message=note)
    deliver_due()
    cancellation = smtp_server.to(ADA)[-1].message
    assert cancellation["Subject"] == "Your consultation is cancelled – Mindset TMS"
    assert calendar_part(cancellation).get_param("method") == "CANCEL"
    calendar = calendar_text(cancellation)
    assert prop(calendar, "METHOD") == ["METHOD:CANCEL"]
    assert prop(calendar, "STATUS") == ["STATUS:CANCELLED"]
    assert prop(calendar, "SEQUENCE") == ["SEQUENCE:1"]
    assert prop(calendar, "UID") == [f"UID:{result.booking.ical_uid}"]
    assert cancellation.get_payload()[1].get_filename() == "invite.ics"
    plain = text_of(cancellation, "plain")
    assert ("The clinic is closed that day." in plain) == (by == "staff")
    staff_notices = [r for r in smtp_server.to(STAFF) if "cancelled" in str(r.message["Subject"]).lower()]
    assert len(staff_notices) == 1  # staff hear of every cancellation, whoever made it


# --- atomic with the booking -----------------------------------------------------------------


def test_a_booking_never_exists_without_its_queued_mail(ctx, monkeypatch):
    slot = make_slot()

    def broken(*_args, **_kwargs):
        raise RuntimeError("the event cannot be written")

    monkeypatch.setattr(outbox, "event_json", broken)
    with pytest.raises(RuntimeError):
        service.book(slot.public_id, "phone", patient(), actor=THE_PATIENT)
    db.session.rollback()
    assert db.session.execute(select(Booking)).first() is None
    assert rows() == []


def test_a_message_queued_before_a_change_describes_the_booking_as_it_was(ctx, smtp_server):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    result = make_booking()
    first_start = result.booking.slot.starts_at
    (queued,) = rows("confirmation")
    assert queued.event is not None and queued.body_text == ""  # rendered by the worker, not here
    new_slot = make_slot()
    service.reschedule(result.booking.public_id, new_slot.public_id, actor=THE_PATIENT)
    assert deliver_due().sent == 2
    confirmation, update = (r.message for r in smtp_server.to(ADA))
    assert prop(calendar_text(confirmation), "DTSTART") == [f"DTSTART:{first_start:%Y%m%dT%H%M%SZ}"]
    assert prop(calendar_text(confirmation), "SEQUENCE") == ["SEQUENCE:0"]
    assert compose.local_when(first_start) in text_of(confirmation, "plain")
    assert prop(calendar_text(update), "DTSTART") == [f"DTSTART:{new_slot.starts_at:%Y%m%dT%H%M%SZ}"]
    # What was sent is kept in the row, and the event (with the patient's details) is gone.
    (sent,) = rows("confirmation")
    assert sent.event is None and compose.local_when(first_start) in sent.body_text


def test_each_queued_event_holds_the_booking_snapshot_and_its_own_details(ctx):
    result = make_booking()
    booking = db.session.get(Booking, result.booking.id)
    expected = {
        "public_id": booking.public_id,
        "ical_uid": booking.ical_uid,
        "ical_sequence": 0,
        "status": "confirmed",
        "name": "Ada Lovelace",
        "email": ADA,
        "mode": booking.mode,
        "starts_at": booking.slot.starts_at.isoformat(),
        "ends_at": booking.slot.ends_at.isoformat(),
        "updated_at": booking.updated_at.isoformat(),
        "cancelled_by": None,
        "reference": booking.reference,
        "locale": "en",
        "calendar_reply": None,
        "video_room": booking.video_room,
        "custom_video_url": None,
    }
    assert set(expected) == {field.name for field in dataclasses.fields(rendering.BookingSnapshot)}
    queued = {r.kind: json.loads(r.event) for r in rows()}
    assert set(queued) == {"confirmation", "staff_notice", "reminder"}
    for event in queued.values():
        assert event["booking"] == expected
    assert queued["confirmation"].keys() == {"booking", "manage_url"}
    [reminder] = [r for r in rows() if r.kind == "reminder"]
    assert reminder.next_attempt_at == booking.slot.starts_at - timedelta(hours=24)
    assert queued["staff_notice"]["staff_event"] == "booked"
    with pytest.raises(ValueError):
        rendering.event_json(booking, booking="x")


def test_a_retry_sends_the_words_rendered_the_first_time(ctx, smtp_server):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking()
    smtp_server.data_reply = "451 4.3.0 Busy"
    t0 = utcnow()
    deliver_due(now=t0)
    (row,) = rows("confirmation")
    assert row.event is None and "Ada" in row.body_text
    with write_transaction() as session:  # a changed template must not change a retried message
        session.get(OutboxMessage, row.id).body_text = "as first rendered"
    smtp_server.data_reply = None
    assert deliver_due(now=t0 + timedelta(minutes=2)).sent == 1
    assert text_of(smtp_server.to(ADA)[0].message, "plain").strip() == "as first rendered"


def test_an_event_that_cannot_be_rendered_fails_alone(ctx, smtp_server, monkeypatch):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking()
    make_booking(email="grace@example.com", name="Grace Hopper")

    def broken(booking, link):
        if booking.name.startswith("Ada"):
            raise RuntimeError("template missing")
        return real(booking, link)

    real = compose.confirmation
    monkeypatch.setattr(compose, "confirmation", broken)
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 1)
    assert [r.rcpt_tos for r in smtp_server.received] == [("grace@example.com",)]
    failed = [r for r in rows("confirmation") if r.status == "failed"]
    assert len(failed) == 1 and "cannot be built" in failed[0].last_error
    assert db.session.execute(select(Booking)).scalars().all()  # the bookings stand


def test_no_mail_is_queued_for_a_booking_that_fails(ctx):
    slot = make_slot()
    make_booking(slot)
    count = len(rows())
    with pytest.raises(SlotTaken):
        service.book(slot.public_id, "phone", patient(email="grace@example.com"), actor=THE_PATIENT)
    assert len(rows()) == count


# --- reminders --------------------------------------------------------------------------------


def _book_at(slot, now, **fields):
    return service.book(slot.public_id, "phone", patient(**fields), now=now, actor=THE_PATIENT)


def test_reminder_is_sent_once_a_day_before(ctx, smtp_server):
    # Mid-morning, so 23 hours before is the day before in the clinic's time ("tomorrow").
    slot = make_slot(local_dt(future_day(3), 10))
    booked_at = slot.starts_at - timedelta(days=3)
    result = _book_at(slot, booked_at)
    [reminder] = rows("reminder")
    assert reminder.next_attempt_at == slot.starts_at - timedelta(hours=24)
    deliver_due(now=booked_at)
    deliver_due(now=slot.starts_at - timedelta(hours=25))
    assert not [r for r in smtp_server.to(ADA) if "Reminder" in str(r.message["Subject"])]
    deliver_due(now=slot.starts_at - timedelta(hours=23))
    deliver_due(now=slot.starts_at - timedelta(hours=1))
    reminders = [r.message for r in smtp_server.to(ADA) if "Reminder" in str(r.message["Subject"])]
    assert len(reminders) == 1
    assert reminders[0]["Subject"] == "Reminder: your consultation tomorrow – Mindset TMS"
    assert "text/calendar" not in structure(reminders[0])
    plain = text_of(reminders[0], "plain")
    assert compose.local_when(slot.starts_at) in plain
    assert "/manage/" + result.manage_token in plain


def test_a_late_reminder_says_when_it_is_sent_not_when_it_was_due(ctx, smtp_server):
    """A reminder held up (the worker was down) until the day itself says "today"."""
    slot = make_slot(local_dt(future_day(5), 15))  # mid-afternoon: two hours before is the same day
    _book_at(slot, slot.starts_at - timedelta(days=3))
    deliver_due(now=slot.starts_at - timedelta(hours=2))
    [reminder] = [r.message for r in smtp_server.to(ADA) if "Reminder" in str(r.message["Subject"])]
    assert reminder["Subject"] == "Reminder: your consultation today – Mindset TMS"


def test_no_reminder_when_booked_inside_the_window(ctx):
    slot = make_slot()
    _book_at(slot, slot.starts_at - timedelta(hours=20))
    assert rows("reminder") == []
    assert len(rows("confirmation")) == 1


def test_reminder_window_is_a_setting(ctx):
    ctx.config["REMINDER_HOURS_BEFORE"] = 48
    slot = make_slot()
    _book_at(slot, slot.starts_at - timedelta(days=5))
    assert rows("reminder")[0].next_attempt_at == slot.starts_at - timedelta(hours=48)


def test_no_reminder_for_a_cancelled_booking(ctx, smtp_server):
    slot = make_slot()
    result = _book_at(slot, slot.starts_at - timedelta(days=3))
    service.cancel(result.booking.public_id, now=slot.starts_at - timedelta(days=2), actor=THE_PATIENT)
    assert [r.status for r in rows("reminder")] == ["cancelled"]
    deliver_due(now=slot.starts_at - timedelta(hours=2))
    assert not [r for r in smtp_server.received if "Reminder" in str(r.message["Subject"])]


def test_a_moved_booking_is_reminded_of_its_new_time_only(ctx, smtp_server):
    slot, later = make_slot(), make_slot()
    later_start = later.starts_at + timedelta(days=2)
    with write_transaction() as session:
        moved = session.get(Slot, later.id)
        moved.starts_at, moved.ends_at = later_start, later_start + timedelta(minutes=30)
    result = _book_at(slot, slot.starts_at - timedelta(days=3))
    service.reschedule(
        result.booking.public_id, later.public_id, now=slot.starts_at - timedelta(days=2), actor=THE_PATIENT
    )
    old, new = rows("reminder")
    assert old.status == "cancelled" and new.status == "pending"
    assert new.next_attempt_at == later_start - timedelta(hours=24)
    deliver_due(now=slot.starts_at - timedelta(hours=2))
    assert not [r for r in smtp_server.received if "Reminder" in str(r.message["Subject"])]
    deliver_due(now=later_start - timedelta(hours=3))
    [reminder] = [r.message for r in smtp_server.received if "Reminder" in str(r.message["Subject"])]
    assert compose.local_when(later_start) in text_of(reminder, "plain")
    token = re.search(r"/manage/([\w-]+)", text_of(reminder, "plain")).group(1)  # every email has the link
    assert service.find_by_token(token).id == result.booking.id


def test_a_stale_reminder_is_withdrawn_at_send_time(ctx, smtp_server):
    slot = make_slot()
    result = _book_at(slot, slot.starts_at - timedelta(days=3))
    with write_transaction() as session:
        session.get(Booking, result.booking.id).ical_sequence = 5  # changed behind the outbox's back
    report = deliver_due(now=slot.starts_at - timedelta(hours=2))
    assert report.withdrawn == 1
    assert [r.status for r in rows("reminder")] == ["cancelled"]
    assert not [r for r in smtp_server.received if "Reminder" in str(r.message["Subject"])]


# --- faults -----------------------------------------------------------------------------------


def test_smtp_down_during_booking(ctx, client, smtp_server):
    smtp_server.stop()
    book_through_the_site(client, make_slot())
    assert [r.status for r in rows()] == ["pending"] * 3
    t0 = utcnow()
    report = deliver_due(now=t0)
    assert report.sent == 0 and report.retrying == 2
    confirmation = rows("confirmation")[0]
    assert confirmation.status == "pending" and confirmation.attempts == 1
    assert confirmation.next_attempt_at == t0 + timedelta(minutes=1)
    assert "connection" in confirmation.last_error.lower()

    smtp_server.start()
    assert deliver_due(now=t0 + timedelta(seconds=30)).sent == 0, "backoff is respected"
    assert deliver_due(now=t0 + timedelta(minutes=2)).sent == 2
    assert deliver_due(now=t0 + timedelta(hours=1)).sent == 0
    assert len(smtp_server.to(ADA)) == 1 and len(smtp_server.to(STAFF)) == 1
    assert smtp_server.to(ADA)[0].message_id == confirmation.message_id
    assert rows("confirmation")[0].status == "sent"


def test_temporary_refusal_backs_off_exponentially_and_keeps_the_message_id(ctx, smtp_server):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking()
    smtp_server.data_reply = "451 4.3.0 Try again later"
    t0 = utcnow() + timedelta(seconds=1)
    deliver_due(now=t0)
    message = rows("confirmation")[0]
    assert (message.attempts, message.next_attempt_at) == (1, t0 + timedelta(minutes=1))
    assert message.last_error.startswith("SMTP 451")
    deliver_due(now=t0 + timedelta(minutes=1))
    message = rows("confirmation")[0]
    assert (message.attempts, message.next_attempt_at) == (2, t0 + timedelta(minutes=3))
    smtp_server.data_reply = None
    deliver_due(now=t0 + timedelta(minutes=3))
    [received] = smtp_server.to(ADA)
    assert received.message_id == message.message_id
    assert rows("confirmation")[0].status == "sent"


def test_permanent_rejection_is_marked_failed_visible_and_not_retried(ctx, client, smtp_server):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking()
    smtp_server.rcpt_reply = "550 5.1.1 Mailbox does not exist"
    report = deliver_due()
    assert report.failed == 1
    message = rows("confirmation")[0]
    assert message.status == "failed" and message.attempts == 1
    assert "550" in message.last_error and "Mailbox does not exist" in message.last_error
    smtp_server.rcpt_reply = None
    assert deliver_due(now=utcnow() + timedelta(hours=6)).sent == 0
    assert smtp_server.to(ADA) == []
    page = client.get("/dev/mail/").get_data(as_text=True)
    assert "failed" in page and "550 5.1.1 Mailbox does not exist" in page
    assert client.get("/healthz").get_json()["outbox"]["failed"] == 1


def test_giving_up_after_the_maximum_attempts(ctx, smtp_server):
    ctx.config.update(MAIL_MAX_ATTEMPTS=2, STAFF_NOTIFY_EMAIL="")
    make_booking()
    smtp_server.stop()
    t0 = utcnow()
    deliver_due(now=t0)
    deliver_due(now=t0 + timedelta(minutes=5))
    message = rows("confirmation")[0]
    assert message.status == "failed" and message.attempts == 2
    assert message.last_error.startswith("gave up after 2 attempts")


def test_an_update_never_overtakes_its_confirmation(ctx, smtp_server):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    result = make_booking()
    smtp_server.data_reply = "451 4.3.0 Busy"
    t0 = utcnow()
    deliver_due(now=t0)
    smtp_server.data_reply = None
    service.reschedule(result.booking.public_id, make_slot().public_id, actor=THE_PATIENT)
    assert deliver_due(now=t0 + timedelta(seconds=10)).sent == 0
    assert deliver_due(now=t0 + timedelta(minutes=2)).sent == 2
    sequences = [prop(calendar_text(r.message), "SEQUENCE") for r in smtp_server.to(ADA)]
    assert sequences == [["SEQUENCE:0"], ["SEQUENCE:1"]]


# --- headers and logs -------------------------------------------------------------------------


def test_names_with_line_breaks_never_reach_a_header(ctx, smtp_server):
    make_booking(name="Ada\r\nBcc: evil@example.com\r\nSubject: pwned")
    deliver_due()
    [received] = smtp_server.to(ADA)
    assert received.rcpt_tos == (ADA,)
    head = received.raw.split(b"\r\n\r\n", 1)[0].decode()
    assert "\nBcc:" not in head and "\nSubject: pwned" not in head
    message = received.message
    assert message["Bcc"] is None and len(message.get_all("Subject")) == 1
    assert message["To"].addresses[0].addr_spec == ADA
    assert message["To"].addresses[0].display_name == "Ada"  # the first name only
    assert all("evil@example.com" not in r.rcpt_tos for r in smtp_server.received)


def test_a_bad_address_fails_permanently_instead_of_injecting(ctx, smtp_server):
    ctx.config["STAFF_NOTIFY_EMAIL"] = "staff@example.com\r\nBcc: evil@example.com"
    make_booking()
    report = deliver_due()
    assert report.sent == 1 and report.failed == 1
    [notice] = rows("staff_notice")
    assert notice.status == "failed" and "address" in notice.last_error
    assert all("evil@example.com" not in r.rcpt_tos for r in smtp_server.received)


def test_international_addresses(ctx, smtp_server):
    ctx.config["STAFF_NOTIFY_EMAIL"] = ""
    make_booking(email="ada@bücher.example")
    make_booking(email="zoë@example.com")
    report = deliver_due()
    assert report.sent == 1 and report.failed == 1
    [received] = smtp_server.received
    assert received.rcpt_tos == ("ada@xn--bcher-kva.example",)
    failed = [m for m in rows("confirmation") if m.status == "failed"]
    assert failed[0].to_address == "zoë@example.com" and "non-ASCII" in failed[0].last_error


def test_logs_carry_no_tokens_or_patient_details(ctx, client, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    token = book_through_the_site(client, make_slot(), name="Grace Hopper", email="grace@example.com")
    smtp_server.rcpt_reply = "550 5.1.1 <grace@example.com>: no such user"
    deliver_due()
    assert caplog.records, "delivery logs what it does"
    # (aiosmtpd, the test server, logs addresses itself: only our own loggers count)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app"))
    for secret in (token, "grace", "Grace", "Hopper"):
        assert secret not in logged
