"""Values every template (and every macro) can use: the clinic's settings and labels."""

from __future__ import annotations

from flask import Flask

from app.models.booking import INTEREST_LABELS, MODE_LABELS


def register(app: Flask) -> None:
    config = app.config
    app.jinja_env.globals.update(
        clinic={
            "name": config["CLINIC_NAME"],
            "street": config["CLINIC_STREET"],
            "city": config["CLINIC_CITY"],
            "region": config["CLINIC_REGION"],
            "postcode": config["CLINIC_POSTCODE"],
            "phone": config["CLINIC_PHONE"],
            "email": config["CLINIC_EMAIL"],
            "hours": config["CLINIC_HOURS"],
            "timezone": config["CLINIC_TIMEZONE"],
        },
        MODE_LABELS=MODE_LABELS,
        INTEREST_LABELS=INTEREST_LABELS,
    )
