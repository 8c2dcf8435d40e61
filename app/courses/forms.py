"""Staff forms for courses and the schedule's resources: what is typed is kept, and each
problem is shown at its field (the service's own checks come back at their field too)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time
from typing import TypeVar

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.booking import validation
from app.models.schedule import CELL_MINUTES

LANGUAGE_CHOICES = [("en", "English"), ("es", "Spanish")]
PAYMENT_CHOICES = [("insurer", "Insurer authorisation"), ("self_pay", "Self-pay")]
CADENCE_PATTERN = re.compile(r"^\s*(\d{1,2})\s*[x×]\s*(\d)\s*$")

T = TypeVar("T")


def validated(data: T | None) -> T:
    """A required field's data once its form has validated: InputRequired and the field's own
    parsing leave no None there, so a None is a bug here, never bad input."""
    assert data is not None, "a required field has no data after validation"
    return data


STAFF_VOICE = validation.staff_voice("patient")


def by_rule(rule: Callable[[str], object]) -> Callable[[FlaskForm, Field], None]:
    """A field checked (and cleaned) by the booking's own rule for it, in the console's voice:
    the same names, email addresses and phone numbers a consultation accepts."""

    def check(form: FlaskForm, field: Field) -> None:
        if not (field.data or "").strip():
            return
        try:
            field.data = rule(field.data)
        except validation.Invalid as error:
            raise ValidationError(str(error)) from None

    return check


def on_the_grid(form: FlaskForm, field: TimeField) -> None:
    """Chair time is held in five-minute cells, so every time staff type starts on one."""
    if field.data is not None and (field.data.minute % CELL_MINUTES or field.data.second):
        raise ValidationError(f"Choose a time on a {CELL_MINUTES}-minute mark, for example 14:30 or 14:35.")


class PlanCourseForm(FlaskForm):
    """Who, which template, from when, at what time, which chair, and the authorisation."""

    booking = HiddenField()
    name = StringField(
        "Patient's name",
        validators=[
            InputRequired("Enter the patient's name."),
            Length(max=100),
            by_rule(lambda value: validation.person_name(value, STAFF_VOICE)),
        ],
        render_kw={"maxlength": 100, "autocomplete": "off"},
    )
    email = EmailField(
        "Email (optional: the course email and calendar go here)",
        validators=[Optional(), Length(max=254), by_rule(lambda value: validation.email_address(value, STAFF_VOICE))],
        render_kw={"maxlength": 254, "autocomplete": "off", "spellcheck": "false"},
    )
    phone = StringField(
        "Phone (optional)",
        validators=[
            Optional(),
            Length(max=32),
            by_rule(
                lambda value: validation.phone_number(value, current_app.config["PHONE_DEFAULT_REGION"], STAFF_VOICE)
            ),
        ],
        render_kw={"maxlength": 32, "autocomplete": "off"},
    )
    locale = SelectField("Language", choices=LANGUAGE_CHOICES, default="en")
    template = SelectField("Course", coerce=int, validators=[InputRequired("Choose a course.")])
    start = DateField("First session on", validators=[InputRequired("Choose the first day.")])
    at = TimeField(
        "Time of day",
        validators=[InputRequired("Enter the time of day, for example 10:00."), on_the_grid],
        default=time(10),
    )
    chair = SelectField("Chair", coerce=int, default=0)
    payment = RadioField("Payment", choices=PAYMENT_CHOICES, default="insurer")
    authorised_sessions = IntegerField(
        "Sessions authorised (optional)",
        validators=[Optional(), NumberRange(1, 200, "Enter a number from 1 to 200.")],
        render_kw={"inputmode": "numeric"},
    )
    authorised_until = DateField("Authorised until (optional)", validators=[Optional()])


class ConfirmPlanForm(PlanCourseForm):
    """The proposal as shown, sent back to be held exactly: "number chair start" lines."""

    plan = HiddenField()


class MoveSessionForm(FlaskForm):
    on_date = DateField("New date", validators=[InputRequired("Choose the date.")])
    at = TimeField("New time", validators=[InputRequired("Enter the time, for example 14:30."), on_the_grid])
    chair = SelectField("Chair", coerce=int, default=0)
    later_too = BooleanField("Also move every later session to this time of day")


class ResumeForm(FlaskForm):
    start = DateField("Resume on", validators=[InputRequired("Choose the day to resume.")])
    at = TimeField("Time of day", validators=[InputRequired("Enter the time of day."), on_the_grid])


class EndCourseForm(FlaskForm):
    reason = TextAreaField(
        "Why does the course end early?",
        validators=[InputRequired("Say why the course ends early."), Length(max=500)],
        render_kw={"rows": 3, "maxlength": 500},
    )


class ChairForm(FlaskForm):
    name = StringField(
        "Name", validators=[InputRequired("Enter the chair's name."), Length(max=60)], render_kw={"maxlength": 60}
    )
    position = IntegerField(
        "Order on the day sheet",
        default=1,
        validators=[InputRequired("Enter a number."), NumberRange(0, 99, "From 0 to 99.")],
    )
    is_active = BooleanField("In use", default=True)


class AppointmentTypeForm(FlaskForm):
    key = StringField(
        "Short name (letters, digits, _)",
        validators=[InputRequired("Enter a short name."), Length(max=40)],
        render_kw={"maxlength": 40, "spellcheck": "false"},
    )
    name = StringField(
        "Name", validators=[InputRequired("Enter the name."), Length(max=80)], render_kw={"maxlength": 80}
    )
    minutes = IntegerField(
        "Minutes",
        default=40,
        validators=[InputRequired("Enter the length in minutes."), NumberRange(5, 240, "From 5 to 240 minutes.")],
    )
    needs_chair = BooleanField("Needs a treatment chair", default=True)
    is_active = BooleanField("In use", default=True)

    def validate_key(self, field) -> None:
        if not re.fullmatch(r"[a-z0-9_]+", field.data or ""):
            raise ValidationError("Use lower-case letters, digits and _ only.")

    def validate_minutes(self, field) -> None:
        if field.data and field.data % 5:
            raise ValidationError("Use a multiple of 5 minutes.")


class TemplateForm(FlaskForm):
    key = StringField(
        "Short name (letters, digits, _)",
        validators=[InputRequired("Enter a short name."), Length(max=40)],
        render_kw={"maxlength": 40, "spellcheck": "false"},
    )
    name = StringField(
        "Name", validators=[InputRequired("Enter the name."), Length(max=100)], render_kw={"maxlength": 100}
    )
    description = StringField(
        "Description (optional)", validators=[Optional(), Length(max=300)], render_kw={"maxlength": 300}
    )
    first_type = SelectField("First session", coerce=int)
    session_type = SelectField("Other sessions", coerce=int)
    cadence = StringField(
        "Cadence: weeks x sessions a week, comma separated (e.g. 6x5, 1x3, 1x2, 1x1)",
        validators=[InputRequired("Enter the cadence, e.g. 6x5.")],
        render_kw={"maxlength": 100},
    )
    is_active = BooleanField("In use", default=True)

    def validate_key(self, field) -> None:
        if not re.fullmatch(r"[a-z0-9_]+", field.data or ""):
            raise ValidationError("Use lower-case letters, digits and _ only.")

    def validate_cadence(self, field) -> None:
        try:
            parse_cadence(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None


def parse_cadence(text: str) -> list[dict[str, int]]:
    """'6x5, 1x3' -> [{"weeks": 6, "per_week": 5}, {"weeks": 1, "per_week": 3}]."""
    phases = []
    for part in text.split(","):
        match = CADENCE_PATTERN.match(part)
        if not match:
            raise ValueError("Write each phase as weeks x sessions a week, e.g. 6x5, 1x3.")
        weeks, per_week = int(match.group(1)), int(match.group(2))
        if not 1 <= weeks <= 52 or not 1 <= per_week <= 7:
            raise ValueError("Weeks run from 1 to 52 and sessions a week from 1 to 7.")
        phases.append({"weeks": weeks, "per_week": per_week})
    return phases


def cadence_text(phases: list[dict[str, int]]) -> str:
    return ", ".join(f"{p['weeks']}x{p['per_week']}" for p in phases)
