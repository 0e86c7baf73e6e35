"""Forms for drives: creating one, joining, printing, marking sent, inviting."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    widgets,
)

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.domain import id_choice
from app.forms import Form
from app.labels import CHANNEL


class CheckboxListField(SelectMultipleField):
    """A multiple choice rendered as checkboxes, which work without JavaScript."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class DriveForm(Form):
    """A new letter-writing evening."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    held_on = DateField(_l("Date"), validators=[InputRequired()])
    place = StringField(
        _l("Place (optional)"),
        validators=[Length(max=300)],
        description=_l("Free text, shown to participants. Leave it empty if in doubt."),
    )
    target_per_prisoner = IntegerField(
        _l("Letters per prisoner"), default=2, validators=[InputRequired(), NumberRange(1, 20)]
    )
    prisoner_ids = CheckboxListField(_l("Prisoners"), coerce=id_choice)
    template_ids = CheckboxListField(_l("Templates offered"), coerce=id_choice)
    submit = SubmitField(_l("Create the drive"))


class JoinCodeForm(Form):
    """The short code people type at the event."""

    code = StringField(_l("Code of the evening"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Continue"))


class JoinForm(Form):
    """Joining a drive under any name."""

    name = StringField(
        _l("Your name for this evening"),
        validators=[Length(max=100)],
        description=_l("Any name: a first name, a nickname. It is shown to the organizers only."),
    )
    languages = CheckboxListField(
        _l("I can write in"),
        choices=[SelectChoice("ru", _l("Russian")), SelectChoice("en", _l("English"))],
        default=["ru"],
    )
    submit = SubmitField(_l("Join"))


class PrintPackForm(Form):
    """Options of the print pack."""

    envelope = SelectField(
        _l("Envelopes"),
        choices=[SelectChoice("dl", _l("DL (110 × 220 mm)")), SelectChoice("c5", _l("C5"))],
        default="dl",
    )
    sender_country = StringField(
        _l("Country the letters are posted from"),
        validators=[Length(max=100)],
        description=_l("If it is not Russia, «РОССИЯ / RUSSIA» is added to every address."),
    )
    submit = SubmitField(_l("Build the print pack"))


class MarkSentForm(Form):
    """Recording the whole printed batch as sent."""

    sent_on = DateField(_l("Posted on"), validators=[InputRequired()])
    channel = SelectField(
        _l("How"), choices=[SelectChoice(c.value, label) for c, label in CHANNEL.items()]
    )
    submit = SubmitField(_l("Mark the printed letters sent"))


class InviteForm(Form):
    """Emailing the join link to people."""

    emails = TextAreaField(
        _l("Email addresses, one per line"), validators=[DataRequired(), Length(max=5000)]
    )
    submit = SubmitField(_l("Send invitations"))


class EmptyForm(Form):
    """A button that only needs CSRF protection."""

    submit = SubmitField(_l("Go"))
