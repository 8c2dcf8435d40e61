"""The patient's private course page (/course/<token>, Spanish at /es/course/<token>): every
visit, the next ones with where and when, what to bring and the clinic's phone, the whole
course as one calendar file. GET only shows; like manage links, the token is kept hashed,
an unknown one is a 404, and the answer is never cached or sent on in a Referer."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.booking.forms import ConfirmForm
from app.core.extensions import csrf
from app.core.i18n import show_in_language_of
from app.core.ratelimits import manage_limit, token_lookup_limit
from app.core.timefmt import parse_day, to_local
from app.courses import patient
from app.courses.notifications import course_page_url, session_entries
from app.invites import course_ics
from app.invites.views import calendar_response
from app.models import Course, CourseSession, utcnow

bp = Blueprint("course", __name__, url_prefix="/course")
# The move is a FlaskForm that validates its own CSRF token (after the rate limit).
csrf.exempt(bp)


def _course_or_404(token: str) -> Course:
    """The token's course, shown at the address of the course's language unless the visitor
    chose this language themselves (the rule of the manage page)."""
    course = patient.find_by_token(token)
    if course is None:
        abort(404)
    show_in_language_of(course.locale)
    return course


@bp.get("/<token>")
@token_lookup_limit
def show(token: str):
    course = _course_or_404(token)
    now = utcnow()
    return render_template(
        "courses/page.html", token=token, view=patient.overview(course, now), now=now, move_enabled=True
    )


@bp.get("/<token>/appointments.ics")
@token_lookup_limit
def calendar(token: str):
    """Every visit as one file for any calendar app (the same UIDs as the emails)."""
    course = patient.find_by_token(token)
    if course is None:
        abort(404)
    view = patient.overview(course, utcnow())
    text = course_ics.course_download(
        session_entries(course, view.visits), utcnow(), course_page_url(token, course.locale)
    )
    return calendar_response(text, "appointments.ics")


def _parse_start(raw: str | None) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    return value.astimezone(UTC) if value.tzinfo else None


def _visit_or_404(course: Course, number: int) -> CourseSession:
    item = patient.visit_by_number(course, number)
    if item is None:
        abort(404)
    return item


@bp.route("/<token>/move/<int:number>", methods=["GET", "POST"])
@token_lookup_limit
@manage_limit
def choose_time(token: str, number: int):
    """Ask to move one visit: the days it may go to, the chosen day's free times (each a
    button of one form), then the move; a refusal is shown on the same page."""
    course = _course_or_404(token)
    now = utcnow()
    item = _visit_or_404(course, number)
    if not patient.can_move(course, item, now):
        return redirect(url_for("course.show", token=token))
    days = patient.move_days(now)
    try:
        day = parse_day(request.values.get("day") or "")
    except ValueError:
        day = None
    if day not in days:
        day = next((d for d in days if patient.free_times(course, item, d, now)), days[0])
    form = ConfirmForm()
    problem, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        starts_at = _parse_start(request.form.get("start"))
        if starts_at is None:
            problem, status = _("Please choose one of the times shown."), 422
        else:
            try:
                patient.ask_to_move(token, number, starts_at, now)
            except patient.MoveRefused as refused:
                problem, status = refused.message, refused.status
                day = to_local(starts_at).date() if to_local(starts_at).date() in days else day
            else:
                return redirect(url_for("course.show", token=token, done="moved"), code=303)
        course = _course_or_404(token)
        item = _visit_or_404(course, number)
    times = patient.free_times(course, item, day, now)
    return render_template(
        "courses/move.html",
        token=token,
        course=course,
        visit=item,
        days=days,
        day=day,
        times=times,
        form=form,
        problem=problem,
    ), status
