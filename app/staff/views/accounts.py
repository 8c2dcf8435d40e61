"""Staff accounts, for admins: add, disable or enable, change role, set a new password; and
personal API tokens, which admins revoke for anyone and staff for themselves."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from app.models.staff import ROLE_LABELS, ROLES
from app.staff import accounts as account_service
from app.staff import api_tokens
from app.staff.auth import admin_required
from app.staff.forms import AccountForm
from app.staff.views import bp, flash_done, flash_error


@bp.route("/accounts", methods=["GET", "POST"])
@admin_required
def accounts():
    form = AccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = account_service.create_account(
                form.email.data, form.name.data, form.role.data, form.password.data, actor=current_user
            )
        except account_service.AccountError as error:
            flash_error(error.message)
            status = 422
        else:
            flash_done(f"Added {user.name} ({user.email}). Tell them their first password in person.")
            return redirect(url_for("staff.accounts"), code=303)
    elif request.method == "POST":
        status = 422
    form.password.data = ""
    users = account_service.list_accounts()
    return render_template(
        "staff/accounts.html",
        users=users,
        form=form,
        ROLES=ROLES,
        ROLE_LABELS=ROLE_LABELS,
        tokens=api_tokens.tokens(),
        owners={user.id: user for user in users},
    ), status


def _user_or_404(user_id: int):
    user = account_service.get(user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/accounts/<int:user_id>/active")
@admin_required
def account_active(user_id: int):
    user = _user_or_404(user_id)
    active = request.form.get("active") == "1"
    try:
        account_service.set_active(user.id, active, actor=current_user)
    except account_service.AccountError as error:
        flash_error(error.message)
    else:
        flash_done(
            f"{user.name} can sign in again."
            if active
            else f"{user.name} is disabled, signed out everywhere, and their API tokens revoked."
        )
    return redirect(url_for("staff.accounts"), code=303)


@bp.post("/accounts/<int:user_id>/role")
@admin_required
def account_role(user_id: int):
    user = _user_or_404(user_id)
    try:
        account_service.set_role(user.id, request.form.get("role", ""), actor=current_user)
    except account_service.AccountError as error:
        flash_error(error.message)
    else:
        flash_done(f"{user.name} is now: {ROLE_LABELS[user.role]}.")
    return redirect(url_for("staff.accounts"), code=303)


@bp.post("/accounts/<int:user_id>/password")
@admin_required
def account_password(user_id: int):
    user = _user_or_404(user_id)
    try:
        account_service.set_password(user.id, request.form.get("password", ""), actor=current_user)
    except account_service.AccountError as error:
        flash_error(error.message)
    else:
        flash_done(
            f"Set a new password for {user.name} and signed them out everywhere. Tell them the new password in person."
        )
    return redirect(url_for("staff.accounts"), code=303)


@bp.post("/api-tokens/<int:token_id>/revoke")
def revoke_api_token(token_id: int):
    """Revoke a token: an admin anyone's (from the accounts page), staff their own (from
    their account page); the service decides who may."""
    try:
        record = api_tokens.revoke(token_id, actor=current_user._get_current_object())
    except api_tokens.TokenNotFound:
        abort(404)
    except api_tokens.TokenError as error:
        abort(403, error.message)
    flash_done(f"Revoked the API token {record.prefix}…: it no longer works.")
    back = (
        "staff.accounts"
        if request.form.get("back") == "accounts" and current_user.is_admin
        else "staff.change_password"
    )
    return redirect(url_for(back), code=303)
