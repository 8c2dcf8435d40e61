"""The patient's private course page (/course/<token>, Spanish at /es/course/<token>): every
visit, the next ones with where and when, what to bring and the clinic's phone, the whole
course as one calendar file. GET only shows; like manage links, the token is kept hashed,
an unknown one is a 404, and the answer is never cached or sent on in a Referer."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request

from app.core.i18n import COOKIE as LANGUAGE_COOKIE
from app.core.i18n import LANGUAGES, address_in, current_language
from app.core.ratelimits import token_lookup_limit
from app.courses import patient
from app.courses.notifications import course_page_url, session_entries
from app.invites import course_ics
from app.invites.views import calendar_response
from app.models import Course, utcnow

bp = Blueprint("course", __name__, url_prefix="/course")


def _course_or_404(token: str) -> Course:
    """The token's course, shown at the address of the course's language unless the visitor
    chose this language themselves (the rule of the manage page)."""
    course = patient.find_by_token(token)
    if course is None:
        abort(404)
    here = current_language()
    if (request.method == "GET" and course.locale != here and course.locale in LANGUAGES
            and request.cookies.get(LANGUAGE_COOKIE) != here):
        abort(redirect(address_in(course.locale), code=302))
    return course


@bp.get("/<token>")
@token_lookup_limit
def show(token: str):
    course = _course_or_404(token)
    now = utcnow()
    return render_template("courses/page.html", token=token, view=patient.overview(course, now), now=now)


@bp.get("/<token>/appointments.ics")
@token_lookup_limit
def calendar(token: str):
    """Every visit as one file for any calendar app (the same UIDs as the emails)."""
    course = patient.find_by_token(token)
    if course is None:
        abort(404)
    view = patient.overview(course, utcnow())
    text = course_ics.course_download(session_entries(course, view.visits), utcnow(),
                                      course_page_url(token, course.locale))
    return calendar_response(text, "appointments.ics")
