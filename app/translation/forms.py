"""The desk's forms: the editor's text with its action, and a reviewer's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import Length

from app.forms import Form
from app.translation.desk import MAX_TRANSLATION_CHARS


class EditorForm(Form):
    """The translation so far, and what to do with it: save, submit or release."""

    text = TextAreaField(_l("Translation"), validators=[Length(max=MAX_TRANSLATION_CHARS)])
    action = SelectField(
        choices=[
            SelectChoice("save", _l("Save")),
            SelectChoice("submit", _l("Submit")),
            SelectChoice("release", _l("Release")),
        ]
    )


class ReviewForm(Form):
    """A second translator's decision, with the corrected text."""

    text = TextAreaField(_l("Translation"), validators=[Length(max=MAX_TRANSLATION_CHARS)])
    decision = SelectField(
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("return", _l("Return to the queue")),
        ]
    )


class ClaimForm(Form):
    """A claim button (the form only carries the CSRF token)."""


class LanguagesForm(Form):
    """The languages a translator translates from and into (an admin's form)."""

    translates_from = StringField(_l("Translates from"), description=_l("Codes, e.g. en, de."))
    translates_into = StringField(_l("Translates into"), description=_l("Codes, e.g. ru."))


class TranslatorSettingsForm(LanguagesForm):
    """A translator's own settings: their languages and the daily digest."""

    wants_digest = BooleanField(
        _l("Email me a daily digest of open work in my languages (counts only)")
    )
