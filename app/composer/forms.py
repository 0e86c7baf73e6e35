"""The letter form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import Length

from app.domain import optional_id_choice
from app.forms import Form

LETTER_LANGUAGES = [SelectChoice("ru", _l("Russian")), SelectChoice("en", _l("English"))]
#: How a letter travels: printed and posted by its writer, or through the organisation.
SELF, ORGANISATION = "self", "organisation"


class LetterForm(Form):
    """Template choice, language, signature and text of a letter."""

    template_id = SelectField(_l("Template"), coerce=optional_id_choice, validate_choice=True)
    language = SelectField(_l("Language of the letter"), choices=LETTER_LANGUAGES)
    signature = StringField(
        _l("Sign with"),
        validators=[Length(max=200)],
        description=_l("Any name you like: your first name or a pseudonym."),
    )
    body = TextAreaField(_l("Your letter"), validators=[Length(max=20000)])
    # Offered only when the organisation's mailroom is open (the view sets the choices).
    delivery = RadioField(
        _l("How will it travel?"),
        choices=[SelectChoice(SELF, _l("I print and post it")), SelectChoice(ORGANISATION, "")],
        default=SELF,
    )
    # Offered when the letter's language is not one the prisoner reads and the mailroom is
    # open (the view shows it); works with either way of travelling.
    translate = BooleanField(_l("Have it translated"))
    translator_note = TextAreaField(
        _l("A note for the translator (optional)"),
        validators=[Length(max=500)],
        description=_l("A word the translator should know: a name, a joke, what you meant."),
    )
    apply_template = SubmitField(_l("Use this template"))
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save and get my tracking link"))


class AppealForm(LetterForm):
    """An appeal: in Russian, signed with the applicant's full name."""

    language = SelectField(
        _l("Language of the appeal"), choices=[SelectChoice("ru", _l("Russian"))]
    )
    body = TextAreaField(_l("Your appeal"), validators=[Length(max=20000)])
    delivery = None  # type: ignore[assignment]  # appeals are sent by the applicant
    translate = None  # type: ignore[assignment]  # appeals are written in Russian
    translator_note = None  # type: ignore[assignment]
    signature = StringField(
        _l("Your full name"),
        validators=[Length(max=200)],
        description=_l(
            "Surname, first name and patronymic. Under 59-FZ officials need not answer an appeal "
            "without the applicant's name and postal address; the address is asked when you print."
        ),
    )
