"""A course's calendar stays true: after any sequence of plans, moves, cancels and added
sessions, what the patient received (every email's calendar data, applied in order by UID and
SEQUENCE as a calendar client does) expands to exactly the sessions in the database, across
the March and November DST changes, in icalendar + recurring-ical-events, in vobject, and in
a real CalDAV server (Radicale)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events
import vobject
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.mail.delivery import deliver_due
from tests.fixtures_courses import DENVER, add, cancel, denver, make_course, move, planned_sessions
from tests.fixtures_mail import calendar_text, prop, structure
from tests.test_radicale import Radicale

HEALTH_WORDS = (
    "tms",
    "ketamine",
    "depress",
    "treatment",
    "therapy",
    "magnetic",
    "session",
    "terapia",
    "tratamiento",
    "sesión",
    "sesion",
)

# The Mondays before America/Denver's DST changes in 2027 (March 14, November 7).
MARCH = [denver(2027, 3, day, 9) for day in (10, 11, 12, 15, 16, 17)]
NOVEMBER = [denver(2027, 11, day, 16, 30) for day in (3, 4, 5, 8, 9, 10)]


@pytest.fixture
def app(any_app):
    return any_app


@pytest.fixture
def app_settings(smtp_server):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port}


# --- what a calendar client does with what it received --------------------------------------


def received(smtp_server, address: str) -> list[tuple[str, str]]:
    """(METHOD, calendar text) of every email to `address` that carries calendar data, in order;
    the attachment is checked to be the inline part, byte for byte."""
    calendars = []
    for item in smtp_server.to(address):
        message = item.message
        if "text/calendar" not in structure(message):
            continue
        text = calendar_text(message)
        [attachment] = [p for p in message.iter_attachments() if p.get_filename() == "appointments.ics"]
        assert attachment.get_payload(decode=True).decode("utf-8") == text
        [method] = prop(text, "METHOD")
        calendars.append((method.split(":", 1)[1], text))
    return calendars


def apply_all(calendars: list[tuple[str, str]]) -> dict[str, icalendar.Event]:
    """The events a client holds after applying every message in order: an event replaces the
    one with its UID only with a higher SEQUENCE (as Google and Outlook insist); a CANCEL or
    STATUS:CANCELLED removes it."""
    held: dict[str, icalendar.Event] = {}
    sequences: dict[str, int] = {}
    for method, text in calendars:
        for event in icalendar.Calendar.from_ical(text).walk("VEVENT"):
            uid, sequence = str(event["UID"]), int(event["SEQUENCE"])
            if uid in sequences and sequence <= sequences[uid]:
                continue
            sequences[uid] = sequence
            if method == "CANCEL" or str(event.get("STATUS")) == "CANCELLED":
                held.pop(uid, None)
            else:
                held[uid] = event
    return held


def as_calendar(events) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//test//client//EN")
    calendar.add("version", "2.0")
    for event in events:
        calendar.add_component(event)
    return calendar


def expanded(calendar: icalendar.Calendar) -> set[tuple[str, datetime, datetime]]:
    occurrences = recurring_ical_events.of(calendar).between(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
    )
    return {(str(e["UID"]), e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC)) for e in occurrences}


def by_vobject(calendar: icalendar.Calendar) -> set[tuple[str, datetime, datetime]]:
    parsed = vobject.readOne(calendar.to_ical().decode("utf-8"))
    return (
        {(e.uid.value, e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC)) for e in parsed.vevent_list}
        if hasattr(parsed, "vevent_list")
        else set()
    )


def assert_calendar_true(smtp_server, address: str, course_id: int) -> set:
    deliver_due()
    calendar = as_calendar(apply_all(received(smtp_server, address)).values())
    truth = planned_sessions(course_id)
    assert expanded(calendar) == truth
    assert by_vobject(calendar) == truth
    return truth


# --- the planned course and its changes ------------------------------------------------------


def test_the_planned_course_is_one_email_with_every_session(ctx, smtp_server):
    course = make_course(MARCH + NOVEMBER)
    deliver_due()
    [item] = smtp_server.to("ada@example.com")
    message = item.message
    subject = str(message["Subject"])
    assert subject == "Your appointments are booked – Mindset TMS"
    text = calendar_text(message)
    assert prop(text, "METHOD") == ["METHOD:PUBLISH"]
    assert len(prop(text, "UID")) == 12 and len(set(prop(text, "UID"))) == 12
    assert not prop(text, "ATTENDEE") and not prop(text, "RRULE") and not prop(text, "RDATE")
    summaries = prop(text, "SUMMARY")
    assert summaries[0] == "SUMMARY:Appointment – Mindset TMS"
    html = message.get_body(("html",)).get_content()
    preview = html.split("opacity:0", 1)[1].split("</div>", 1)[0]
    for words in (subject, preview, *summaries):
        bare = words.lower().replace("mindset tms", "")  # the clinic's own name
        assert not any(word in bare for word in HEALTH_WORDS), words
    body = message.get_body(("plain",)).get_content()
    assert f"/course/{course.token}" in body and "Before you come:" in body
    # The wall-clock time is the same on both sides of each DST change (9:00, then 16:30).
    calendar = as_calendar(apply_all(received(smtp_server, "ada@example.com")).values())
    local = sorted(start.astimezone(DENVER) for _uid, start, _end in expanded(calendar))
    assert {(t.hour, t.minute) for t in local[:6]} == {(9, 0)} and {(t.hour, t.minute) for t in local[6:]} == {(16, 30)}
    assert {t.utcoffset() for t in local[:6]} == {timedelta(hours=-7), timedelta(hours=-6)}
    assert {t.utcoffset() for t in local[6:]} == {timedelta(hours=-7), timedelta(hours=-6)}
    assert assert_calendar_true(smtp_server, "ada@example.com", course.id) == planned_sessions(course.id)


def test_spanish_course_email_and_calendar(ctx, smtp_server):
    make_course(MARCH[:2], locale="es", email="eva@example.com", name="Eva Pérez")
    deliver_due()
    [item] = smtp_server.to("eva@example.com")
    assert str(item.message["Subject"]) == "Sus visitas están programadas – Mindset TMS"
    text = calendar_text(item.message)
    assert prop(text, "SUMMARY")[0] == "SUMMARY:Visita – Mindset TMS"
    assert "/es/course/" in item.message.get_body(("plain",)).get_content()


def test_a_patient_without_email_gets_nothing(ctx, smtp_server):
    from tests.fixtures_mail import outbox_rows

    course = make_course(MARCH[:3], email=None)
    move(course.id, {2: denver(2027, 3, 11, 10)})
    cancel(course.id, [3])
    assert outbox_rows() == []


def test_one_session_moved_is_a_request_cancelled_is_a_cancel(ctx, smtp_server):
    course = make_course(MARCH)
    move(course.id, {2: denver(2027, 3, 18, 11)}, chair_index=1)
    cancel(course.id, [3])
    deliver_due()
    planned, moved, withdrawn = received(smtp_server, "ada@example.com")
    assert moved[0] == "REQUEST" and withdrawn[0] == "CANCEL"
    uid_2 = [line for line in prop(planned[1], "UID")][1]
    assert prop(moved[1], "UID") == [uid_2] and prop(moved[1], "SEQUENCE") == ["SEQUENCE:1"]
    assert prop(moved[1], "ATTENDEE") and "Chair 2" in moved[1].replace("\r\n ", "")
    assert prop(withdrawn[1], "STATUS") == ["STATUS:CANCELLED"]
    [_moved_mail, cancel_mail] = [i.message for i in smtp_server.to("ada@example.com")][1:]
    assert str(cancel_mail["Subject"]) == "Your appointments have changed – Mindset TMS"
    assert_calendar_true(smtp_server, "ada@example.com", course.id)


def test_moving_every_later_session_is_one_email(ctx, smtp_server):
    course = make_course(NOVEMBER)
    # Every session from the third on moves an hour later, across the November change.
    move(course.id, {n: start + timedelta(hours=1) for n, start in enumerate(NOVEMBER, 1) if n >= 3})
    add(course.id, denver(2027, 11, 11, 17, 30))
    deliver_due()
    calendars = received(smtp_server, "ada@example.com")
    assert [method for method, _text in calendars] == ["PUBLISH", "PUBLISH", "REQUEST"]
    assert len(prop(calendars[1][1], "UID")) == 4
    assert set(prop(calendars[1][1], "SEQUENCE")) == {"SEQUENCE:1"}
    assert prop(calendars[2][1], "SEQUENCE") == ["SEQUENCE:0"]  # an added session: a new UID
    truth = assert_calendar_true(smtp_server, "ada@example.com", course.id)
    assert len(truth) == 7


# --- any sequence of changes -----------------------------------------------------------------

DAYS = [denver(2027, 3, day, 8) for day in range(8, 20)] + [denver(2027, 11, day, 8) for day in range(1, 13)]
operation = st.one_of(
    st.tuples(st.just("move"), st.integers(1, 8), st.sampled_from(DAYS), st.integers(0, 16)),
    st.tuples(st.just("cancel"), st.integers(1, 8)),
    st.tuples(st.just("add"), st.sampled_from(DAYS), st.integers(0, 16)),
    st.tuples(st.just("move_later"), st.integers(1, 8), st.integers(-3, 3)),
)
_examples = [0]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.sampled_from(DAYS[:6] + DAYS[12:18]), operations=st.lists(operation, max_size=6))
def test_any_sequence_of_changes_keeps_the_calendar_true(ctx, smtp_server, first, operations):
    _examples[0] += 1
    address = f"p{_examples[0]}@example.com"
    course = make_course([first + timedelta(days=d) for d in range(4)], email=address)
    numbers = {1, 2, 3, 4}
    cancelled: set[int] = set()
    for op in operations:
        live = sorted(numbers - cancelled)
        if op[0] == "move" and op[1] in live:
            move(course.id, {op[1]: op[2] + timedelta(minutes=30 * op[3])})
        elif op[0] == "cancel" and op[1] in live:
            cancel(course.id, [op[1]])
            cancelled.add(op[1])
        elif op[0] == "add":
            numbers.add(add(course.id, op[1] + timedelta(minutes=30 * op[2])))
        elif op[0] == "move_later" and op[2]:
            later = {n: None for n in live if n >= op[1]}
            if later:
                from app.core.extensions import db
                from app.models.schedule import CourseSession

                starts = {s.number: s.starts_at for s in db.session.query(CourseSession).filter_by(course_id=course.id)}
                db.session.rollback()
                move(course.id, {n: starts[n] + timedelta(hours=op[2]) for n in later})
    assert_calendar_true(smtp_server, address, course.id)


# --- a real CalDAV server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    server = Radicale(tmp_path_factory.mktemp("radicale-courses"))
    yield server
    server.stop()


def put_or_delete(radicale: Radicale, collection: str, calendars: list[tuple[str, str]]) -> None:
    """What a CalDAV client does with each message: one resource per UID, replaced by a newer
    SEQUENCE, deleted by a CANCEL (or a STATUS:CANCELLED event)."""
    for method, text in calendars:
        for event in icalendar.Calendar.from_ical(text).walk("VEVENT"):
            resource = collection + str(event["UID"]).split("@")[0] + ".ics"
            if method == "CANCEL" or str(event.get("STATUS")) == "CANCELLED":
                assert radicale.request("DELETE", resource).status_code in (200, 204, 404)
                continue
            one = as_calendar([event]).to_ical()
            answer = radicale.request(
                "PUT", resource, data=one, headers={"Content-Type": "text/calendar; charset=utf-8"}
            )
            assert answer.status_code in (201, 204), answer.text


def test_radicale_stores_exactly_the_planned_sessions(ctx, smtp_server, radicale):
    collection = radicale.new_calendar(f"course-{uuid.uuid4().hex[:8]}")
    course = make_course(MARCH + NOVEMBER)
    move(course.id, {2: denver(2027, 3, 18, 13)})
    move(course.id, {n: NOVEMBER[n - 7] + timedelta(minutes=45) for n in range(9, 13)})
    cancel(course.id, [4])
    add(course.id, denver(2027, 11, 12, 9))
    deliver_due()
    calendars = received(smtp_server, "ada@example.com")
    put_or_delete(radicale, collection, calendars)
    stored = radicale.events(collection)
    truth = planned_sessions(course.id)
    assert {(e.uid.value, e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC)) for e in stored} == truth
    # And recurring-ical-events over what Radicale answers.
    answer = as_calendar([icalendar.Event.from_ical(e.serialize()) for e in stored])
    assert expanded(answer) == truth
    assert len(truth) == 12


def test_the_attachment_reads_as_a_valid_calendar(ctx, smtp_server):
    make_course(MARCH)
    deliver_due()
    [item] = smtp_server.to("ada@example.com")
    text = calendar_text(item.message)
    vobject.readOne(text, validate=True).validate(raiseException=True)
    assert item.message.get_content_type() == "multipart/mixed"


# --- through the course service ---------------------------------------------------------------


def test_the_course_service_changes_keep_the_calendar_and_radicale_true(ctx, smtp_server, radicale):
    """A standard 36 planned by the service across the March change, every later session moved,
    a session missed and one added at the end, a pause and a resume, then ended early: the
    patient's calendar (and Radicale's copy) hold exactly the sessions the database keeps."""
    from datetime import date, time

    from sqlalchemy import select

    from app.core.database import write_transaction
    from app.courses import service
    from app.models import AvailabilityRule
    from app.models.schedule import CourseTemplate
    from app.schedule.seed import seed_schedule

    with write_transaction() as session:
        seed_schedule(session)
        for weekday in range(5):
            session.add(AvailabilityRule(weekday=weekday, start_time=time(8), end_time=time(17), slot_minutes=30))
    template = (
        ctx.extensions["sqlalchemy"]
        .session.execute(select(CourseTemplate).where(CourseTemplate.key == "rtms_36"))
        .scalar_one()
    )
    course = service.plan_course(
        service.PatientDetails(name="Ada Lovelace", email="ada@example.com"),
        service.PlanRequest(template_id=template.id, start=date(2027, 3, 1), preferred_time=time(9)),
        now=denver(2027, 2, 20, 9),
    )
    public_id = course.public_id
    service.move_session(public_id, 3, denver(2027, 3, 3, 14), later_too=True, now=denver(2027, 2, 21, 9))
    service.record_attendance(public_id, 1, "attended", now=denver(2027, 3, 1, 10))
    service.record_attendance(public_id, 2, "missed", now=denver(2027, 3, 2, 16))
    service.add_session_at_end(public_id, now=denver(2027, 3, 2, 16))
    service.pause_course(public_id, now=denver(2027, 3, 20, 9))
    service.resume_course(public_id, date(2027, 3, 29), now=denver(2027, 3, 22, 9))
    service.end_course(public_id, "moved away", now=denver(2027, 4, 20, 9))
    course_id = service.find_course(public_id).id
    truth = assert_calendar_true(smtp_server, "ada@example.com", course_id)
    local = sorted(start.astimezone(DENVER) for _uid, start, _end in truth)
    # Wall-clock times stay whole hours on both sides of the change (9:00, or 14:00 after the move).
    assert {(t.hour, t.minute) for t in local} <= {(9, 0), (14, 0)} and len(truth) > 10
    assert {t.utcoffset() for t in local} == {timedelta(hours=-7), timedelta(hours=-6)}
    kinds = [str(i.message["Subject"]) for i in smtp_server.to("ada@example.com")]
    assert kinds[0] == "Your appointments are booked – Mindset TMS" and len(kinds) == 6
    collection = radicale.new_calendar(f"service-{uuid.uuid4().hex[:8]}")
    put_or_delete(radicale, collection, received(smtp_server, "ada@example.com"))
    stored = radicale.events(collection)
    assert {(e.uid.value, e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC)) for e in stored} == truth
