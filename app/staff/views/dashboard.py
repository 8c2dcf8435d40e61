"""The staff home page."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.core.deploy_check import found_at_start
from app.staff import dashboard as figures
from app.staff import sessions, waitlist_admin
from app.staff.views import bp


@bp.get("/")
def dashboard():
    return render_template("staff/dashboard.html", board=figures.summary(current_user, now=sessions.now()),
                           waitlist=waitlist_admin.figures(),
                           setup_problems=found_at_start() if current_user.is_admin else [])


@bp.get("")
def root():
    return redirect(url_for("staff.dashboard"))
