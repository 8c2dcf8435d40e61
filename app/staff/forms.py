"""Staff console forms: the shape of each form's input, no queries."""

from __future__ import annotations

from datetime import time

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateField, EmailField, TimeField
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.booking import validation
from app.booking.forms import PatientFieldsMixin, VoicedRequired
from app.core.labels import MODE_LABELS
from app.models.booking import LOCALE_NAMES, MODES
from app.models.staff import ROLE_LABELS, ROLES
from app.sms.service import STAFF_TEXT_MAX
from app.staff.availability_admin import BUFFERS, SLOT_LENGTHS, WEEKDAYS
from app.staff.export import DEFAULT_PRESET, FORMATS, PRESETS

MODE_CHOICES = [(m, MODE_LABELS[m]) for m in MODES]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[InputRequired("Please enter your email address.")],
        render_kw={"autocomplete": "username", "spellcheck": "false", "maxlength": 254},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Please enter your password.")],
        render_kw={"autocomplete": "current-password", "maxlength": 256},
    )
    next = HiddenField()


def _length_choices():
    return [(str(n), f"{n} minutes") for n in SLOT_LENGTHS]


def _buffer_choices():
    return [(str(n), "No break" if n == 0 else f"{n} minutes") for n in BUFFERS]


class HoursFieldsMixin:
    start = TimeField("Opens at", validators=[InputRequired("Please enter the opening time.")], default=time(9, 0))
    end = TimeField("Closes at", validators=[InputRequired("Please enter the closing time.")], default=time(17, 0))
    slot_minutes = SelectField("Each consultation lasts", choices=_length_choices(), default="30")
    buffer_minutes = SelectField("Break between consultations", choices=_buffer_choices(), default="0")
    modes = CheckboxesField("Ways to meet", choices=MODE_CHOICES, default=list(MODES))


class WeeklyHoursForm(HoursFieldsMixin, FlaskForm):
    weekdays = CheckboxesField("Days of the week", choices=[(str(i), d) for i, d in enumerate(WEEKDAYS)])


class EditHoursForm(HoursFieldsMixin, FlaskForm):
    """One weekly range changed in place; `booked` says what happens to booked consultations
    the new hours leave out (asked only when there are some)."""

    booked = RadioField(
        "Booked consultations outside the new hours",
        choices=[
            ("keep", "Keep them at their times, as one-off times"),
            ("move", "I will move them to other times (the list follows)"),
        ],
        validators=[Optional()],
    )


class ExtraHoursForm(HoursFieldsMixin, FlaskForm):
    on_date = DateField("Date", validators=[InputRequired("Please choose the date.")])
    reason = StringField("Note (optional)", validators=[Optional(), Length(max=200)], render_kw={"maxlength": 200})


class CloseDatesForm(FlaskForm):
    first = DateField("First closed day", validators=[InputRequired("Please choose the first closed day.")])
    last = DateField("Last closed day (leave empty for one day)", validators=[Optional()])
    reason = StringField(
        "Reason (optional, e.g. Christmas)", validators=[Optional(), Length(max=200)], render_kw={"maxlength": 200}
    )


class OneOffSlotForm(FlaskForm):
    on_date = DateField("Date", validators=[InputRequired("Please choose the date.")])
    at = TimeField("Starts at", validators=[InputRequired("Please enter the start time.")])
    minutes = SelectField("Lasts", choices=_length_choices(), default="30")
    modes = CheckboxesField("Ways to meet", choices=MODE_CHOICES, default=list(MODES))


class CancelForm(FlaskForm):
    message = TextAreaField(
        "Message to the patient (optional)",
        validators=[Optional(), Length(max=1000)],
        render_kw={"rows": 4, "maxlength": 1000},
    )


class NoteForm(FlaskForm):
    note = TextAreaField(
        "Add an internal note",
        validators=[InputRequired("Please type the note first."), Length(max=2000)],
        render_kw={"rows": 3, "maxlength": 2000},
    )


class TextForm(FlaskForm):
    text = StringField(
        "Text to send",
        validators=[InputRequired("Please type the text first."), Length(max=STAFF_TEXT_MAX)],
        render_kw={"maxlength": STAFF_TEXT_MAX, "autocomplete": "off"},
    )


class MoveForm(FlaskForm):
    mode = RadioField(
        "How will you meet?", choices=MODE_CHOICES, validators=[InputRequired("Choose how you will meet.")]
    )


def _optional_email(form, field) -> None:
    try:
        field.data = validation.optional_email_address(field.data or "", form.voice)
    except validation.Invalid as error:
        raise ValidationError(str(error)) from None


def _video_url(form, field) -> None:
    try:
        field.data = validation.optional_web_address(field.data or "", "The video call link")
    except validation.Invalid as error:
        raise ValidationError(str(error)) from None


def caller_email_field() -> EmailField:
    """Many callers have no email: left empty, the booking is phone only."""
    return EmailField(
        "Caller's email (optional)",
        validators=[_optional_email],
        render_kw={"autocomplete": "off", "maxlength": 254, "spellcheck": "false"},
    )


class CallerBookingForm(PatientFieldsMixin, FlaskForm):
    """A booking staff make for a caller: the public form's patient fields and checks, for a
    slot chosen on the previous page; no bot checks (the person is signed in)."""

    voice = validation.CALLER
    slot_id = HiddenField(validators=[InputRequired("Choose a time first.")])
    email = caller_email_field()
    mode = RadioField(
        "How will you meet?", choices=MODE_CHOICES, validators=[InputRequired("Choose how you will meet.")]
    )
    # Their confirmation, invite, reminder and manage pages are in this language.
    locale = RadioField(
        "Language for their emails",
        choices=list(LOCALE_NAMES.items()),
        default="en",
        validators=[InputRequired("Choose the language for their emails.")],
    )
    consent = BooleanField(
        "The caller agreed to the privacy notice: the clinic keeps these details to arrange their consultation.",
        validators=[VoicedRequired("consent_missing")],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name.label.text = "Caller's full name"
        self.phone.label.text = "Caller's phone number"
        self.interest.label.text = "What would they like to talk about?"
        self.note.label.text = "Anything they would like us to know (optional)"
        self.sms_consent.label.text = "The caller agreed to text reminders at this number"


class BookingDetailsForm(PatientFieldsMixin, FlaskForm):
    """A booking's details corrected in place: the new-booking form's checks for the fields
    staff may change (the slot's meeting types are set by the view)."""

    voice = validation.staff_voice("patient")
    # None takes an inherited field off the form (WTForms' way); the stubs type it as a field.
    interest = None  # type: ignore[assignment]
    note = None  # type: ignore[assignment]
    consent = None  # type: ignore[assignment]
    email = caller_email_field()
    mode = RadioField(
        "How will you meet?", choices=MODE_CHOICES, validators=[InputRequired("Choose how you will meet.")]
    )
    locale = RadioField(
        "Language for their emails",
        choices=list(LOCALE_NAMES.items()),
        validators=[InputRequired("Choose the language for their emails.")],
    )
    custom_video_url = StringField(
        "Video call link for this booking (optional)",
        validators=[_video_url],
        render_kw={"maxlength": 500, "spellcheck": "false", "autocomplete": "off"},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name.label.text = "Full name"
        self.email.label.text = "Email (optional)"


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download: it changes nothing

    preset = RadioField(
        "Which bookings",
        choices=list(PRESETS.items()),
        default=DEFAULT_PRESET,
        validators=[InputRequired("Please choose which bookings.")],
    )
    first = DateField("From", validators=[Optional()])
    last = DateField("To", validators=[Optional()])
    fmt = RadioField(
        "File type",
        choices=list(FORMATS.items()),
        default="xlsx",
        validators=[InputRequired("Please choose the file type.")],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.preset.data == "custom":
            # The dates are optional for the presets, so they are required here, not per field.
            for field, message in (
                (self.first, "Please choose the first day."),
                (self.last, "Please choose the last day."),
            ):
                if field.data is None and not field.errors:
                    field.errors = [*field.errors, message]
                    valid = False
        return valid


class AccountForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[InputRequired("Please enter the person's name."), Length(max=100)],
        render_kw={"autocomplete": "off", "maxlength": 100},
    )
    email = EmailField(
        "Email address",
        validators=[InputRequired("Please enter an email address.")],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 254},
    )
    role = RadioField(
        "Role",
        choices=[(r, ROLE_LABELS[r]) for r in ROLES],
        default="staff",
        validators=[InputRequired("Please choose a role.")],
    )
    password = PasswordField(
        "First password (tell them in person; they can change it)",
        validators=[InputRequired("Please choose a first password.")],
        render_kw={"autocomplete": "new-password", "maxlength": 256},
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[InputRequired("Please enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        "New password",
        validators=[InputRequired("Please choose a new password.")],
        render_kw={"autocomplete": "new-password", "maxlength": 256},
    )
    confirm = PasswordField(
        "New password again",
        validators=[InputRequired("Please type the new password again.")],
        render_kw={"autocomplete": "new-password", "maxlength": 256},
    )


class FeedForm(FlaskForm):
    label = StringField(
        "Name for this feed (e.g. Front desk iPad)",
        validators=[InputRequired("Please give the feed a name."), Length(max=100)],
        render_kw={"maxlength": 100},
    )


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: the confirm step of a dangerous action."""
