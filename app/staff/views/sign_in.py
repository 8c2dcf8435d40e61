"""Signing in and out, and one's own account: the password, and one's API tokens."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.extensions import limiter
from app.staff import accounts, api_tokens, auth
from app.staff.forms import ChangePasswordForm, SignInForm
from app.staff.views import bp, flash_done, flash_error


def _sign_in_limit() -> str:
    return current_app.config["STAFF_SIGN_IN_RATE_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("staff.dashboard"))
        form.next.data = auth.safe_next(request.args.get("next")) or ""
    problem = None
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr or "")
        except accounts.SignInRefused as refused:
            problem = refused.message
            status = 429 if refused.locked else 401
        else:
            auth.start_session(user)
            return redirect(auth.safe_next(form.next.data) or url_for("staff.dashboard"), code=303)
    elif request.method == "POST":
        status = 422
    form.password.data = ""
    return render_template("staff/sign_in.html", form=form, problem=problem), status


@bp.post("/sign-out")
def sign_out():
    auth.end_session()
    flash_done("You are signed out.")
    return redirect(url_for("staff.sign_in"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if form.new.data != form.confirm.data:
            flash_error("The two new passwords are not the same. Please type them again.")
        else:
            try:
                user = accounts.change_own_password(
                    current_user._get_current_object(), form.current.data, form.new.data
                )
            except accounts.AccountError as error:
                flash_error(error.message)
            else:
                # Every session of the account has ended; a new one keeps this device signed in.
                auth.start_session(user)
                flash_done("Your password is changed. Other devices have been signed out.")
                return redirect(url_for("staff.dashboard"), code=303)
    return render_template("staff/change_password.html", form=form, tokens=api_tokens.tokens(current_user.id))
