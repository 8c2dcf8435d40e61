"""Treatment courses: proposing, planning and running a course of sessions on the chairs.

Every function that changes something owns one transaction: it changes the rows, holds or
releases chair time through app.schedule.holds (the database decides clashes), adds the
audit entry when staff made the change, and calls the patient notification once, before
commit, so the change and its message land together or not at all. Sessions passed to
`notifications.course_changed` already carry their raised `ical_sequence`.

Pausing a course cancels its sessions still to come and frees their chairs (a patient away
for weeks should not keep chairs from others); resuming plans the same number of sessions
afresh from the day chosen. Courses and sessions are named by the course's `public_id` and
the session's `number` (numbers are never reused; "session n of N" counts the sessions not
cancelled, in time order, see `ordinals`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.core import audit
from app.core.database import write_transaction
from app.core.extensions import db
from app.core.timefmt import clinic_zone
from app.core.tokens import hash_token, new_manage_token
from app.courses import notifications
from app.courses.errors import (
    ChairNotFound,
    CourseNotActive,
    CourseNotFound,
    InvalidCourseInput,
    NoFreeTime,
    PlanClash,
    SessionNotChangeable,
    SessionNotFound,
    TemplateNotFound,
    TimeNotOpen,
)
from app.courses.planning import (
    EVERY_DAY,
    NoTimeFound,
    PlannedSession,
    SessionSpec,
    best_time,
    flag_authorisation,
    phases_from,
    plan,
    reach,
    session_specs,
)
from app.courses.planning import (
    is_past_authorisation as _past,
)
from app.mail import outbox
from app.models import Chair, Course, CourseSession, CourseTemplate, new_public_id, utcnow
from app.models.schedule import (
    CELL_MINUTES,
    COURSE_COMPLETED,
    COURSE_ENDED,
    COURSE_PAUSED,
    COURSE_PLANNED,
    SESSION_ATTENDED,
    SESSION_CANCELLED,
    SESSION_MISSED,
    SESSION_PLANNED,
)
from app.models.staff import StaffUser
from app.schedule import holds
from app.schedule.clinic_time import clinic_today
from app.schedule.errors import ChairTaken
from app.schedule.opening_hours import opening_rules, opening_windows

NAME_MAX, REASON_MAX = 100, 500


@dataclass(frozen=True)
class PatientDetails:
    """Who the course is for (a consultation's patient, or a caller)."""

    name: str
    email: str | None = None
    phone: str = ""
    locale: str = "en"


@dataclass(frozen=True)
class PlanRequest:
    """What staff choose: the template, the first day, the time of day (clinic time), an
    optional chair (None: any chair) and the insurer's authorisation (or self-pay)."""

    template_id: int
    start: date
    preferred_time: time
    chair_id: int | None = None
    self_pay: bool = False
    authorised_sessions: int | None = None
    authorised_until: date | None = None


@dataclass(frozen=True)
class Proposal:
    """Every session the planner proposes, in order, with the template's name and count."""

    template_id: int
    template_name: str
    sessions: list[PlannedSession] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return sum(1 for s in self.sessions if s.moved)

    @property
    def past_authorisation(self) -> int:
        return sum(1 for s in self.sessions if s.past_authorisation)


# --- reading what the planner needs -------------------------------------------------------


def _template(template_id: int) -> CourseTemplate:
    template = db.session.get(CourseTemplate, template_id)
    if template is None or not template.is_active:
        raise TemplateNotFound()
    return template


def _specs(template: CourseTemplate) -> list[SessionSpec]:
    return session_specs(
        phases_from(json.loads(template.cadence)),
        (template.first_type_id, template.first_type.minutes),
        (template.session_type_id, template.session_type.minutes),
    )


def _chairs(chair_id: int | None) -> list[int]:
    """The chairs a plan may use, in order of preference: the one asked for, or all in use."""
    active = list(
        db.session.execute(
            select(Chair.id).where(Chair.is_active.is_(True)).order_by(Chair.position, Chair.id)
        ).scalars()
    )
    if chair_id is None:
        return active
    if chair_id not in active:
        raise ChairNotFound()
    return [chair_id]


def _cell_ceiling(at: datetime) -> datetime:
    step = CELL_MINUTES * 60
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(-(-seconds // step) * step, tz=at.tzinfo)


class _Book:
    """What the planner reads from the database for one plan: the opening rules once, the held
    chair cells for the whole reach once, and the times already past."""

    def __init__(
        self, chairs: Sequence[int], first: date, last: date, now: datetime, except_session_ids: Sequence[int] = ()
    ) -> None:
        zone = clinic_zone()
        self.rules = opening_rules()
        self.earliest = _cell_ceiling(now)
        lower = datetime.combine(first, time(0), zone)
        upper = datetime.combine(last + timedelta(days=2), time(0), zone)
        self.held = holds.held_cells(chairs, lower, upper, except_session_ids)

    def windows(self, on: date) -> list[tuple[datetime, datetime]]:
        return [
            (max(start, self.earliest), end) for start, end in opening_windows(on, self.rules) if end > self.earliest
        ]

    def is_free(self, chair_id: int, starts_at: datetime, ends_at: datetime) -> bool:
        held = self.held.get(chair_id, set())
        return not any(cell in held for cell in holds.cells(starts_at, ends_at))

    def is_open(self, starts_at: datetime, ends_at: datetime) -> bool:
        on = starts_at.astimezone(clinic_zone()).date()
        return starts_at >= self.earliest and any(
            start <= starts_at and ends_at <= end for start, end in self.windows(on)
        )


def _patient_days(email: str | None, except_course_id: int | None = None) -> set[date]:
    """The clinic days on which this patient (by email) already has a session of another course."""
    if not email:
        return set()
    query = (
        select(CourseSession.starts_at)
        .join(Course)
        .where(func.lower(Course.email) == email.strip().lower(), CourseSession.status == SESSION_PLANNED)
    )
    if except_course_id is not None:
        query = query.where(Course.id != except_course_id)
    zone = clinic_zone()
    return {at.astimezone(zone).date() for at in db.session.execute(query).scalars()}


def _propose(request: PlanRequest, email: str | None, now: datetime) -> Proposal:
    template = _template(request.template_id)
    if request.start < clinic_today(now):
        raise InvalidCourseInput("The first day has passed: choose today or later.", field="start")
    chairs = _chairs(request.chair_id)
    specs = _specs(template)
    book = _Book(chairs, request.start, reach(specs, request.start), now)
    try:
        sessions = plan(
            specs,
            request.start,
            request.preferred_time,
            chairs,
            book.windows,
            book.is_free,
            clinic_zone(),
            busy_days=_patient_days(email),
        )
    except NoTimeFound as error:
        raise NoFreeTime(error.number) from None
    sessions = flag_authorisation(
        sessions,
        clinic_zone(),
        self_pay=request.self_pay,
        authorised_sessions=request.authorised_sessions,
        authorised_until=request.authorised_until,
    )
    return Proposal(template.id, template.name, sessions)


def propose_plan(request: PlanRequest, *, email: str | None = None, now: datetime | None = None) -> Proposal:
    """Every session of a course as the planner would place it now: inside opening hours,
    never on a closure, never on a held chair time nor on a day the patient (`email`) has
    another session, one a day, at the preferred time where it can and the nearest free time
    where it cannot (`moved`), flagged past the authorisation. Changes nothing.

    Raises TemplateNotFound, ChairNotFound, InvalidCourseInput (start passed), NoFreeTime."""
    _check_authorisation(request)
    proposal = _propose(request, email, now or utcnow())
    db.session.rollback()  # end the read transaction
    return proposal


def proposal_from(
    template_id: int, times: Sequence[tuple[int, int, datetime]], preferred_time: time | None = None
) -> list[PlannedSession]:
    """A proposal sent back by a form or a client as (number, chair id, start) triples, with
    each session's type and length taken from the template (never from the sender), flagged
    `moved` when not at `preferred_time`; `plan_course` then checks and holds it. Raises
    InvalidCourseInput when it does not fit."""
    specs = {s.number: s for s in _specs(_template(template_id))}
    planned = []
    for number, chair_id, starts_at in times:
        spec = specs.get(number)
        if spec is None or starts_at.tzinfo is None:
            raise InvalidCourseInput("The plan does not match the template: propose it again.", field="template")
        starts_at = starts_at.astimezone(UTC)
        moved = preferred_time is not None and starts_at.astimezone(clinic_zone()).time() != preferred_time
        planned.append(
            PlannedSession(
                number,
                spec.type_id,
                spec.minutes,
                chair_id,
                starts_at,
                starts_at + timedelta(minutes=spec.minutes),
                moved=moved,
            )
        )
    db.session.rollback()
    return planned


def _check_authorisation(request: PlanRequest) -> None:
    if request.authorised_sessions is not None and request.authorised_sessions < 1:
        raise InvalidCourseInput(
            "Enter the number of sessions authorised (1 or more), or leave it empty.", field="authorised_sessions"
        )


def _check_patient(patient: PatientDetails) -> PatientDetails:
    name = " ".join((patient.name or "").split())
    if not name:
        raise InvalidCourseInput("Enter the patient's name.", field="name")
    if len(name) > NAME_MAX:
        raise InvalidCourseInput(f"Use at most {NAME_MAX} characters.", field="name")
    email = (patient.email or "").strip() or None
    if email and ("@" not in email or len(email) > 254 or any(c.isspace() for c in email)):
        raise InvalidCourseInput("Enter an email address like name@example.com.", field="email")
    locale = patient.locale if patient.locale in ("en", "es") else "en"
    return PatientDetails(name, email, (patient.phone or "").strip()[:32], locale)


def _check_given(
    given: Sequence[PlannedSession],
    specs: Sequence[SessionSpec],
    chairs: Sequence[int],
    book: _Book,
    busy_days: set[date],
) -> None:
    """Times staff confirm must still be a plan the planner could make (the chairs are the
    database's to decide)."""
    if [(s.number, s.type_id, s.minutes) for s in given] != [(s.number, s.type_id, s.minutes) for s in specs]:
        raise InvalidCourseInput("The plan does not match the template: propose it again.", field="template")
    zone = clinic_zone()
    days = [s.starts_at.astimezone(zone).date() for s in given]
    if len(set(days)) != len(days) or busy_days.intersection(days):
        raise InvalidCourseInput("A patient has at most one session a day: propose the plan again.", field="start")
    for session in given:
        if session.chair_id not in chairs:
            raise ChairNotFound()
        if session.ends_at - session.starts_at != timedelta(minutes=session.minutes) or not book.is_open(
            session.starts_at, session.ends_at
        ):
            raise TimeNotOpen(
                f"Session {session.number} is outside opening hours or in the past: propose the plan again."
            )


def _new_session(course: Course, planned: PlannedSession) -> CourseSession:
    return CourseSession(
        course=course,
        number=planned.number,
        type_id=planned.type_id,
        chair_id=planned.chair_id,
        starts_at=planned.starts_at,
        ends_at=planned.ends_at,
        status=SESSION_PLANNED,
        ical_uid=f"course-{course.public_id}-{planned.number}@{outbox.sender_domain()}",
    )


def plan_course(
    patient: PatientDetails,
    request: PlanRequest,
    sessions: Sequence[PlannedSession] | None = None,
    *,
    booking_id: int | None = None,
    actor: StaffUser | None = None,
    now: datetime | None = None,
) -> Course:
    """Create the course, all its sessions and their chair holds in one transaction.

    `sessions` are the proposal staff confirmed (held exactly as shown); None takes the
    planner's proposal of the moment. The new course's private page token goes only into the
    one email `notifications.course_planned` queues (only its hash is stored).
    Raises PlanClash (with fresh proposals) when a chair time was taken meanwhile, and the
    errors of `propose_plan` and InvalidCourseInput (a field at fault)."""
    now = now or utcnow()
    patient = _check_patient(patient)
    _check_authorisation(request)
    if sessions is None:
        # Proposed before the write transaction, so writers wait only for the holds.
        sessions = propose_plan(request, email=patient.email, now=now).sessions
    clash: ChairTaken | None = None
    try:
        with write_transaction() as session:
            template = _template(request.template_id)
            if request.start < clinic_today(now):
                raise InvalidCourseInput("The first day has passed: choose today or later.", field="start")
            chairs = _chairs(request.chair_id)
            first = min(s.starts_at for s in sessions).astimezone(clinic_zone()).date()
            last = max(s.starts_at for s in sessions).astimezone(clinic_zone()).date()
            _check_given(
                sessions, _specs(template), chairs, _Book(chairs, first, last, now), _patient_days(patient.email)
            )
            planned = flag_authorisation(
                sessions,
                clinic_zone(),
                self_pay=request.self_pay,
                authorised_sessions=request.authorised_sessions,
                authorised_until=request.authorised_until,
            )
            token = new_manage_token()
            course = Course(
                public_id=new_public_id(),
                template_id=template.id,
                booking_id=booking_id,
                name=patient.name,
                email=patient.email,
                phone=patient.phone,
                locale=patient.locale,
                status=COURSE_PLANNED,
                preferred_time=request.preferred_time,
                preferred_chair_id=request.chair_id,
                self_pay=request.self_pay,
                authorised_sessions=None if request.self_pay else request.authorised_sessions,
                authorised_until=None if request.self_pay else request.authorised_until,
                page_token_hash=hash_token(token),
                planned_by=actor.name if actor is not None else None,
            )
            session.add(course)
            rows = [_new_session(course, p) for p in planned]
            session.add_all(rows)
            session.flush()
            try:
                holds.hold(session, rows)
            except ChairTaken as taken:
                clash = taken
                raise
            _audit(
                session,
                actor,
                "course.plan",
                course,
                f"{template.name}: {len(rows)} sessions from {_day(rows[0].starts_at)}",
            )
            notifications.course_planned(course, token)
    except ChairTaken:
        pass
    if clash is None:
        return course
    number = next(
        (p.number for p in planned if p.chair_id == clash.chair_id and p.starts_at == clash.starts_at),
        planned[0].number,
    )
    try:
        fresh = propose_plan(request, email=patient.email, now=now).sessions
    except NoFreeTime:
        fresh = []
    raise PlanClash(number, clash.chair_id, clash.starts_at, clash.ends_at, fresh)


# --- running a course -----------------------------------------------------------------------


def _day(at: datetime) -> str:
    return at.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M")


def _audit(session: Session, actor: StaffUser | None, action: str, course: Course, details: str) -> None:
    if actor is not None:
        audit.record(
            session, actor, action, booking_id=course.booking_id, details=f"course {course.public_id}: {details}"
        )


def _locked_course(session: Session, course_public_id: str) -> Course:
    course = session.execute(
        select(Course)
        .where(Course.public_id == course_public_id)
        .options(selectinload(Course.sessions))
        .with_for_update(of=Course)
    ).scalar_one_or_none()
    if course is None:
        raise CourseNotFound()
    return course


def _session_of(course: Course, number: int) -> CourseSession:
    for item in course.sessions:
        if item.number == number:
            return item
    raise SessionNotFound()


def _touch(items: Sequence[CourseSession]) -> None:
    """A calendar change for these sessions: the patient's copy gets a higher SEQUENCE."""
    for item in items:
        item.ical_sequence += 1


def _cancel_future(session: Session, course: Course, now: datetime) -> list[CourseSession]:
    future = [s for s in course.sessions if s.status == SESSION_PLANNED and s.starts_at > now]
    holds.release(session, future)
    for item in future:
        item.status = SESSION_CANCELLED
    _touch(future)
    return future


def record_attendance(
    course_public_id: str, number: int, status: str, *, actor: StaffUser | None = None, now: datetime | None = None
) -> CourseSession:
    """Mark a session attended or missed (a mark can be corrected); a session can be marked
    from its own day. The course is completed when no planned session is left."""
    now = now or utcnow()
    if status not in (SESSION_ATTENDED, SESSION_MISSED):
        raise InvalidCourseInput("Choose attended or missed.", field="status")
    with write_transaction() as session:
        course = _locked_course(session, course_public_id)
        item = _session_of(course, number)
        if item.status == SESSION_CANCELLED:
            raise SessionNotChangeable("This session was cancelled.")
        if item.starts_at.astimezone(clinic_zone()).date() > clinic_today(now):
            raise SessionNotChangeable("A session can be marked from its own day.")
        item.status = status
        if course.status == COURSE_PLANNED and not any(s.status == SESSION_PLANNED for s in course.sessions):
            course.status = COURSE_COMPLETED
        _audit(session, actor, f"course.{status}", course, f"session {number}")
        notifications.course_changed(course, [], [])
    return item


def _live_course(session: Session, course_public_id: str) -> Course:
    course = _locked_course(session, course_public_id)
    if course.status in (COURSE_ENDED, COURSE_COMPLETED):
        raise CourseNotActive()
    return course


def add_session_at_end(
    course_public_id: str, *, actor: StaffUser | None = None, now: datetime | None = None
) -> CourseSession:
    """One more session after the course's last one (after a missed session, so the course
    keeps its length): the preferred time on the next day with a free time, on the last
    session's chair where it can."""
    now = now or utcnow()
    with write_transaction() as session:
        course = _live_course(session, course_public_id)
        if course.status == COURSE_PAUSED:
            raise CourseNotActive("This course is paused: resume it to add sessions.")
        template = course.template
        kept = [s for s in course.sessions if s.status != SESSION_CANCELLED]
        zone = clinic_zone()
        last_day = max([s.starts_at.astimezone(zone).date() for s in kept] + [clinic_today(now) - timedelta(days=1)])
        last_chair = max(kept, key=lambda s: s.starts_at).chair_id if kept else None
        chairs = _chairs(None)
        if last_chair in chairs:
            chairs.remove(last_chair)
            chairs.insert(0, last_chair)
        number = max((s.number for s in course.sessions), default=0) + 1
        type_id, minutes = (
            (template.session_type_id, template.session_type.minutes)
            if kept
            else (template.first_type_id, template.first_type.minutes)
        )
        spec = SessionSpec(number, type_id, minutes, EVERY_DAY)
        book = _Book(chairs, last_day, reach([spec], last_day), now)
        try:
            placed = plan(
                [spec],
                last_day,
                course.preferred_time,
                chairs,
                book.windows,
                book.is_free,
                zone,
                busy_days=_patient_days(course.email, course.id),
                after=last_day,
            )[0]
        except NoTimeFound:
            raise NoFreeTime(number) from None
        item = _new_session(course, placed)
        session.add(item)
        session.flush()
        holds.hold(session, [item])
        _audit(session, actor, "course.add_session", course, f"session {number} at {_day(item.starts_at)}")
        notifications.course_changed(course, [item], [])
    return item


def move_session(
    course_public_id: str,
    number: int,
    starts_at: datetime,
    *,
    chair_id: int | None = None,
    later_too: bool = False,
    actor: StaffUser | None = None,
    now: datetime | None = None,
    page_token: str | None = None,
) -> list[CourseSession]:
    """Move one planned session to `starts_at` (same length) on `chair_id`, or on its own chair
    if free there, else the first free chair. With `later_too` every later planned session
    takes the new time of day on its own day (the nearest free time, or the next free day,
    where it cannot). All in one change; returns the sessions moved. The update email carries
    the course page link when the caller knows its token (`page_token`: a move from that page).

    Raises TimeNotOpen (closed or past), InvalidCourseInput (another session that day),
    ChairNotFound, and ChairTaken when the chair is held at that time."""
    now = now or utcnow()
    zone = clinic_zone()
    starts_at = (starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=zone)).astimezone(UTC)
    with write_transaction() as session:
        course = _live_course(session, course_public_id)
        item = _session_of(course, number)
        if item.status != SESSION_PLANNED or item.starts_at <= now:
            raise SessionNotChangeable("Only a planned session still to come can be moved.")
        later = sorted(
            (s for s in course.sessions if later_too and s.status == SESSION_PLANNED and s.starts_at > item.starts_at),
            key=lambda s: s.starts_at,
        )
        moving = [item, *later]
        chairs = _chairs(chair_id)
        if chair_id is None and item.chair_id in chairs:
            chairs.remove(item.chair_id)
            chairs.insert(0, item.chair_id)
        new_day = starts_at.astimezone(zone).date()
        days = [new_day] + [s.starts_at.astimezone(zone).date() for s in moving]
        last = max(days)
        book = _Book(
            chairs,
            min(days),
            reach([SessionSpec(0, 0, 1, EVERY_DAY)] * (len(later) + 1), last),
            now,
            [s.id for s in moving],
        )
        length = item.ends_at - item.starts_at
        ends_at = starts_at + length
        if not book.is_open(starts_at, ends_at):
            raise TimeNotOpen()
        taken_days = {
            s.starts_at.astimezone(zone).date()
            for s in course.sessions
            if s.status != SESSION_CANCELLED and s not in moving
        }
        taken_days |= _patient_days(course.email, course.id)
        if new_day in taken_days:
            raise InvalidCourseInput("The patient already has a session that day.", field="start")
        free_chair = next((c for c in chairs if book.is_free(c, starts_at, ends_at)), None)
        if free_chair is None:
            raise ChairTaken(chairs[0], starts_at, ends_at)
        holds.release(session, moving)
        item.starts_at, item.ends_at, item.chair_id = starts_at, ends_at, free_chair
        session.flush()
        holds.hold(session, [item])
        taken_days.add(new_day)
        placed_days = [new_day]
        new_time = starts_at.astimezone(zone).time()
        for other in later:
            _replace_at(session, other, new_time, book, taken_days, chairs, zone)
            placed_days.append(other.starts_at.astimezone(zone).date())
        _touch(moving)
        detail = f"session {number} to {_day(starts_at)}" + (f" and {len(later)} later sessions" if later else "")
        _audit(session, actor, "course.move", course, detail)
        notifications.course_changed(course, moving, [], page_token)
    return moving


def _replace_at(
    session: Session, item: CourseSession, at: time, book: _Book, taken_days: set[date], chairs: Sequence[int], zone
) -> None:
    """Put a later session at the new time of day on its own day, or the next free day."""
    day = item.starts_at.astimezone(zone).date()
    minutes = int((item.ends_at - item.starts_at).total_seconds() // 60)
    order = [item.chair_id, *[c for c in chairs if c != item.chair_id]] if item.chair_id in chairs else list(chairs)
    spec = SessionSpec(item.number, item.type_id, minutes, EVERY_DAY)
    found = None
    if day not in taken_days:
        found = best_time(day, minutes, at, order, book.windows, book.is_free, zone)
    if found is None:
        try:
            placed = plan([spec], day, at, order, book.windows, book.is_free, zone, busy_days=taken_days, after=day)[0]
        except NoTimeFound:
            raise NoFreeTime(item.number) from None
        found = (placed.chair_id, placed.starts_at, placed.ends_at)
    item.chair_id, item.starts_at, item.ends_at = found
    session.flush()
    holds.hold(session, [item])
    book.held.setdefault(item.chair_id, set()).update(holds.cells(item.starts_at, item.ends_at))
    taken_days.add(item.starts_at.astimezone(zone).date())


def pause_course(
    course_public_id: str, *, actor: StaffUser | None = None, now: datetime | None = None
) -> list[CourseSession]:
    """Pause a course: its sessions still to come are cancelled and their chairs freed;
    `resume_course` plans as many again. Returns the sessions cancelled."""
    now = now or utcnow()
    with write_transaction() as session:
        course = _live_course(session, course_public_id)
        if course.status == COURSE_PAUSED:
            raise CourseNotActive("This course is already paused.")
        cancelled = _cancel_future(session, course, now)
        course.status = COURSE_PAUSED
        _audit(session, actor, "course.pause", course, f"{len(cancelled)} sessions cancelled")
        notifications.course_changed(course, [], cancelled)
    return cancelled


def resume_course(
    course_public_id: str,
    start: date,
    preferred_time: time | None = None,
    *,
    chair_id: int | None = None,
    actor: StaffUser | None = None,
    now: datetime | None = None,
) -> list[CourseSession]:
    """Resume a paused course from `start`: the sessions the pause cancelled are planned
    afresh with the template's cadence (at `preferred_time`, or the course's own). Returns
    the new sessions."""
    now = now or utcnow()
    if start < clinic_today(now):
        raise InvalidCourseInput("The first day has passed: choose today or later.", field="start")
    with write_transaction() as session:
        course = _live_course(session, course_public_id)
        if course.status != COURSE_PAUSED:
            raise CourseNotActive("Only a paused course can be resumed.")
        kept = [s for s in course.sessions if s.status != SESSION_CANCELLED]
        top = max((s.number for s in kept), default=0)
        count = sum(1 for s in course.sessions if s.status == SESSION_CANCELLED and s.number > top)
        specs = _specs(course.template)
        next_number = max((s.number for s in course.sessions), default=0) + 1
        wanted = []
        for i in range(count):
            base = specs[min(len(kept) + i, len(specs) - 1)]
            wanted.append(replace(base, number=next_number + i, new_phase=base.new_phase and i > 0))
        if preferred_time is not None:
            course.preferred_time = preferred_time
        chairs = _chairs(chair_id)
        created: list[CourseSession] = []
        if wanted:
            book = _Book(chairs, start, reach(wanted, start), now)
            try:
                placed = plan(
                    wanted,
                    start,
                    course.preferred_time,
                    chairs,
                    book.windows,
                    book.is_free,
                    clinic_zone(),
                    busy_days=_patient_days(course.email, course.id),
                )
            except NoTimeFound as error:
                raise NoFreeTime(error.number) from None
            created = [_new_session(course, p) for p in placed]
            session.add_all(created)
            session.flush()
            holds.hold(session, created)
        course.status = COURSE_PLANNED
        _audit(session, actor, "course.resume", course, f"{len(created)} sessions from {start.isoformat()}")
        notifications.course_changed(course, created, [])
    return created


def end_course(
    course_public_id: str, reason: str, *, actor: StaffUser | None = None, now: datetime | None = None
) -> list[CourseSession]:
    """End a course early with a reason: its sessions still to come are cancelled and their
    chairs freed. Returns the sessions cancelled."""
    now = now or utcnow()
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidCourseInput("Say why the course ends early.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidCourseInput(f"Use at most {REASON_MAX} characters.", field="reason")
    with write_transaction() as session:
        course = _live_course(session, course_public_id)
        cancelled = _cancel_future(session, course, now)
        course.status, course.end_reason, course.ended_at = COURSE_ENDED, reason, now
        _audit(session, actor, "course.end", course, f"{len(cancelled)} sessions cancelled")
        notifications.course_changed(course, [], cancelled)
    return cancelled


# --- reading a course -----------------------------------------------------------------------


def find_course(course_public_id: str) -> Course | None:
    """The course with its template and sessions loaded (for pages and the API)."""
    return db.session.execute(
        select(Course)
        .where(Course.public_id == course_public_id)
        .options(
            selectinload(Course.sessions).selectinload(CourseSession.chair),
            selectinload(Course.sessions).selectinload(CourseSession.type),
            selectinload(Course.template),
        )
    ).scalar_one_or_none()


def ordinals(course: Course) -> dict[int, int]:
    """Each session's place ("session n") among the sessions not cancelled, in time order,
    by session number; the course's N is the length of this mapping."""
    kept = sorted((s for s in course.sessions if s.status != SESSION_CANCELLED), key=lambda s: s.starts_at)
    return {s.number: i for i, s in enumerate(kept, start=1)}


def is_past_authorisation(course: Course, item: CourseSession) -> bool:
    """Whether a session of the course falls past its authorised count or date."""
    return _past(
        ordinals(course).get(item.number, item.number),
        item.starts_at.astimezone(clinic_zone()).date(),
        self_pay=course.self_pay,
        authorised_sessions=course.authorised_sessions,
        authorised_until=course.authorised_until,
    )
