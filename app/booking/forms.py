"""Form classes: the shape of each form's input and its field checks, no queries."""

from __future__ import annotations

import time

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields import EmailField, TelField
from wtforms.validators import InputRequired, StopValidation, ValidationError

from app.booking import validation
from app.core.labels import INTEREST_LABELS, MODE_LABELS
from app.models.booking import INTERESTS, MODES


def _run(check):
    """Adapt a validation function into a WTForms validator that also stores the clean value."""

    def validator(form, field):
        try:
            field.data = check(field.data or "")
        except validation.Invalid as error:
            raise ValidationError(str(error)) from None

    return validator


def _voiced(check):
    """A validator for a person's detail, worded in the form's voice (the patient's own form,
    or the staff console's about a caller): `check(value, voice)` is the one rule."""

    def validator(form, field):
        try:
            field.data = check(field.data or "", form.voice)
        except validation.Invalid as error:
            raise ValidationError(str(error)) from None

    return validator


def _phone(value: str, voice: validation.Voice) -> str:
    return validation.phone_number(value, current_app.config["PHONE_DEFAULT_REGION"], voice)


class VoicedRequired(InputRequired):
    """InputRequired (it also marks the field required in the page), its message in the
    form's voice: `message` names one of validation.Voice's messages."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.voice_message = message

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except StopValidation:
            raise StopValidation(str(getattr(form.voice, self.voice_message))) from None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="booking-form-started")


def form_started_stamp() -> str:
    return _serializer().dumps(int(time.time()))


def seconds_since_started(stamp: str) -> float | None:
    try:
        started = _serializer().loads(stamp)
    except BadSignature:
        return None
    return time.time() - float(started)


class PatientFieldsMixin:
    """A person's details and their checks. `voice` words the problems: the patient's own
    (here), or the staff console's about the person they book for (app.staff.forms)."""

    voice: validation.Voice = validation.PATIENT
    name = StringField(
        _l("Full name"),
        validators=[_voiced(validation.person_name)],
        render_kw={"autocomplete": "name", "maxlength": 100},
    )
    email = EmailField(
        _l("Email address"),
        validators=[_voiced(validation.email_address)],
        render_kw={"autocomplete": "email", "maxlength": 254, "spellcheck": "false"},
    )
    phone = TelField(
        _l("Phone number"), validators=[_voiced(_phone)], render_kw={"autocomplete": "tel", "maxlength": 32}
    )
    interest = RadioField(
        _l("What would you like to talk about?"),
        choices=[(k, INTEREST_LABELS[k]) for k in INTERESTS],
        validators=[VoicedRequired("interest_missing")],
    )
    note = TextAreaField(
        _l("Anything you would like us to know (optional)"),
        validators=[_run(lambda v: validation.multi_line(v, _l("Your note"), max_length=1000))],
        render_kw={"maxlength": 1000, "rows": 4},
    )
    # Unticked unless the person ticks it: texts need their express agreement.
    sms_consent = BooleanField(_l("Text me reminders at the number above"))
    consent = BooleanField(
        _l("I have read the privacy notice and agree that the clinic keeps these details to arrange my consultation."),
        validators=[VoicedRequired("consent_missing")],
    )


class BookingForm(PatientFieldsMixin, FlaskForm):
    """The patient's details for one slot. `slot_id` is the slot they chose (it may change
    to an alternative after the first choice was taken)."""

    slot_id = HiddenField(validators=[InputRequired(_l("Please choose a time."))])
    mode = RadioField(
        _l("How would you like to meet?"),
        choices=[(k, MODE_LABELS[k]) for k in MODES],
        validators=[InputRequired(validation.MODE_REQUIRED)],
    )
    # Bot defence: a field people never see and a signed timestamp of when the form was shown.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    started = HiddenField()
    attach_self_check = BooleanField(_l("Attach my self-check answers for the clinician"))


class RescheduleForm(FlaskForm):
    mode = RadioField(
        _l("How would you like to meet?"),
        choices=[(k, MODE_LABELS[k]) for k in MODES],
        validators=[InputRequired(validation.MODE_REQUIRED)],
    )


class ConfirmForm(FlaskForm):
    """A bare form for POST buttons: only the CSRF token."""


class CancelForm(FlaskForm):
    """Cancelling: an optional reason, kept for the clinic's staff (never put in an email)."""

    reason = TextAreaField(
        _l("Would you like to tell us why? (optional)"),
        validators=[_run(lambda v: validation.multi_line(v, _l("Your reason"), max_length=500))],
        render_kw={"maxlength": 500, "rows": 3},
    )
