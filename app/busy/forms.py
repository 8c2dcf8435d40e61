"""The staff console's form for adding a busy calendar: input shape only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField
from wtforms.validators import URL, Email, InputRequired, Length, Optional


class BusySourceForm(FlaskForm):
    label = StringField(
        "Name (e.g. Dr Lee, Google)",
        validators=[InputRequired("Please give the calendar a name."), Length(max=100)],
        render_kw={"maxlength": 100},
    )
    url = StringField(
        "Calendar address (secret ICS link, or CalDAV calendar URL)",
        validators=[
            InputRequired("Please paste the calendar's address."),
            URL(require_tld=False, message="Please paste a full http or https address."),
            Length(max=2000),
        ],
    )
    kind = RadioField(
        "Kind",
        choices=[("ics", "ICS subscription link"), ("caldav", "CalDAV calendar")],
        default="ics",
        validators=[InputRequired()],
    )
    username = StringField("User name (CalDAV or protected feeds only)", validators=[Optional(), Length(max=200)])
    password = PasswordField("Password", validators=[Optional(), Length(max=500)])
    email = StringField(
        "The calendar owner's email (invitations they declined are not busy)",
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
    )
