"""Forms of the mailroom's incoming post: a reply's scan, a returned envelope, the holding
pen's actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    IntegerField,
    MultipleFileField,
    SelectField,
    StringField,
    SubmitField,
)

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired, Length, NumberRange

from app.domain import MAX_ID, optional_id_choice
from app.forms import Form
from app.mailroom.returns import RETURN_REASON_LABELS


class ReplyForm(Form):
    """The scanned pages of a reply, its code and the day it came."""

    scan = MultipleFileField(
        _l("Scanned pages"),
        description=_l(
            "JPEG, PNG or PDF, in the order of the pages: at most 20 files, 10 MB each, 40 MB "
            "in all. Photos lose their metadata (place, phone, time)."
        ),
    )
    reference = StringField(
        _l("Reference code"),
        validators=[Length(max=20)],
        description=_l(
            "As the prisoner wrote it, e.g. 4821-0937. Leave it empty if there is none."
        ),
    )
    received_on = DateField(
        _l("Received on"), validators=[InputRequired(message=_l("Give the date it came."))]
    )
    prisoner_id = SelectField(_l("From (optional)"), coerce=str, default="")
    submit = SubmitField(_l("Upload the reply"))


class ReturnForm(Form):
    """A returned envelope: its code, why it came back and when."""

    reference = StringField(
        _l("Reference code"),
        validators=[InputRequired(message=_l("Type the code printed on the letter.")),
                    Length(max=20)],
    )  # fmt: skip
    reason = SelectField(
        _l("Why it came back"),
        choices=[
            SelectChoice(reason.value, label) for reason, label in RETURN_REASON_LABELS.items()
        ],
        validators=[InputRequired()],
    )  # fmt: skip
    received_on = DateField(
        _l("Received on"), validators=[InputRequired(message=_l("Give the date it came."))]
    )
    submit = SubmitField(_l("Record the return"))


class ChoosePrisonerForm(Form):
    """Whom a held reply is from."""

    prisoner_id = SelectField(_l("From"), coerce=optional_id_choice, validators=[InputRequired()])
    submit = SubmitField(_l("Show their letters"))


class MatchForm(Form):
    """The candidate letter a held reply answers."""

    letter_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class GiveUpForm(Form):
    """Mark a held reply unmatched (the button is all there is)."""
