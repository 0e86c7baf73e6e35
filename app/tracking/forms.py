"""Forms on the tracking page: print options and reports."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import Form
from app.labels import APPEAL_EVENT_KIND, CHANNEL, EVENT_KIND
from app.models import APPEAL_EVENTS, APPEAL_ONLY_EVENTS


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


ENVELOPE_CHOICES = [
    SelectChoice("dl", _l("DL envelope (110 × 220 mm)")),
    SelectChoice("c5", _l("C5 envelope (162 × 229 mm)")),
    SelectChoice("none", _l("No envelope, letter only")),
]


class PrintForm(Form):
    """What the envelope needs; none of it is stored."""

    envelope = SelectField(_l("Envelope"), choices=ENVELOPE_CHOICES, default="dl")
    sender_name = StringField(_l("Your name on the envelope"), validators=[Length(max=200)])
    sender_address = TextAreaField(
        _l("Your return address"),
        validators=[Length(max=500)],
        description=_l("Used for this PDF only and never stored. You may leave it empty."),
    )
    sender_country = StringField(
        _l("Country you post it from"),
        validators=[Length(max=100)],
        description=_l("If it is not Russia, «РОССИЯ / RUSSIA» is added to the address."),
    )
    remember_address = BooleanField(
        _l("Keep this address with the appeal"),
        description=_l(
            "Only for appeals, and only if you tick it: then you need not type it again to "
            "reprint. Untick it and print again to make Konvert forget it."
        ),
    )
    submit = SubmitField(_l("Download PDF"))


class _ReportDetails(Form):
    """What a new report and a correction share: the date and the details."""

    happened_on = DateField(
        _l("When"),
        validators=[InputRequired(message=_l("Give the date, as exactly as you know it."))],
    )
    tracking_number = StringField(
        _l("Tracking number (optional)"),
        validators=[Length(max=40)],
        description=_l("14 digits within Russia, or like RA123456785RU from abroad."),
    )
    extension_days = IntegerField(
        _l("Extended by (days)"),
        validators=[Optional(), NumberRange(min=1, max=30)],
        description=_l("Only for an extension notice: the law allows up to 30 days, once."),
    )
    confirm_same_day = BooleanField(_l("Yes, it really was the same day"))


class EventForm(_ReportDetails):
    """One report about the letter; appeals have their own kinds and wording."""

    def __init__(self, *args: Any, appeal: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = APPEAL_EVENT_KIND if appeal else EVENT_KIND
        self.kind.choices = [
            SelectChoice(kind.value, label)
            for kind, label in labels.items()
            if (kind in APPEAL_EVENTS if appeal else kind not in APPEAL_ONLY_EVENTS)
        ]

    kind = SelectField(_l("What happened"))
    channel = SelectField(
        _l("How it was sent"),
        choices=[SelectChoice("", _l("— choose (for “Sent”) —"))]
        + [SelectChoice(channel.value, label) for channel, label in CHANNEL.items()],
        # Optional() lets blank text through unchecked: " " must become "", not a channel.
        filters=[_stripped],
        validators=[Optional()],
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=1000)],
        description=_l("For a return or withholding: what happened, e.g. a blank reply form."),
    )
    submit = SubmitField(_l("Report"))


class CorrectEventForm(_ReportDetails):
    """A report's date and details, corrected; its kind stays."""

    channel = SelectField(
        _l("How it was sent"),
        choices=[SelectChoice(channel.value, label) for channel, label in CHANNEL.items()],
        validators=[Optional()],
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=1000)],
        description=_l("Leave it empty to remove the note."),
    )
    submit = SubmitField(_l("Save the correction"))


class WithdrawEventForm(Form):
    """Withdrawing a report: a button with CSRF protection."""

    submit = SubmitField(_l("Withdraw this report"))


class DeleteLetterForm(Form):
    """Deleting a letter for good: a button with CSRF protection."""

    submit = SubmitField(_l("Delete this letter for good"))


class ResubmitForm(Form):
    """A mailroom letter sent back to its writer: the edited text, for review again."""

    body = TextAreaField(_l("Your letter"), validators=[Length(max=20000)])
    submit = SubmitField(_l("Send it for review again"))


class TranslationNoteForm(Form):
    """The writer's short note to the translator of their letter, added or replaced."""

    note = TextAreaField(_l("Your note to the translator"), validators=[Length(max=500)])
    submit = SubmitField(_l("Save the note"))
