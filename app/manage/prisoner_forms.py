"""The forms for a prisoner's data (with the first placement on creation) and for a transfer."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired, Length, Optional

from app.forms import Form
from app.labels import PRISONER_STATUS
from app.manage.forms import date_field, facility_option, optional_text, text
from app.manage.prisoners import OVERRIDE_CASES, PlacementData, PrisonerData
from app.models import Facility, Prisoner, PrisonerStatus
from app.russian.names import Gender

TRANSIT = "transit"
CASE_LABELS = {
    "genitive": _l("Genitive (кого?)"),
    "dative": _l("Dative (кому?) — on the envelope"),
    "accusative": _l("Accusative (кого?)"),
    "instrumental": _l("Instrumental (кем?)"),
    "prepositional": _l("Prepositional (о ком?)"),
}


class PrisonerForm(Form):
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
    birth_date = date_field(_l("Date of birth"))
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
    detained_on = date_field(_l("Detained on"))
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
    placed_since = date_field(_l("Since"))
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
            last_name=text(self.last_name.data),
            first_name=text(self.first_name.data),
            patronymic=optional_text(self.patronymic.data),
            last_name_latin=optional_text(self.last_name_latin.data),
            first_name_latin=optional_text(self.first_name_latin.data),
            gender=Gender(self.gender.data) if self.gender.data else None,
            birth_date=self.birth_date.data,
            birth_year=self.birth_year.data,
            status=PrisonerStatus(self.status.data),
            case_summary=text(self.case_summary.data),
            detained_on=self.detained_on.data,
            sentence=text(self.sentence.data),
            languages=text(self.languages.data),
            interests=text(self.interests.data),
            notes_for_writers=text(self.notes_for_writers.data),
            accepts_letters=bool(self.accepts_letters.data),
            source_url=optional_text(self.source_url.data),
            name_overrides={
                case: text(form_field.data)
                for case, form_field in self.override_fields()
                if text(form_field.data)
            },
        )

    def placement_data(self) -> PlacementData:
        """The first placement chosen on creation."""
        choice = self.placement.data
        return PlacementData(
            facility_id=None if choice == TRANSIT else int(choice),
            since=self.placed_since.data,
        )


class TransferForm(Form):
    """A move to another facility, or into transit with whereabouts unknown."""

    destination = SelectField(
        _l("Moved to"),
        validators=[InputRequired(message=_l("Choose a facility, or “in transit”."))],
        validate_choice=True,
    )
    moved_on = date_field(
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
            note=text(self.note.data),
        )
