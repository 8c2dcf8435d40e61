"""Treatment courses for the front desk: plan one (from a consultation or for a caller), see
the proposal, confirm it, and run the course (attendance, a session at the end, moves,
pause and resume, ending early)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from app.booking import service as booking_service
from app.core.errors import DomainError
from app.core.timefmt import clinic_zone
from app.courses import queries
from app.courses import service as courses
from app.courses.errors import InvalidCourseInput, PlanClash, TimeNotOpen
from app.courses.forms import (
    ConfirmPlanForm,
    EndCourseForm,
    MoveSessionForm,
    PlanCourseForm,
    ResumeForm,
    validated,
)
from app.courses.templates import templates
from app.models.schedule import SESSION_ATTENDED, SESSION_MISSED, SESSION_PLANNED
from app.schedule import resources
from app.schedule.clinic_time import clinic_today, instant, parse_time
from app.staff.views import bp, flash_done, flash_error


def _choices(form) -> None:
    form.template.choices = [(t.id, f"{t.name} ({t.session_count} sessions)") for t in templates(active_only=True)]
    form.chair.choices = [(0, "Any free chair")] + [(c.id, c.name) for c in resources.chairs(active_only=True)]


def _next_weekday(after: date) -> date:
    day = after + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _plan_request(form) -> courses.PlanRequest:
    self_pay = form.payment.data == "self_pay"
    return courses.PlanRequest(
        template_id=form.template.data,
        start=form.start.data,
        preferred_time=form.at.data,
        chair_id=form.chair.data or None,
        self_pay=self_pay,
        authorised_sessions=None if self_pay else form.authorised_sessions.data,
        authorised_until=None if self_pay else form.authorised_until.data,
    )


def _patient(form) -> courses.PatientDetails:
    return courses.PatientDetails(
        form.name.data or "", form.email.data or None, form.phone.data or "", form.locale.data or "en"
    )


def _booking_id(form) -> int | None:
    if not form.booking.data:
        return None
    booking = booking_service.find_by_public_id(form.booking.data)
    return booking.id if booking is not None else None


def _at_field(form, error: DomainError) -> bool:
    """Show a service error at its field of `form`; False when it names none of them."""
    field = {"chair_id": "chair", "preferred_time": "at"}.get(error.field or "", error.field or "")
    if field and field in form:
        form[field].errors = [*form[field].errors, error.message]
        return True
    return False


def _plan_page(form, status: int = 200):
    return render_template("staff/course_plan.html", form=form), status


@bp.get("/courses")
def courses_list():
    return render_template("staff/courses.html", courses=queries.courses_in_progress(), ordinals=courses.ordinals)


@bp.get("/courses/new")
def plan_course():
    """The plan form, filled in from a consultation (?booking=<public id>) when there is one."""
    form = PlanCourseForm(formdata=None)
    _choices(form)
    form.start.data = _next_weekday(clinic_today())
    public_id = request.args.get("booking", "")
    if public_id:
        booking = booking_service.find_by_public_id(public_id)
        if booking is None:
            abort(404)
        form.booking.data = booking.public_id
        # The course begins after the consultation it comes from.
        form.start.data = _next_weekday(max(clinic_today(), booking.slot.starts_at.astimezone(clinic_zone()).date()))
        form.name.data, form.email.data, form.phone.data = booking.name, booking.email, booking.phone
        form.locale.data = booking.locale if booking.locale in ("en", "es") else "en"
    return _plan_page(form)


@bp.post("/courses/propose")
def propose_course():
    form = PlanCourseForm()
    _choices(form)
    if not form.validate_on_submit():
        return _plan_page(form, 422)
    try:
        proposal = courses.propose_plan(_plan_request(form), email=form.email.data or None)
    except DomainError as error:
        if not _at_field(form, error):
            flash_error(error.message)
        return _plan_page(form, 422)
    return _proposal_page(form, proposal.sessions, proposal.template_name)


def _proposal_page(form, sessions, template_name: str, problem: str | None = None, status: int = 200):
    confirm = ConfirmPlanForm(
        formdata=None, data={name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    )
    confirm.plan.data = " ".join(f"{s.number},{s.chair_id},{s.starts_at.strftime('%Y%m%dT%H%M')}" for s in sessions)
    chair_names = {c.id: c.name for c in resources.chairs()}
    return render_template(
        "staff/course_proposal.html",
        form=confirm,
        sessions=sessions,
        problem=problem,
        template_name=template_name,
        chair_names=chair_names,
        hhmm=lambda at: at.astimezone(clinic_zone()).strftime("%H:%M"),
        moved=sum(1 for s in sessions if s.moved),
        past=sum(1 for s in sessions if s.past_authorisation),
    ), status


def _times(plan: str) -> list[tuple[int, int, datetime]]:
    times = []
    for part in (plan or "").split():
        number, chair, starts = part.split(",")
        times.append((int(number), int(chair), datetime.strptime(starts, "%Y%m%dT%H%M").replace(tzinfo=UTC)))
    return times


def _picked(times: list[tuple[int, int, datetime]]) -> list[tuple[int, int, datetime]]:
    """The proposal with the times staff picked instead (`time-<n>` fields, same day)."""
    picked = []
    for number, chair, starts_at in times:
        chosen = parse_time(request.form.get(f"time-{number}"))
        local = starts_at.astimezone(clinic_zone())
        if chosen is not None and chosen != local.time():
            starts_at = instant(local.date(), chosen) or starts_at
        picked.append((number, chair, starts_at))
    return picked


def _template_name(form, template_id: int) -> str:
    name = next((label for value, label in form.template.choices if value == template_id), "")
    return name.split(" (")[0]


@bp.post("/courses/confirm")
def confirm_course():
    """Hold the proposal as shown (with any times picked instead); a clash or a picked time
    that does not fit shows the proposal again with the reason."""
    form = ConfirmPlanForm()
    _choices(form)
    if not form.validate_on_submit():
        return _plan_page(form, 422)
    plan_request = _plan_request(form)
    try:
        shown = _times(form.plan.data)
        sessions = courses.proposal_from(plan_request.template_id, _picked(shown), plan_request.preferred_time)
    except (ValueError, DomainError):
        flash_error("The plan could not be read: here it is again, proposed afresh.")
        return propose_course()
    try:
        course = courses.plan_course(
            _patient(form), plan_request, sessions, booking_id=_booking_id(form), actor=current_user
        )
    except PlanClash as clash:
        return _proposal_page(form, clash.proposals, _template_name(form, plan_request.template_id), clash.message, 409)
    except (TimeNotOpen, InvalidCourseInput) as error:
        if error.field not in ("start", None):
            if not _at_field(form, error):
                flash_error(error.message)
            return _plan_page(form, 422)
        original = courses.proposal_from(plan_request.template_id, shown, plan_request.preferred_time)
        return _proposal_page(
            form, original, _template_name(form, plan_request.template_id), f"{error.message} Nothing was booked.", 422
        )
    except DomainError as error:
        if not _at_field(form, error):
            flash_error(error.message)
        return _plan_page(form, 422)
    flash_done(f"Planned {len(sessions)} sessions for {course.name}.")
    return redirect(url_for("staff.course_detail", course_id=course.public_id), code=303)


def _course_or_404(course_id: str):
    course = courses.find_course(course_id)
    if course is None:
        abort(404)
    return course


def _course_page(course, end_form=None, resume_form=None, status: int = 200):
    if resume_form is None:
        resume_form = ResumeForm(
            formdata=None, data={"start": _next_weekday(clinic_today()), "at": course.preferred_time}
        )
    chair_names = {c.id: c.name for c in resources.chairs()}
    return render_template(
        "staff/course_detail.html",
        course=course,
        ordinals=courses.ordinals(course),
        past_authorisation=courses.is_past_authorisation,
        chair_names=chair_names,
        today=clinic_today(),
        end_form=end_form or EndCourseForm(formdata=None),
        resume_form=resume_form,
        has_missed=any(s.status == SESSION_MISSED for s in course.sessions),
        zone=clinic_zone(),
        PLANNED=SESSION_PLANNED,
        booking=queries.consultation_of(course),
    ), status


@bp.get("/courses/<course_id>")
def course_detail(course_id: str):
    return _course_page(_course_or_404(course_id))


def _after_change(course_id: str, call, done: str):
    """Run one service change; its refusal is shown on the course page."""
    try:
        call()
    except DomainError as error:
        flash_error(error.message)
    else:
        flash_done(done)
    return redirect(url_for("staff.course_detail", course_id=course_id), code=303)


@bp.post("/courses/<course_id>/sessions/<int:number>/attendance")
def course_attendance(course_id: str, number: int):
    status = request.form.get("status", "")
    label = {SESSION_ATTENDED: "attended", SESSION_MISSED: "missed"}.get(status, status)
    return _after_change(
        course_id,
        lambda: courses.record_attendance(course_id, number, status, actor=current_user),
        f"Session marked {label}.",
    )


@bp.post("/courses/<course_id>/add-session")
def course_add_session(course_id: str):
    def add():
        added = courses.add_session_at_end(course_id, actor=current_user)
        flash_done(f"Added a session at the end: {_local(added.starts_at):%a %d %b, %H:%M}.")

    try:
        add()
    except DomainError as error:
        flash_error(error.message)
    return redirect(url_for("staff.course_detail", course_id=course_id), code=303)


def _local(at: datetime) -> datetime:
    return at.astimezone(clinic_zone())


@bp.route("/courses/<course_id>/sessions/<int:number>/move", methods=["GET", "POST"])
def course_move_session(course_id: str, number: int):
    course = _course_or_404(course_id)
    item = next((s for s in course.sessions if s.number == number), None)
    if item is None:
        abort(404)
    form = MoveSessionForm()
    form.chair.choices = [(0, "Its own chair, or any free one")] + [
        (c.id, c.name) for c in resources.chairs(active_only=True)
    ]
    status = 200
    if request.method == "GET":
        local = _local(item.starts_at)
        form.on_date.data, form.at.data = local.date(), local.time()
    elif form.validate_on_submit():
        starts_at = instant(validated(form.on_date.data), validated(form.at.data))
        if starts_at is None:
            form.at.errors = ["That time does not exist on that day (the clocks go forward)."]
        else:
            try:
                moved = courses.move_session(
                    course_id,
                    number,
                    starts_at,
                    chair_id=form.chair.data or None,
                    later_too=form.later_too.data,
                    actor=current_user,
                )
            except DomainError as error:
                target = form.at if error.field == "start" else None
                if target is not None:
                    target.errors = [error.message]
                else:
                    form.on_date.errors = [error.message]
            else:
                flash_done(f"Moved {len(moved)} session{'s' if len(moved) != 1 else ''}.")
                return redirect(url_for("staff.course_detail", course_id=course_id), code=303)
        status = 422
    else:
        status = 422
    ordinal = courses.ordinals(course).get(number, number)
    return render_template(
        "staff/course_move.html",
        course=course,
        item=item,
        form=form,
        ordinal=ordinal,
        total=len(courses.ordinals(course)),
    ), status


@bp.post("/courses/<course_id>/pause")
def course_pause(course_id: str):
    return _after_change(
        course_id,
        lambda: courses.pause_course(course_id, actor=current_user),
        "Course paused: the sessions to come are cancelled and their chairs free.",
    )


@bp.post("/courses/<course_id>/resume")
def course_resume(course_id: str):
    course = _course_or_404(course_id)
    form = ResumeForm()
    if not form.validate_on_submit():
        return _course_page(course, resume_form=form, status=422)
    try:
        created = courses.resume_course(course_id, validated(form.start.data), form.at.data, actor=current_user)
    except DomainError as error:
        form.start.errors = [error.message]
        return _course_page(_course_or_404(course_id), resume_form=form, status=422)
    flash_done(f"Course resumed: {len(created)} sessions planned.")
    return redirect(url_for("staff.course_detail", course_id=course_id), code=303)


@bp.post("/courses/<course_id>/end")
def course_end(course_id: str):
    course = _course_or_404(course_id)
    form = EndCourseForm()
    if not form.validate_on_submit():
        return _course_page(course, end_form=form, status=422)
    try:
        cancelled = courses.end_course(course_id, validated(form.reason.data), actor=current_user)
    except DomainError as error:
        form.reason.errors = [error.message]
        return _course_page(_course_or_404(course_id), end_form=form, status=422)
    flash_done(f"Course ended; {len(cancelled)} sessions to come cancelled.")
    return redirect(url_for("staff.course_detail", course_id=course_id), code=303)
