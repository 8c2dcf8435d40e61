"""The Mindset TMS web service: create_app wires settings, extensions, blueprints and commands."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.core.config import INSTANCE_DIR, load_config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    register_logging(app)
    register_deploy_check(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_security(app)
    return app


def register_logging(app: Flask) -> None:
    from app.core import logs

    logs.register(app)


def register_deploy_check(app: Flask) -> None:
    from app.core import deploy_check

    deploy_check.register(app)


def register_extensions(app: Flask) -> None:
    from app.core import database, i18n
    from app.core.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(INSTANCE_DIR.parent / "migrations"))
    limiter.init_app(app)  # before CSRF, so abusive clients are counted and turned away first
    csrf.init_app(app)
    login_manager.init_app(app)
    database.init_app(app)
    i18n.register(app)


def register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.booking.views import book, manage
    from app.content import views as content
    from app.core import health
    from app.core.deploy_check import dev_mail_viewer_enabled
    from app.courses import views as courses
    from app.invites import views as invites
    from app.mail import dev_viewer
    from app.sms import views as sms
    from app.staff import views as staff
    from app.waitlist import views as waitlist_pages

    app.register_blueprint(content.bp)
    app.register_blueprint(book.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(courses.bp)
    app.register_blueprint(invites.bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(waitlist_pages.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(sms.bp)
    if dev_mail_viewer_enabled(app.config):
        app.register_blueprint(dev_viewer.bp)


def register_errorhandlers(app: Flask) -> None:
    from app.core import errors

    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    from app.booking.validation import display_phone
    from app.core import templating
    from app.invites.video import video_link
    from app.invites.views import links_for
    from app.schedule.opening_hours import current_summary
    from app.staff.bookings_admin import ATTENDANCE_LABELS, CALENDAR_REPLY_LABELS, STATUS_LABELS

    templating.register(
        app,
        hours=current_summary,
        filters={"display_phone": display_phone},
        helpers={
            "calendar_links_for": links_for,
            "video_link": video_link,
            "STATUS_LABELS": STATUS_LABELS,
            "ATTENDANCE_LABELS": ATTENDANCE_LABELS,
            "CALENDAR_REPLY_LABELS": CALENDAR_REPLY_LABELS,
        },
    )


def register_commands(app: Flask) -> None:
    from app.booking import cli as booking_cli
    from app.busy import cli as busy_cli
    from app.core import cli as core_cli
    from app.invites import cli as invites_cli
    from app.jobs import cli as jobs_cli
    from app.mail import cli as mail_cli
    from app.replies import cli as replies_cli
    from app.staff import cli as staff_cli

    for commands in (booking_cli, busy_cli, core_cli, invites_cli, jobs_cli, mail_cli, replies_cli, staff_cli):
        commands.register(app)


def register_security(app: Flask) -> None:
    from app.core import security

    security.register(app)
