"""Forms for the supporters' opt-ins and the admins' outbox page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from app.forms import Form


class ReminderForm(Form):
    """An email to be reminded to report back on one letter."""

    email = StringField(
        _l("Your email"),
        validators=[InputRequired(_l("Enter an email address.")), Length(max=254)],
        description=_l(
            "Optional. Konvert will remind you to report what happened if there is no news "
            "14 and 45 days after you sent the letter, and nothing else. First, one email "
            "asks you to confirm the address."
        ),
    )
    submit = SubmitField(_l("Remind me"))


class FollowForm(Form):
    """An email to hear when a prisoner is transferred."""

    email = StringField(
        _l("Your email"),
        validators=[InputRequired(_l("Enter an email address.")), Length(max=254)],
        description=_l(
            "Konvert will write to you only when this person is moved to another facility, "
            "so that your next letter goes to the right address. Every message has a link "
            "that deletes your address at once. First, one email asks you to confirm it."
        ),
    )
    submit = SubmitField(_l("Tell me about transfers"))


class ConfirmForm(Form):
    """A single button: deleting needs a POST, so that link scanners cannot do it."""

    submit = SubmitField(_l("Delete my address"))


class ConfirmAddressForm(Form):
    """A single button: confirming needs a POST, so that link scanners cannot do it."""

    submit = SubmitField(_l("Confirm my address"))


class RequeueForm(Form):
    """Re-queue one dead message (the CSRF token is the whole form)."""

    submit = SubmitField(_l("Send again"))
