"""Forms for logging in, invitations, passwords and the admin's account list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, SubmitField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import EqualTo, InputRequired, Length

from app.auth.passwords import MIN_PASSWORD_LENGTH
from app.auth.services import MAX_PASSWORD_LENGTH
from app.forms import Form
from app.models import Role

ROLE_LABELS = {
    Role.ORGANIZER: _l("Organizer"),
    Role.MAILROOM: _l("Mailroom volunteer"),
    Role.TRANSLATOR: _l("Translator"),
    Role.ADMIN: _l("Admin"),
}

_EMAIL_REQUIRED = InputRequired(message=_l("Give your email address."))
_PASSWORD_LENGTH = Length(
    min=MIN_PASSWORD_LENGTH,
    max=MAX_PASSWORD_LENGTH,
    message=_l(
        "Use at least %(min)d characters. A few unrelated words make a good password.",
        min=MIN_PASSWORD_LENGTH,
    ),
)
_PASSWORD_HINT = _l(
    "At least %(num)d characters. A few unrelated words are easy to remember and hard to guess.",
    num=MIN_PASSWORD_LENGTH,
)


class LoginForm(Form):
    """Email and password."""

    email = StringField(_l("Email"), validators=[_EMAIL_REQUIRED, Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(message=_l("Give your password.")),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
    )
    submit = SubmitField(_l("Log in"))


class NewPasswordForm(Form):
    """A new password, typed twice."""

    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(message=_l("Choose a password.")), _PASSWORD_LENGTH],
        description=_PASSWORD_HINT,
    )
    password_again = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(message=_l("Type the password a second time.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )
    submit = SubmitField(_l("Set password"))


class AcceptInvitationForm(NewPasswordForm):
    """Opening an invited account: a name and a password."""

    name = StringField(
        _l("Your name"),
        validators=[
            InputRequired(message=_l("Give a name other organizers will know you by.")),
            Length(max=200),
        ],
        description=_l("Shown to other organizers. It need not be your real name."),
    )
    submit = SubmitField(_l("Create my account"))


class ChangePasswordForm(NewPasswordForm):
    """The current password, then the new one twice."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(message=_l("Give your current password.")),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
    )
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(Form):
    """The address to send a reset link to."""

    email = StringField(_l("Email"), validators=[_EMAIL_REQUIRED, Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class LoginLinkForm(Form):
    """The address to send a one-time login link to."""

    email = StringField(_l("Email"), validators=[_EMAIL_REQUIRED, Length(max=254)])
    submit = SubmitField(_l("Email me a login link"))


class UseLoginLinkForm(Form):
    """The button that logs in through an emailed link (a link opened is not yet a login:
    mail scanners open links too)."""

    submit = SubmitField(_l("Log in"))


class InviteForm(Form):
    """An admin invites someone by email."""

    email = StringField(
        _l("Email"),
        validators=[InputRequired(message=_l("Give the address to invite.")), Length(max=254)],
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(Role.ORGANIZER.value, _l("Organizer")),
            SelectChoice(Role.MAILROOM.value, _l("Mailroom volunteer (the mailroom only)")),
            SelectChoice(Role.TRANSLATOR.value, _l("Translator (the translation desk only)")),
            SelectChoice(
                Role.ADMIN.value, _l("Admin (also manages accounts, the organisation and mail)")
            ),
        ],
        default=Role.ORGANIZER.value,
    )
    submit = SubmitField(_l("Send invitation"))


class ApiTokenForm(Form):
    """A new personal API token: its label (the service checks it)."""

    label = StringField(
        _l("Label"),
        description=_l("Where the token will be used, e.g. “scanning station” or “print script”."),
    )
    submit = SubmitField(_l("Create a token"))


class RevokeTokenForm(Form):
    """The button that revokes one token."""

    submit = SubmitField(_l("Revoke"))
