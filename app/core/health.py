"""Health check for load balancers and monitoring: the database, how far mail is behind, and
the blockers the configuration was started with (app.core.deploy_check)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select

from app.core.database import is_unavailable
from app.core.deploy_check import found_at_start
from app.core.extensions import db
from app.models import OutboxMessage, utcnow
from app.models.mail import OUTBOX_FAILED, OUTBOX_PENDING

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    now = utcnow()
    try:
        backlog, oldest = db.session.execute(
            select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.status == OUTBOX_PENDING, OutboxMessage.next_attempt_at <= now
            )
        ).one()
        failed = db.session.execute(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OUTBOX_FAILED)
        ).scalar_one()
        db.session.commit()
    except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
        db.session.rollback()
        if not is_unavailable(error):
            raise
        return jsonify(status="unavailable", database="unreachable"), 503
    oldest_age = round((now - oldest).total_seconds()) if oldest else 0
    outbox = {"due": backlog, "oldest_due_seconds": oldest_age, "failed": failed}
    blockers = [problem.as_dict() for problem in found_at_start() if problem.blocker]
    if blockers:
        return jsonify(status="misconfigured", database="ok", outbox=outbox, blockers=blockers), 503
    return jsonify(status="ok", database="ok", outbox=outbox)
