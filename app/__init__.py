"""The Mindset TMS web service: create_app wires settings, extensions, blueprints and commands."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.config import INSTANCE_DIR, load_config


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
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_security(app)
    return app


def register_logging(app: Flask) -> None:
    from app import logs

    logs.register(app)


def register_extensions(app: Flask) -> None:
    from app import database
    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(INSTANCE_DIR.parent / "migrations"))
    limiter.init_app(app)  # before CSRF, so abusive clients are counted and turned away first
    csrf.init_app(app)
    login_manager.init_app(app)
    database.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.staff.views import bp as staff_bp
    from app.views import api, booking, calendar, dev_mail, health, manage, public

    app.register_blueprint(public.bp)
    app.register_blueprint(booking.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(health.bp)
    if app.config.get("DEV_MAIL_VIEWER"):
        app.register_blueprint(dev_mail.bp)


def register_errorhandlers(app: Flask) -> None:
    from app.views import errors

    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    from app import assets, timefmt
    from app.views import template_context

    timefmt.register(app)
    assets.register(app)
    template_context.register(app)


def register_commands(app: Flask) -> None:
    from app import cli

    cli.register(app)


def register_security(app: Flask) -> None:
    from app import security

    security.register(app)
