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

How one cell becomes a domain value (texts, choices, dates, yes/no…) is app.imports.cells.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _

from app.imports.cells import CellRejected, RowChecker, choice_table, clean_text, max_length
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
KINDS = ("facilities", "prisoners")
LAYOUTS = {"facilities": FACILITY_LAYOUT, "prisoners": PRISONER_LAYOUT}

SYNTHETIC_ID = re.compile(r"^konvert-(facility|prisoner)-(\d+)$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
FOREIGN_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$")
_LOCALITY_START = re.compile(
    r"^(?:(?:г|гор|пгт|рп|р\.п|п|пос|с|дер|ст-ца|х|аул)\.?\s|"
    r"(?:город|посёлок|поселок|село|деревня|станица|хутор)\s)",
    re.IGNORECASE,
)
RUSSIA = frozenset({"ru", "rus", "russia", "россия", "рф", "российская федерация"})


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


KIND_CHOICES = choice_table(
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
STATUS_CHOICES = choice_table(
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
GENDER_CHOICES = choice_table(
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
    raise CellRejected(
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
            raise CellRejected(
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
