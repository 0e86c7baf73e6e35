"""Forms for prisoners, facilities, officials and transfers.

The forms parse and check the shape of what was typed; the rules about dates, placements and
jurisdictions live in app.manage.services, whose errors the routes put next to the fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.labels import FACILITY_KIND, OFFICIAL_KIND, PRISONER_STATUS
from app.manage.services import (
    OVERRIDE_CASES,
    FacilityData,
    OfficialData,
    PlacementData,
    PrisonerData,
)
from app.models import (
    Facility,
    FacilityKind,
    Jurisdiction,
    Official,
    OfficialKind,
    Prisoner,
    PrisonerStatus,
)
from app.russian.names import Gender

TRANSIT = "transit"
BAD_DATE = _l("Not a real date. Use the calendar, or type it as YYYY-MM-DD (e.g. 2021-03-25).")

JURISDICTION = {
    Jurisdiction.FACILITY: _l("One facility"),
    Jurisdiction.REGION: _l("A region"),
    Jurisdiction.FEDERAL: _l("The whole country (federal)"),
}
CASE_LABELS = {
    "genitive": _l("Genitive (кого?)"),
    "dative": _l("Dative (кому?) — on the envelope"),
    "accusative": _l("Accusative (кого?)"),
    "instrumental": _l("Instrumental (кем?)"),
    "prepositional": _l("Prepositional (о ком?)"),
}


def _text(value: str | None) -> str:
    return (value or "").strip()


def _optional_text(value: str | None) -> str | None:
    return _text(value) or None


def _date_field(label: object, required: bool = False, **kwargs: Any) -> DateField:
    requirement = InputRequired(message=_l("Give the date.")) if required else Optional()
    return DateField(label, validators=[requirement], invalid_value_message=BAD_DATE, **kwargs)


def facility_option(facility: Facility) -> str:
    """How a facility reads in a select box: code, region, full name."""
    return f"{facility.code}, {facility.region} — {facility.name}"


class PrisonerForm(FlaskForm):
    """A prisoner's data; on creation also the first placement."""

    last_name = StringField(
        _l("Surname (Cyrillic)"),
        validators=[InputRequired(message=_l("Give the surname.")), Length(max=100)],
    )
    first_name = StringField(
        _l("First name (Cyrillic)"),
        validators=[InputRequired(message=_l("Give the first name.")), Length(max=100)],
    )
    patronymic = StringField(_l("Patronymic"), validators=[Length(max=100)])
    last_name_latin = StringField(
        _l("Surname in Latin letters"),
        validators=[Length(max=100)],
        description=_l("As the person spells it; leave empty to transliterate."),
    )
    first_name_latin = StringField(_l("First name in Latin letters"), validators=[Length(max=100)])
    gender = SelectField(
        _l("Gender (for declension and greetings)"),
        choices=[
            SelectChoice("", _l("Infer from the patronymic")),
            SelectChoice(Gender.MALE.value, _l("Male")),
            SelectChoice(Gender.FEMALE.value, _l("Female")),
        ],
    )
    birth_date = _date_field(_l("Date of birth"))
    birth_year = IntegerField(
        _l("Year of birth"),
        validators=[Optional()],
        description=_l("When only the year is known. It goes on the envelope after the name."),
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(status.value, label) for status, label in PRISONER_STATUS.items()],
        default=PrisonerStatus.CONVICTED.value,
    )
    case_summary = TextAreaField(_l("About the case"), validators=[Length(max=5000)])
    detained_on = _date_field(_l("Detained on"))
    sentence = StringField(_l("Sentence"), validators=[Length(max=300)])
    languages = StringField(
        _l("Languages the person reads"),
        validators=[Length(max=100)],
        default="ru",
        description=_l("Two-letter codes separated by commas, e.g. “ru, en”."),
    )
    interests = TextAreaField(_l("Interests"), validators=[Length(max=5000)])
    notes_for_writers = TextAreaField(_l("Notes for writers"), validators=[Length(max=5000)])
    accepts_letters = BooleanField(_l("Accepts letters"), default=True)
    source_url = StringField(
        _l("Source (web address)"),
        validators=[Length(max=500)],
        description=_l("Where this information comes from: http:// or https:// only."),
    )
    name_genitive = StringField(CASE_LABELS["genitive"], validators=[Length(max=300)])
    name_dative = StringField(CASE_LABELS["dative"], validators=[Length(max=300)])
    name_accusative = StringField(CASE_LABELS["accusative"], validators=[Length(max=300)])
    name_instrumental = StringField(CASE_LABELS["instrumental"], validators=[Length(max=300)])
    name_prepositional = StringField(CASE_LABELS["prepositional"], validators=[Length(max=300)])
    # Only on creation: where the person is now.
    placement = SelectField(
        _l("Where is this person now?"),
        validators=[InputRequired(message=_l("Choose a facility, or “in transit”."))],
        validate_choice=True,
    )
    placed_since = _date_field(_l("Since"))
    submit = SubmitField(_l("Save"))

    def __init__(
        self,
        *args: Any,
        facilities: list[Facility] | None = None,
        creating: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        if creating:
            self.placement.choices = [
                SelectChoice("", _l("— choose —")),
                SelectChoice(TRANSIT, _l("In transit, whereabouts unknown")),
                *(SelectChoice(str(f.id), facility_option(f)) for f in facilities or []),
            ]
        else:
            del self.placement
            del self.placed_since

    def override_fields(self) -> list[tuple[str, Field]]:
        """(case name, field) for each declined form that can be corrected by hand."""
        return [(case.value, getattr(self, f"name_{case.value}")) for case in OVERRIDE_CASES]

    def fill_from(self, prisoner: Prisoner) -> None:
        """Show a saved prisoner in the form (on GET)."""
        self.process(obj=prisoner)
        self.gender.data = prisoner.gender.value if prisoner.gender else ""
        self.status.data = prisoner.status.value
        for case, form_field in self.override_fields():
            form_field.data = (prisoner.name_overrides or {}).get(case, "")

    def to_data(self) -> PrisonerData:
        """The typed values as plain data for the services."""
        return PrisonerData(
            last_name=_text(self.last_name.data),
            first_name=_text(self.first_name.data),
            patronymic=_optional_text(self.patronymic.data),
            last_name_latin=_optional_text(self.last_name_latin.data),
            first_name_latin=_optional_text(self.first_name_latin.data),
            gender=Gender(self.gender.data) if self.gender.data else None,
            birth_date=self.birth_date.data,
            birth_year=self.birth_year.data,
            status=PrisonerStatus(self.status.data),
            case_summary=_text(self.case_summary.data),
            detained_on=self.detained_on.data,
            sentence=_text(self.sentence.data),
            languages=_text(self.languages.data),
            interests=_text(self.interests.data),
            notes_for_writers=_text(self.notes_for_writers.data),
            accepts_letters=bool(self.accepts_letters.data),
            source_url=_optional_text(self.source_url.data),
            name_overrides={
                case: _text(form_field.data)
                for case, form_field in self.override_fields()
                if _text(form_field.data)
            },
        )

    def placement_data(self) -> PlacementData:
        """The first placement chosen on creation."""
        choice = self.placement.data
        return PlacementData(
            facility_id=None if choice == TRANSIT else int(choice),
            since=self.placed_since.data,
        )


class TransferForm(FlaskForm):
    """A move to another facility, or into transit with whereabouts unknown."""

    destination = SelectField(
        _l("Moved to"),
        validators=[InputRequired(message=_l("Choose a facility, or “in transit”."))],
        validate_choice=True,
    )
    moved_on = _date_field(
        _l("On (or, in transit, since)"),
        required=True,
        description=_l("The day the person left the previous place, as far as it is known."),
    )
    status = SelectField(
        _l("Status in the new facility"),
        choices=[
            SelectChoice("", _l("By the kind of facility (detention centre: pretrial)")),
            SelectChoice(PrisonerStatus.PRETRIAL.value, PRISONER_STATUS[PrisonerStatus.PRETRIAL]),
            SelectChoice(
                PrisonerStatus.CONVICTED.value, PRISONER_STATUS[PrisonerStatus.CONVICTED]
            ),
        ],
        description=_l("Ignored for a move into transit."),
    )
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Length(max=1000)],
        description=_l("E.g. how the new place became known. Shown in the placement history."),
    )
    submit = SubmitField(_l("Record the transfer"))

    def __init__(self, *args: Any, facilities: list[Facility] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.destination.choices = [
            SelectChoice("", _l("— choose —")),
            SelectChoice(TRANSIT, _l("In transit, whereabouts unknown")),
            *(SelectChoice(str(f.id), facility_option(f)) for f in facilities or []),
        ]

    def to_data(self) -> PlacementData:
        """The move as plain data for the services."""
        in_transit = self.destination.data == TRANSIT
        status = self.status.data
        return PlacementData(
            facility_id=None if in_transit else int(self.destination.data),
            since=self.moved_on.data,
            status=None if in_transit or not status else PrisonerStatus(status),
            note=_text(self.note.data),
        )


class FacilityForm(FlaskForm):
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
            code=_text(self.code.data),
            name=_text(self.name.data),
            kind=FacilityKind(self.kind.data),
            region=_text(self.region.data),
            country=_text(self.country.data),
            postcode=_text(self.postcode.data),
            locality=_text(self.locality.data),
            street_address=_text(self.street_address.data),
            electronic_services=_text(self.electronic_services.data),
            mail_rules=_text(self.mail_rules.data),
            max_letter_pages=self.max_letter_pages.data,
            source_url=_optional_text(self.source_url.data),
        )


def _optional_int(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(str(value))


class OfficialForm(FlaskForm):
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
        coerce=_optional_int,
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
            position=_text(self.position.data),
            position_dative=_text(self.position_dative.data),
            organisation=_text(self.organisation.data),
            street_address=_text(self.street_address.data),
            locality=_text(self.locality.data),
            region=_text(self.region.data),
            postcode=_text(self.postcode.data),
            jurisdiction=Jurisdiction(self.jurisdiction.data),
            facility_id=self.facility_id.data,
            jurisdiction_region=_optional_text(self.jurisdiction_region.data),
            source_url=_optional_text(self.source_url.data),
        )


AUDIT_FIELD_LABELS = {
    "last_name": _l("Surname"),
    "first_name": _l("First name"),
    "patronymic": _l("Patronymic"),
    "last_name_latin": _l("Surname in Latin letters"),
    "first_name_latin": _l("First name in Latin letters"),
    "gender": _l("Gender"),
    "birth_date": _l("Date of birth"),
    "birth_year": _l("Year of birth"),
    "status": _l("Status"),
    "case_summary": _l("About the case"),
    "detained_on": _l("Detained on"),
    "sentence": _l("Sentence"),
    "languages": _l("Languages"),
    "interests": _l("Interests"),
    "notes_for_writers": _l("Notes for writers"),
    "accepts_letters": _l("Accepts letters"),
    "source_url": _l("Source"),
    "name_overrides": _l("Declined name forms"),
    "placement": _l("Placement"),
    "placed_since": _l("Placed since"),
    "facility_id": _l("Facility"),
    "in_transit": _l("In transit"),
    "moved_on": _l("Moved on"),
    "note": _l("Note"),
    "code": _l("Short code"),
    "name": _l("Full official name"),
    "kind": _l("Kind"),
    "region": _l("Region"),
    "country": _l("Country"),
    "postcode": _l("Postcode"),
    "locality": _l("Town or village"),
    "street_address": _l("Street address"),
    "electronic_services": _l("Electronic letter services"),
    "mail_rules": _l("Mail rules"),
    "max_letter_pages": _l("Page limit per letter"),
    "position": _l("Position"),
    "position_dative": _l("Position in the dative"),
    "organisation": _l("Organisation"),
    "jurisdiction": _l("Answers for"),
    "jurisdiction_region": _l("Region answered for"),
}
AUDIT_ACTIONS = {
    "create": _l("created"),
    "update": _l("edited"),
    "transfer": _l("transfer recorded"),
    "import": _l("imported"),
}
ENTITY_TYPE_LABELS = {
    "prisoner": _l("Prisoners"),
    "facility": _l("Facilities"),
    "official": _l("Officials"),
}


def today_iso() -> str:
    """Today as YYYY-MM-DD, the upper bound of date inputs."""
    return date.today().isoformat()
