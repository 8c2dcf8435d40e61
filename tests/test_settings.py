"""Settings: one frozen dataclass read from the environment, each value as its type."""

from __future__ import annotations

import dataclasses

import pytest

from app.core.config import Settings, load_config


def test_values_are_read_as_their_type_and_empty_counts_as_unset():
    settings = Settings.from_environ(
        {
            "BOOKING_HORIZON_DAYS": "30",
            "MAIL_USE_TLS": "yes",
            "CLINIC_NAME": "Clinic",
            "MAIL_PORT": "  ",
            "IMAP_SSL": "0",
        }
    )
    assert settings.BOOKING_HORIZON_DAYS == 30
    assert settings.MAIL_USE_TLS is True and settings.IMAP_SSL is False
    assert settings.CLINIC_NAME == "Clinic"
    assert settings.MAIL_PORT == Settings.MAIL_PORT == 25


def test_settings_cannot_change_once_built():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings.from_environ({}).BOOKING_HORIZON_DAYS = 1  # type: ignore[misc]


def test_a_number_that_is_not_one_is_refused_at_start():
    with pytest.raises(ValueError):
        Settings.from_environ({"BOOKING_HORIZON_DAYS": "sixty"})


def test_the_app_config_holds_every_setting_typed():
    config = load_config({"SECRET_KEY": "x" * 40, "REMINDER_HOURS_BEFORE": "6"})
    assert config["REMINDER_HOURS_BEFORE"] == 6
    for field in dataclasses.fields(Settings):
        if field.name not in ("DATABASE_URL", "STAFF_IDLE_MINUTES"):
            assert isinstance(config[field.name], type(field.default)), field.name
