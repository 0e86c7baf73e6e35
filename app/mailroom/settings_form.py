"""The admin's form for the organisation's settings (the rules are in app.mailroom.settings)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired

from app.forms import Form
from app.mailroom.settings import OrganisationSettings, country_names
from app.manage.forms import date_field, text

_WHOLE_NUMBER = _l("Give a whole number, e.g. 180.")


def _number(label: str, description: str) -> IntegerField:
    # invalid_value_message is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
    return IntegerField(  # type: ignore[call-arg]
        label,
        validators=[InputRequired(message=_WHOLE_NUMBER)],
        invalid_value_message=_WHOLE_NUMBER,
        description=description,
    )


class OrganisationForm(Form):
    """The organisation's name, return address, mailroom and limits."""

    name = StringField(
        _l("Name of the organisation"),
        description=_l("Printed as the sender on the organisation's envelopes."),
    )
    return_address = TextAreaField(
        _l("Return address"),
        description=_l(
            "Where replies come back, one line per line as on the envelope (a PO box or street "
            "and house, then the town), without the postcode and the country."
        ),
    )
    postcode = StringField(_l("Postcode"), description=_l("6 digits in Russia."))
    country = SelectField(_l("Country"), default="RU")
    mailroom_open = BooleanField(
        _l("The mailroom is open: writers may send their letters through the organisation")
    )
    reply_window_days = _number(
        _l("Reply window (days)"),
        _l(
            "How long after posting replies are expected. Until then the organisation can "
            "read the letter, to match a reply without a code; then its key is destroyed."
        ),
    )
    daily_intake_cap = _number(
        _l("Letters taken in a day"),
        _l("When this many letters arrived today, writers are asked to come back tomorrow."),
    )
    prisoner_daily_cap = _number(
        _l("Letters to one prisoner in a day"),
        _l("So that one prisoner is not flooded, and a campaign against someone is slowed."),
    )
    next_run_on = date_field(
        _l("Next print run"),
        description=_l("Optional. Writers waiting for review are told this date."),
    )
    translation_review = BooleanField(
        _l("Second-translator review: a translation is done once another translator approves it")
    )
    translation_claim_minutes = _number(
        _l("Claim minutes"),
        _l("How long a translator's claim on a translation lasts before it is open again."),
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, language: str) -> None:
        """The form, filled from the request, with countries named in ``language``."""
        super().__init__()
        self.country.choices = [SelectChoice(code, name) for code, name in country_names(language)]

    def fill_from(self, settings: OrganisationSettings) -> None:
        """Show the stored settings (on GET)."""
        self.process(obj=settings)

    def to_settings(self) -> OrganisationSettings:
        """What was typed, as settings for the service (which checks them)."""
        return OrganisationSettings(
            name=text(self.name.data),
            return_address=self.return_address.data or "",
            postcode=text(self.postcode.data),
            country=text(self.country.data),
            mailroom_open=bool(self.mailroom_open.data),
            reply_window_days=self.reply_window_days.data or 0,
            daily_intake_cap=self.daily_intake_cap.data or 0,
            prisoner_daily_cap=self.prisoner_daily_cap.data or 0,
            next_run_on=self.next_run_on.data,
            translation_review=bool(self.translation_review.data),
            translation_claim_minutes=self.translation_claim_minutes.data or 0,
        )
