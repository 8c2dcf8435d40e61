"""The audit log, for admins to read. There is no way to change it from here (or anywhere)."""

from __future__ import annotations

from flask import render_template, request

from app.core import audit
from app.staff.auth import admin_required
from app.staff.views import bp


@bp.get("/audit")
@admin_required
def audit_log():
    page = max(1, request.args.get("page", 1, type=int) or 1)
    action = request.args.get("action") or None
    if action not in audit.ACTION_LABELS:
        action = None
    result = audit.entries(page=page, action=action)
    return render_template("staff/audit.html", result=result, action=action, labels=audit.ACTION_LABELS)
