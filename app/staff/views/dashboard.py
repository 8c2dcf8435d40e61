"""The staff home page."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.core.deploy_check import found_at_start
from app.courses import queries as course_queries
from app.schedule.clinic_time import clinic_today, parse_date, week_start
from app.staff import dashboard as figures
from app.staff import sessions, waitlist_admin
from app.staff.views import bp


@bp.get("/")
def dashboard():
    now = sessions.now()
    return render_template(
        "staff/dashboard.html",
        board=figures.summary(current_user, now=now),
        chair_use=course_queries.chair_use(week_start(clinic_today(now))),
        courses_in_progress=course_queries.count_in_progress(),
        waitlist=waitlist_admin.figures(),
        setup_problems=found_at_start() if current_user.is_admin else [],
    )


@bp.get("")
def root():
    return redirect(url_for("staff.dashboard"))


@bp.get("/day")
def day_sheet():
    """A day's consultations as a printable list (today unless ?day=YYYY-MM-DD)."""
    now = sessions.now()
    on = parse_date(request.args.get("day")) or clinic_today(now)
    return render_template(
        "staff/day_sheet.html",
        on=on,
        bookings=figures.day_sheet(on, current_user),
        chairs=course_queries.day_sheet(on),
        printed_at=now,
        previous=on - timedelta(days=1),
        following=on + timedelta(days=1),
    )
