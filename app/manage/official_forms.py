"""The form for an official, the addressee of appeals, and what they answer for."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired, Length

from app.domain import optional_id_choice
from app.forms import Form
from app.labels import OFFICIAL_KIND
from app.manage.forms import facility_option, optional_text, text
from app.manage.officials import OfficialData
from app.models import Facility, Jurisdiction, Official, OfficialKind

JURISDICTION = {
    Jurisdiction.FACILITY: _l("One facility"),
    Jurisdiction.REGION: _l("A region"),
    Jurisdiction.FEDERAL: _l("The whole country (federal)"),
}


class OfficialForm(Form):
    """An addressee of appeals."""

    kind = SelectField(
        _l("Kind of body"),
        choices=[SelectChoice(kind.value, label) for kind, label in OFFICIAL_KIND.items()],
    )
    position = StringField(
        _l("Position"),
        validators=[InputRequired(message=_l("Give the position.")), Length(max=300)],
        description=_l("«Начальник ФКУ ИК-6 УФСИН России по Владимирской области»"),
    )
    position_dative = StringField(
        _l("Position in the dative (addressee line)"),
        validators=[
            InputRequired(message=_l("Give the position in the dative.")),
            Length(max=300),
        ],
        description=_l("«Начальнику ФКУ ИК-6 УФСИН России по Владимирской области»"),
    )
    organisation = StringField(
        _l("Organisation"),
        validators=[InputRequired(message=_l("Give the organisation.")), Length(max=300)],
    )
    street_address = StringField(
        _l("Street address"),
        validators=[InputRequired(message=_l("Give the street address.")), Length(max=300)],
    )
    locality = StringField(
        _l("Town"), validators=[InputRequired(message=_l("Give the town.")), Length(max=150)]
    )
    region = StringField(
        _l("Region"), validators=[InputRequired(message=_l("Give the region.")), Length(max=150)]
    )
    postcode = StringField(
        _l("Postcode"),
        validators=[InputRequired(message=_l("Give the postcode.")), Length(max=12)],
        description=_l("6 digits."),
    )
    jurisdiction = SelectField(
        _l("Answers for"),
        choices=[SelectChoice(item.value, label) for item, label in JURISDICTION.items()],
    )
    facility_id = SelectField(
        _l("Facility (when answering for one facility)"),
        coerce=optional_id_choice,
        validate_choice=True,
    )
    jurisdiction_region = StringField(
        _l("Region (when answering for a region)"),
        validators=[Length(max=150)],
        description=_l("Spelled as in the facilities' addresses, e.g. «Владимирская область»."),
    )
    source_url = StringField(
        _l("Source (web address)"),
        validators=[Length(max=500)],
        description=_l("Where this address was checked: http:// or https:// only."),
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, facilities: list[Facility] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.facility_id.choices = [
            SelectChoice("None", _l("— none —")),
            *(SelectChoice(str(f.id), facility_option(f)) for f in facilities or []),
        ]

    def fill_from(self, official: Official) -> None:
        """Show a saved official in the form (on GET)."""
        self.process(obj=official)
        self.kind.data = official.kind.value
        self.jurisdiction.data = official.jurisdiction.value

    def to_data(self) -> OfficialData:
        """The typed values as plain data for the services."""
        return OfficialData(
            kind=OfficialKind(self.kind.data),
            position=text(self.position.data),
            position_dative=text(self.position_dative.data),
            organisation=text(self.organisation.data),
            street_address=text(self.street_address.data),
            locality=text(self.locality.data),
            region=text(self.region.data),
            postcode=text(self.postcode.data),
            jurisdiction=Jurisdiction(self.jurisdiction.data),
            facility_id=self.facility_id.data,
            jurisdiction_region=optional_text(self.jurisdiction_region.data),
            source_url=optional_text(self.source_url.data),
        )
