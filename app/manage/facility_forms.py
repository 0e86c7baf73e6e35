"""The form for a facility's address and mail rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.forms import Form
from app.labels import FACILITY_KIND
from app.manage.facilities import FacilityData
from app.manage.forms import optional_text, text
from app.models import Facility, FacilityKind


class FacilityForm(Form):
    """A facility's address and rules."""

    code = StringField(
        _l("Short code"),
        validators=[InputRequired(message=_l("Give the short code, e.g. ИК-6.")), Length(max=50)],
        description=_l("E.g. ИК-6, СИЗО-1."),
    )
    name = StringField(
        _l("Full official name"),
        validators=[InputRequired(message=_l("Give the full official name.")), Length(max=300)],
        description=_l("As on the envelope: «ФКУ ИК-6 УФСИН России по Владимирской области»."),
    )
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, label) for kind, label in FACILITY_KIND.items()],
    )
    region = StringField(
        _l("Region"),
        validators=[InputRequired(message=_l("Give the region.")), Length(max=150)],
    )
    country = StringField(
        _l("Country code"), validators=[Length(max=2)], default="RU", description="RU, BY, …"
    )
    postcode = StringField(
        _l("Postcode"),
        validators=[InputRequired(message=_l("Give the postcode.")), Length(max=12)],
        description=_l("6 digits in Russia."),
    )
    locality = StringField(
        _l("Town or village"),
        validators=[InputRequired(message=_l("Give the town or village.")), Length(max=150)],
    )
    street_address = StringField(
        _l("Street address"),
        validators=[InputRequired(message=_l("Give the street address.")), Length(max=300)],
    )
    electronic_services = StringField(
        _l("Electronic letter services"),
        validators=[Length(max=200)],
        description=_l("Separated by commas, e.g. “FSIN-Pismo, Zonatelecom”."),
    )
    mail_rules = TextAreaField(_l("Mail rules"), validators=[Length(max=5000)])
    max_letter_pages = IntegerField(
        _l("Page limit per letter"),
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message=_l("Give a number from 1 to 100.")),
        ],
        description=_l("Only where the facility announces one."),
    )
    source_url = StringField(
        _l("Source (web address)"),
        validators=[Length(max=500)],
        description=_l("Where this address was checked: http:// or https:// only."),
    )
    submit = SubmitField(_l("Save"))

    def fill_from(self, facility: Facility) -> None:
        """Show a saved facility in the form (on GET)."""
        self.process(obj=facility)
        self.kind.data = facility.kind.value

    def to_data(self) -> FacilityData:
        """The typed values as plain data for the services."""
        return FacilityData(
            code=text(self.code.data),
            name=text(self.name.data),
            kind=FacilityKind(self.kind.data),
            region=text(self.region.data),
            country=text(self.country.data),
            postcode=text(self.postcode.data),
            locality=text(self.locality.data),
            street_address=text(self.street_address.data),
            electronic_services=text(self.electronic_services.data),
            mail_rules=text(self.mail_rules.data),
            max_letter_pages=self.max_letter_pages.data,
            source_url=optional_text(self.source_url.data),
        )
