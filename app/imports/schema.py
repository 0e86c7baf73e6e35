"""The columns of facility and prisoner files: what each accepts, and how records read back.

Every column turns a cell's text into a typed value (a "domain value": str, None, date, an enum
member, bool, int, a tuple of language codes). The same domain values are read back from a
record, so "unchanged" means equal domain values, and an export followed by an import of the
same file changes nothing.

Rules worth knowing (also shown on the import page):

- A cell left empty clears an optional field; a column missing from the file leaves the field
  as it is (so a file may carry only the columns it means to change, plus the required ones).
- Facility ``address`` is one line. When the file has a ``locality`` column, ``address`` is the
  street address as is and ``locality`` the locality. Without one, ``address`` is split at its
  commas: a first or last part that starts like a locality («г. Покров», «пос. Харп», «с. …»,
  «пгт …», «дер. …») becomes the locality, the rest the street address
  («ул. Ленина, д. 12, г. Покров» → «ул. Ленина, д. 12» + «г. Покров»); else it all goes into
  the street address and the locality stays empty.
- ``birth_date`` is YYYY-MM-DD (DD.MM.YYYY, as a spreadsheet may rewrite it, is read too) or a
  year alone. Dates that do not exist (2023-02-30) and dates in the future are refused.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from app.imports.parsing import FileLayout, quote
from app.models import Facility, FacilityKind, Prisoner, PrisonerStatus
from app.russian.names import Gender

FACILITY_COLUMNS = (
    "external_id",
    "code",
    "name",
    "kind",
    "region",
    "country",
    "postcode",
    "address",
    "locality",
    "source_url",
    "electronic_services",
    "mail_rules",
    "max_letter_pages",
)
PRISONER_COLUMNS = (
    "external_id",
    "last_name",
    "first_name",
    "patronymic",
    "gender",
    "birth_date",
    "status",
    "facility",
    "since",
    "accepts_letters",
    "source_url",
    "name_dative",
    "last_name_latin",
    "first_name_latin",
    "languages",
    "detained_on",
    "sentence",
    "case_summary",
    "interests",
    "notes_for_writers",
)
# A row is matched to a record by one of these, so every row needs one (re-imports change
# nothing only because rows find their records again).
MATCH_COLUMNS = ("external_id", "source_url")

FACILITY_LAYOUT = FileLayout(
    kind="facilities",
    columns=FACILITY_COLUMNS,
    required=(
        ("code",),
        ("name",),
        ("kind",),
        ("region",),
        ("postcode",),
        ("address",),
        MATCH_COLUMNS,
    ),
    aliases={"street_address": "address", "postal_code": "postcode", "zip": "postcode"},
    other_kinds=("prisoners",),
)
PRISONER_LAYOUT = FileLayout(
    kind="prisoners",
    columns=PRISONER_COLUMNS,
    required=(("last_name",), ("first_name",), ("status",), MATCH_COLUMNS),
    aliases={
        "latin_last_name": "last_name_latin",
        "latin_first_name": "first_name_latin",
        "facility_external_id": "facility",
        "facility_id": "facility",
    },
    other_kinds=("facilities",),
)

SYNTHETIC_ID = re.compile(r"^konvert-(facility|prisoner)-(\d+)$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
YEAR = re.compile(r"^\d{4}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
FOREIGN_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$")
_SPACES = re.compile(r"[ \t\u00a0]+")
_LOCALITY_START = re.compile(
    r"^(?:(?:г|гор|пгт|рп|р\.п|п|пос|с|дер|ст-ца|х|аул)\.?\s|"
    r"(?:город|посёлок|поселок|село|деревня|станица|хутор)\s)",
    re.IGNORECASE,
)
RUSSIA = frozenset({"ru", "rus", "russia", "россия", "рф", "российская федерация"})
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "да", "д"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "нет", "н"})
EARLIEST_BIRTH_YEAR = 1900


def synthetic_id(record: Facility | Prisoner) -> str:
    """The id an export writes for a record that has no external id: konvert-facility-12."""
    kind = "facility" if isinstance(record, Facility) else "prisoner"
    return f"konvert-{kind}-{record.id}"


def parse_synthetic_id(value: str, kind: str) -> int | None:
    """The primary key in a konvert-<kind>-<id> external id, else None."""
    match = SYNTHETIC_ID.match(value)
    if match and match.group(1) == kind:
        return int(match.group(2))
    return None


def clean_text(value: str | None, multiline: bool = False) -> str:
    """Stray whitespace removed: around the value, and runs of spaces inside one-line values."""
    if not value:
        return ""
    if multiline:
        lines = [line.rstrip() for line in value.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip()
    return _SPACES.sub(" ", " ".join(value.split())).strip()


def _fold(value: str) -> str:
    """A choice as typed, folded for lookup: case, ё, spaces and hyphens do not matter."""
    return re.sub(r"[\s\-]+", "_", value.strip().casefold().replace("ё", "е"))


def _choices(pairs: Mapping[str, Any]) -> dict[str, Any]:
    return {_fold(key): value for key, value in pairs.items()}


KIND_CHOICES = _choices(
    {
        **{kind.value: kind for kind in FacilityKind},
        "сизо": FacilityKind.PRETRIAL,
        "ик": FacilityKind.COLONY,
        "колония": FacilityKind.COLONY,
        "исправительная колония": FacilityKind.COLONY,
        "тюрьма": FacilityKind.PRISON,
        "кп": FacilityKind.SETTLEMENT,
        "колония-поселение": FacilityKind.SETTLEMENT,
        "лиу": FacilityKind.HOSPITAL,
        "больница": FacilityKind.HOSPITAL,
        "другое": FacilityKind.OTHER,
    }
)
STATUS_CHOICES = _choices(
    {
        **{status.value: status for status in PrisonerStatus},
        "in transit": PrisonerStatus.IN_TRANSIT,
        "сизо": PrisonerStatus.PRETRIAL,
        "под стражей": PrisonerStatus.PRETRIAL,
        "осужден": PrisonerStatus.CONVICTED,
        "осуждена": PrisonerStatus.CONVICTED,
        "этап": PrisonerStatus.IN_TRANSIT,
        "на этапе": PrisonerStatus.IN_TRANSIT,
        "освобожден": PrisonerStatus.RELEASED,
        "освобождена": PrisonerStatus.RELEASED,
        "умер": PrisonerStatus.DECEASED,
        "умерла": PrisonerStatus.DECEASED,
    }
)
GENDER_CHOICES = _choices(
    {
        "m": Gender.MALE,
        "f": Gender.FEMALE,
        "male": Gender.MALE,
        "female": Gender.FEMALE,
        "м": Gender.MALE,
        "ж": Gender.FEMALE,
        "муж": Gender.MALE,
        "жен": Gender.FEMALE,
        "мужской": Gender.MALE,
        "женский": Gender.FEMALE,
    }
)


def split_address(address: str) -> tuple[str, str]:
    """(street address, locality) from one free-text line; see the module's docstring."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if len(parts) >= 2:
        if _LOCALITY_START.match(parts[-1]):
            return ", ".join(parts[:-1]), parts[-1]
        if _LOCALITY_START.match(parts[0]):
            return ", ".join(parts[1:]), parts[0]
    return ", ".join(parts), ""


def max_length(model: type[Facility] | type[Prisoner], attribute: str) -> int | None:
    """The length limit of a string column, from the model."""
    column = model.__table__.columns[attribute]
    return getattr(column.type, "length", None)


class Invalid(Exception):
    """One cell's value cannot be used; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RowChecker:
    """Turns one row's cells into domain values, collecting every problem with its column.

    ``values`` gets an entry only for the columns the row has.
    """

    cells: Mapping[str, str]
    today: date

    def __post_init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.problems: list[str] = []

    def fail(self, column: str, message: str) -> None:
        """Record a problem with one column."""
        self.problems.append(f"{column}: {message}")

    def has(self, column: str) -> bool:
        """Whether the row has the column at all (it may still be empty)."""
        return column in self.cells

    def take(
        self,
        column: str,
        convert: Callable[[str], Any],
        *,
        required: bool = False,
        empty: Any = None,
    ) -> None:
        """Convert the cell when present; an empty cell gives ``empty`` unless required."""
        if column not in self.cells:
            if required:
                self.fail(column, _("is required"))
            return
        raw = self.cells[column].strip()
        if not raw:
            if required:
                self.fail(column, _("is required"))
            else:
                self.values[column] = empty
            return
        try:
            self.values[column] = convert(raw)
        except Invalid as error:
            self.fail(column, error.message)

    def text(
        self,
        column: str,
        limit: int | None,
        *,
        required: bool = False,
        multiline: bool = False,
        empty: str | None = "",
    ) -> None:
        """Free text, whitespace cleaned, at most ``limit`` characters."""

        def convert(raw: str) -> str:
            value = clean_text(raw, multiline)
            if limit is not None and len(value) > limit:
                raise Invalid(
                    _(
                        "is too long: %(length)d characters, at most %(limit)d",
                        length=len(value),
                        limit=limit,
                    )
                )
            return value

        self.take(column, convert, required=required, empty=empty)

    def choice(self, column: str, choices: Mapping[str, Any], *, required: bool = False) -> None:
        """One of a fixed set of values (aliases allowed)."""
        names = sorted({member.value for member in choices.values()})

        def convert(raw: str) -> Any:
            try:
                return choices[_fold(raw)]
            except KeyError:
                raise Invalid(
                    _(
                        "%(value)s is not one of: %(choices)s",
                        value=quote(raw),
                        choices=", ".join(names),
                    )
                ) from None

        self.take(column, convert, required=required)

    def date(self, column: str) -> None:
        """A date that exists and is not in the future."""
        self.take(column, self._date)

    def _date(self, raw: str) -> date:
        found = parse_date(raw)
        if found > self.today:
            raise Invalid(_("%(value)s is in the future", value=quote(raw)))
        return found

    def birth(self, column: str) -> None:
        """A full date of birth or a year alone."""

        def convert(raw: str) -> date | int:
            if YEAR.match(raw):
                year = int(raw)
                if not EARLIEST_BIRTH_YEAR <= year <= self.today.year:
                    raise Invalid(
                        _(
                            "%(value)s is not a possible year of birth",
                            value=quote(raw),
                        )
                    )
                return year
            found = self._date(raw)
            if found.year < EARLIEST_BIRTH_YEAR:
                raise Invalid(_("%(value)s is not a possible date of birth", value=quote(raw)))
            return found

        self.take(column, convert)

    def boolean(self, column: str, empty: bool) -> None:
        """yes/no, true/false, 1/0, да/нет."""

        def convert(raw: str) -> bool:
            word = raw.casefold()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise Invalid(_("%(value)s is not yes or no", value=quote(raw)))

        self.take(column, convert, empty=empty)

    def url(self, column: str, limit: int | None) -> None:
        """An http or https address."""

        def convert(raw: str) -> str:
            parts = urlsplit(raw)
            if parts.scheme not in ("http", "https") or not parts.netloc or " " in raw:
                raise Invalid(
                    _("%(value)s is not a web address (http:// or https://)", value=quote(raw))
                )
            if limit is not None and len(raw) > limit:
                raise Invalid(_("is too long: at most %(limit)d characters", limit=limit))
            return raw

        self.take(column, convert)

    def integer(self, column: str, low: int, high: int) -> None:
        """A whole number between ``low`` and ``high``."""

        def convert(raw: str) -> int:
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise Invalid(
                    _(
                        "%(value)s is not a whole number from %(low)d to %(high)d",
                        value=quote(raw),
                        low=low,
                        high=high,
                    )
                )
            return int(raw)

        self.take(column, convert)

    def external_id(self, model: type[Facility] | type[Prisoner]) -> None:
        """The id a row is matched on; never cleared by an empty cell."""
        self.text("external_id", max_length(model, "external_id"), empty=None)
        if self.values.get("external_id") is None:
            self.values.pop("external_id", None)


def parse_date(raw: str) -> date:
    """YYYY-MM-DD (or DD.MM.YYYY); Invalid for text that is not a date or a day that is not."""
    if match := ISO_DATE.match(raw):
        year, month, day = (int(part) for part in match.groups())
    elif match := DOTTED_DATE.match(raw):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise Invalid(_("%(value)s is not a date; write it as YYYY-MM-DD", value=quote(raw)))
    try:
        return date(year, month, day)
    except ValueError:
        raise Invalid(_("%(value)s is not a real date", value=quote(raw))) from None


def check_facility(cells: Mapping[str, str], today: date, has_locality: bool) -> RowChecker:
    """Check one facility row; ``has_locality`` says whether the file has a locality column."""
    row = RowChecker(cells, today)
    row.external_id(Facility)
    row.text("code", max_length(Facility, "code"), required=True)
    row.text("name", max_length(Facility, "name"), required=True)
    row.choice("kind", KIND_CHOICES, required=True)
    row.text("region", max_length(Facility, "region"), required=True)
    row.take("country", _country, empty="RU")
    row.take("postcode", str, required=True)
    row.text("address", max_length(Facility, "street_address"), required=True)
    if has_locality:
        row.text("locality", max_length(Facility, "locality"))
    elif "address" in row.values:
        street, locality = split_address(row.values["address"])
        row.values["address"] = street
        row.values["locality"] = locality
    row.url("source_url", max_length(Facility, "source_url"))
    row.text("electronic_services", max_length(Facility, "electronic_services"))
    row.text("mail_rules", None, multiline=True)
    row.integer("max_letter_pages", 1, 100)
    _check_postcode(row)
    return row


def _country(raw: str) -> str:
    if raw.casefold() in RUSSIA:
        return "RU"
    if COUNTRY_CODE.match(raw):
        return raw.upper()
    raise Invalid(
        _("%(value)s is not a two-letter country code such as RU or BY", value=quote(raw))
    )


def _check_postcode(row: RowChecker) -> None:
    raw = row.values.get("postcode")
    if raw is None:
        return
    country = row.values.get("country", "RU")
    compact = raw.replace(" ", "")
    if country == "RU":
        if not (compact.isdigit() and len(compact) == 6):
            row.values.pop("postcode")
            row.fail("postcode", _("%(value)s is not 6 digits", value=quote(raw)))
            return
        row.values["postcode"] = compact
    elif not FOREIGN_POSTCODE.match(raw):
        row.values.pop("postcode")
        row.fail("postcode", _("%(value)s is not a postcode", value=quote(raw)))


def _languages(raw: str) -> tuple[str, ...]:
    codes: list[str] = []
    for code in re.split(r"[,;\s]+", raw.lower()):
        if not code:
            continue
        if not LANGUAGE_CODE.match(code):
            raise Invalid(
                _(
                    "%(value)s is not a language code such as ru or en (comma-separated)",
                    value=quote(code),
                )
            )
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def check_prisoner(cells: Mapping[str, str], today: date) -> RowChecker:
    """Check one prisoner row (the facility reference is resolved by the caller)."""
    row = RowChecker(cells, today)
    row.external_id(Prisoner)
    name_limit = max_length(Prisoner, "last_name")
    row.text("last_name", name_limit, required=True)
    row.text("first_name", name_limit, required=True)
    row.text("patronymic", max_length(Prisoner, "patronymic"), empty=None)
    row.choice("gender", GENDER_CHOICES)
    row.birth("birth_date")
    row.choice("status", STATUS_CHOICES, required=True)
    row.text("facility", max_length(Facility, "external_id"), empty=None)
    row.date("since")
    row.boolean("accepts_letters", empty=True)
    row.url("source_url", max_length(Prisoner, "source_url"))
    row.text("name_dative", 300, empty=None)
    row.text("last_name_latin", max_length(Prisoner, "last_name_latin"), empty=None)
    row.text("first_name_latin", max_length(Prisoner, "first_name_latin"), empty=None)
    row.take("languages", _languages, empty=("ru",))
    if row.values.get("languages") == ():
        row.values["languages"] = ("ru",)
    row.date("detained_on")
    row.text("sentence", max_length(Prisoner, "sentence"))
    row.text("case_summary", None, multiline=True)
    row.text("interests", None, multiline=True)
    row.text("notes_for_writers", None, multiline=True)
    if row.has("facility") != row.has("since"):
        row.fail(
            "since" if row.has("facility") else "facility",
            _("is missing: “facility” and “since” go together"),
        )
    _check_prisoner_dates(row)
    return row


def _check_prisoner_dates(row: RowChecker) -> None:
    birth = row.values.get("birth_date")
    born_on = birth if isinstance(birth, date) else date(birth, 1, 1) if birth else None
    if born_on is None:
        return
    for column in ("detained_on", "since"):
        value = row.values.get(column)
        if isinstance(value, date) and value < born_on:
            row.values.pop(column)
            row.fail(
                column,
                _(
                    "%(value)s is before the date of birth",
                    value=quote(value.isoformat()),
                ),
            )


# Reading records back as domain values -------------------------------------------------------


def facility_values(facility: Facility) -> dict[str, Any]:
    """A facility as the domain values of the import columns."""
    return {
        "external_id": facility.external_id or synthetic_id(facility),
        "code": clean_text(facility.code),
        "name": clean_text(facility.name),
        "kind": facility.kind,
        "region": clean_text(facility.region),
        "country": facility.country or "RU",
        "postcode": facility.postcode,
        "address": clean_text(facility.street_address),
        "locality": clean_text(facility.locality),
        "source_url": facility.source_url or None,
        "electronic_services": clean_text(facility.electronic_services),
        "mail_rules": clean_text(facility.mail_rules, multiline=True),
        "max_letter_pages": facility.max_letter_pages,
    }


def prisoner_values(prisoner: Prisoner) -> dict[str, Any]:
    """A prisoner as the domain values of the import columns (facility as its file id)."""
    placement = prisoner.current_placement
    facility = placement.facility if placement else None
    languages = tuple(code.lower() for code in prisoner.language_list) or ("ru",)
    return {
        "external_id": prisoner.external_id or synthetic_id(prisoner),
        "last_name": clean_text(prisoner.last_name),
        "first_name": clean_text(prisoner.first_name),
        "patronymic": clean_text(prisoner.patronymic) or None,
        "gender": prisoner.gender,
        "birth_date": prisoner.birth_date or prisoner.birth_year,
        "status": prisoner.status,
        "facility": (facility.external_id or synthetic_id(facility)) if facility else None,
        "since": placement.started_on if placement else None,
        "accepts_letters": prisoner.accepts_letters,
        "source_url": prisoner.source_url or None,
        "name_dative": (prisoner.name_overrides or {}).get("dative") or None,
        "last_name_latin": clean_text(prisoner.last_name_latin) or None,
        "first_name_latin": clean_text(prisoner.first_name_latin) or None,
        "languages": languages,
        "detained_on": prisoner.detained_on,
        "sentence": clean_text(prisoner.sentence),
        "case_summary": clean_text(prisoner.case_summary, multiline=True),
        "interests": clean_text(prisoner.interests, multiline=True),
        "notes_for_writers": clean_text(prisoner.notes_for_writers, multiline=True),
    }


def as_text(value: Any) -> str:
    """A domain value as a CSV cell (and as shown in reports)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def as_json(value: Any) -> Any:
    """A domain value as a JSON value: booleans and numbers stay typed, the rest is text."""
    if isinstance(value, bool | int) or value is None:
        return value
    return as_text(value)
