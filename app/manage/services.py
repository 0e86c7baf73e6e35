"""Keeping prisoners, facilities and officials current: edits, transfers and the audit trail.

Every function takes the acting user and checks that they are an organizer first. Changes are
added to the session together with their audit entries; the caller commits once.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.auth.permissions import require_organizer
from app.directory.services import PrisonerFilters, PrisonerPage, search_prisoners
from app.domain import Page
from app.extensions import db
from app.mail.services import notify_followers_of_transfer
from app.manage import audit
from app.models import (
    AuditEntry,
    Facility,
    FacilityKind,
    Jurisdiction,
    Official,
    OfficialKind,
    Placement,
    Prisoner,
    PrisonerStatus,
    User,
)
from app.russian.names import Case, Gender, PersonName, decline, infer_gender

Actor = User | AnonymousUserMixin | None
AuditedRecord = TypeVar("AuditedRecord", Facility, Official)

# The forms a person may correct by hand; the nominative is the name as typed.
OVERRIDE_CASES = (
    Case.GENITIVE,
    Case.DATIVE,
    Case.ACCUSATIVE,
    Case.INSTRUMENTAL,
    Case.PREPOSITIONAL,
)
PLACED_STATUSES = frozenset({PrisonerStatus.PRETRIAL, PrisonerStatus.CONVICTED})
ENTITY_TYPES = ("prisoner", "facility", "official")
EARLIEST_BIRTH_YEAR = 1900
AUDIT_PER_PAGE = 50
HISTORY_LIMIT = 20
LIST_PER_PAGE = 100
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
_RU_POSTCODE = re.compile(r"^\d{6}$")


class Invalid(ValueError):
    """Input that cannot be saved: {form field: message}, every problem found at once."""

    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__("; ".join(f"{key}: {value}" for key, value in errors.items()))
        self.errors = {key: str(value) for key, value in errors.items()}


# --- plain data passed from the forms ------------------------------------------------------


@dataclass
class PrisonerData:
    """A prisoner's editable fields, as typed (strings stripped, empty optional ones None)."""

    last_name: str
    first_name: str
    patronymic: str | None = None
    last_name_latin: str | None = None
    first_name_latin: str | None = None
    gender: Gender | None = None
    birth_date: date | None = None
    birth_year: int | None = None
    status: PrisonerStatus = PrisonerStatus.CONVICTED
    case_summary: str = ""
    detained_on: date | None = None
    sentence: str = ""
    languages: str = "ru"
    interests: str = ""
    notes_for_writers: str = ""
    accepts_letters: bool = True
    source_url: str | None = None
    name_overrides: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlacementData:
    """Where someone is from a date on: a facility, or in transit when ``facility_id`` is None."""

    facility_id: int | None
    since: date | None
    # For a move into a facility: PRETRIAL or CONVICTED; None decides by the facility's kind.
    status: PrisonerStatus | None = None
    note: str = ""


@dataclass
class FacilityData:
    """A facility's editable fields."""

    code: str
    name: str
    kind: FacilityKind
    region: str
    postcode: str
    locality: str
    street_address: str
    country: str = "RU"
    electronic_services: str = ""
    mail_rules: str = ""
    max_letter_pages: int | None = None
    source_url: str | None = None


@dataclass
class OfficialData:
    """An official's editable fields."""

    kind: OfficialKind
    position: str
    position_dative: str
    organisation: str
    street_address: str
    locality: str
    region: str
    postcode: str
    jurisdiction: Jurisdiction
    facility_id: int | None = None
    jurisdiction_region: str | None = None
    source_url: str | None = None


# --- shared checks --------------------------------------------------------------------------


def _url_problem(url: str | None) -> object | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return _l("Give a web address starting with http:// or https://.")
    return None


def _future(value: date | None, today: date) -> bool:
    return value is not None and value > today


def normalize_languages(value: str) -> str:
    """«RU, en» → «ru,en»: lower case, no spaces, no repeats, in the order typed."""
    codes: list[str] = []
    for part in value.split(","):
        code = part.strip().lower()
        if code and code not in codes:
            codes.append(code)
    return ",".join(codes)


def _audit_changes(instance: object, creating: bool = False) -> dict[str, list[Any]]:
    """The instance's changed columns; for a new record, only the fields given a value."""
    changes = audit.changed_fields(instance)
    if creating:
        changes = {
            key: values for key, values in changes.items() if values[1] not in (None, "", {}, [])
        }
    return changes


def _assign(instance: object, data: object) -> None:
    for item in fields(data):  # type: ignore[arg-type]
        setattr(instance, item.name, getattr(data, item.name))


# --- prisoners ------------------------------------------------------------------------------


def computed_name_forms(
    last_name: str, first_name: str, patronymic: str | None, gender: Gender | None
) -> dict[str, str]:
    """The declined full name in each overridable case, as the rules give it (no overrides)."""
    if not last_name.strip() or not first_name.strip():
        return {}
    name = PersonName(
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        patronymic=(patronymic or "").strip() or None,
        gender=gender,
    )
    return {case.value: decline(name, case) for case in OVERRIDE_CASES}


def inferred_gender(first_name: str, patronymic: str | None) -> Gender | None:
    """The gender the declension will use when none is set."""
    return infer_gender(first_name or "", patronymic)


def _check_prisoner(data: PrisonerData, today: date) -> dict[str, object]:
    errors: dict[str, object] = {}
    if not data.last_name.strip():
        errors["last_name"] = _l("Give the surname.")
    if not data.first_name.strip():
        errors["first_name"] = _l("Give the first name.")
    if data.birth_date is not None:
        if data.birth_date > today:
            errors["birth_date"] = _l("The date of birth is in the future.")
        elif data.birth_date.year < EARLIEST_BIRTH_YEAR:
            errors["birth_date"] = _l(
                "A date of birth before %(year)d cannot be right.", year=EARLIEST_BIRTH_YEAR
            )
    if data.birth_year is not None:
        if not EARLIEST_BIRTH_YEAR <= data.birth_year <= today.year:
            errors["birth_year"] = _l(
                "The year of birth must be between %(first)d and %(last)d.",
                first=EARLIEST_BIRTH_YEAR,
                last=today.year,
            )
        elif data.birth_date is not None and data.birth_date.year != data.birth_year:
            errors["birth_year"] = _l(
                "The year of birth does not match the date of birth (%(year)d).",
                year=data.birth_date.year,
            )
    if data.detained_on is not None:
        if data.detained_on > today:
            errors["detained_on"] = _l("The date of detention is in the future.")
        elif data.birth_date is not None and data.detained_on < data.birth_date:
            errors["detained_on"] = _l("The date of detention is before the date of birth.")
        elif data.birth_year is not None and data.detained_on.year < data.birth_year:
            errors["detained_on"] = _l("The date of detention is before the year of birth.")
    languages = normalize_languages(data.languages)
    if not languages:
        errors["languages"] = _l("Give at least one language, e.g. “ru”.")
    elif not all(_LANGUAGE_CODE.match(code) for code in languages.split(",")):
        errors["languages"] = _l(
            "Use two-letter language codes separated by commas, e.g. “ru, en”."
        )
    if problem := _url_problem(data.source_url):
        errors["source_url"] = problem
    unknown = set(data.name_overrides) - {case.value for case in OVERRIDE_CASES}
    if unknown:
        errors["name_overrides"] = _l("Unknown grammatical case: %(cases)s.", cases=unknown)
    return errors


def _clean_prisoner(data: PrisonerData) -> PrisonerData:
    data.languages = normalize_languages(data.languages)
    data.name_overrides = {
        key: value.strip() for key, value in data.name_overrides.items() if value and value.strip()
    }
    return data


def _check_status_against_placement(
    status: PrisonerStatus, in_transit: bool | None
) -> object | None:
    """A status that contradicts where the person is (None: no placement known)."""
    if in_transit is None:
        return None
    if in_transit and status in PLACED_STATUSES:
        return _l(
            "This person is in transit. Record the new facility with a transfer; the status "
            "changes with it."
        )
    if not in_transit and status is PrisonerStatus.IN_TRANSIT:
        return _l(
            "To record that this person is in transit, use “Record a transfer”: it keeps the "
            "date and the placement history."
        )
    return None


def _placement_label(facility: Facility | None) -> str | None:
    return f"{facility.code} — {facility.name}" if facility else None


def get_prisoner(actor: Actor, prisoner_id: int) -> Prisoner | None:
    """A prisoner by id, for editing."""
    require_organizer(actor)
    return db.session.get(Prisoner, prisoner_id)


def list_prisoners(actor: Actor, query: str, page: int, per_page: int) -> PrisonerPage:
    """Prisoners matching a name search (Cyrillic or Latin), by name."""
    require_organizer(actor)
    return search_prisoners(PrisonerFilters(query=query, sort="name"), page, per_page)


def _get_facility_or_error(facility_id: int, field_name: str) -> Facility:
    facility = db.session.get(Facility, facility_id)
    if facility is None:
        raise Invalid({field_name: _l("This facility does not exist any more.")})
    return facility


def create_prisoner(
    actor: Actor, data: PrisonerData, placement: PlacementData, today: date | None = None
) -> Prisoner:
    """A new prisoner with their first placement (a facility or in transit) and an audit entry."""
    user = require_organizer(actor)
    today = today or date.today()
    errors = _check_prisoner(data, today)
    facility = None
    if placement.facility_id is not None:
        facility = db.session.get(Facility, placement.facility_id)
        if facility is None:
            errors["placement"] = _l("This facility does not exist any more.")
    if placement.since is None:
        errors["placed_since"] = _l("Give the date since when this person is there.")
    elif placement.since > today:
        errors["placed_since"] = _l("This date is in the future.")
    elif data.birth_date is not None and placement.since < data.birth_date:
        errors["placed_since"] = _l("This date is before the date of birth.")
    status_problem = _check_status_against_placement(data.status, placement.facility_id is None)
    if status_problem and "status" not in errors:
        errors["status"] = status_problem
    if errors:
        raise Invalid(errors)
    data = _clean_prisoner(data)
    prisoner = Prisoner()
    _assign(prisoner, data)
    prisoner.placements.append(
        Placement(facility=facility, started_on=placement.since, note=placement.note)
    )
    changes = _audit_changes(prisoner, creating=True)
    changes["placement"] = [None, _placement_label(facility)]
    changes["placed_since"] = [None, placement.since.isoformat()]  # type: ignore[union-attr]
    db.session.add(prisoner)
    db.session.flush()
    audit.record(user, "create", "prisoner", prisoner.id, changes)
    return prisoner


def update_prisoner(
    actor: Actor, prisoner: Prisoner, data: PrisonerData, today: date | None = None
) -> dict[str, list[Any]]:
    """Save edits to a prisoner and audit what changed; returns the changes (maybe none)."""
    user = require_organizer(actor)
    today = today or date.today()
    errors = _check_prisoner(data, today)
    current = prisoner.current_placement  # loaded before any attribute is touched
    in_transit = None if current is None else current.in_transit
    if "status" not in errors and data.status != prisoner.status:
        problem = _check_status_against_placement(data.status, in_transit)
        if problem:
            errors["status"] = problem
    first_start = min((p.started_on for p in prisoner.placements), default=None)
    if (
        "birth_date" not in errors
        and data.birth_date is not None
        and first_start is not None
        and first_start < data.birth_date
    ):
        errors["birth_date"] = _l(
            "The placement history starts on %(date)s, before this date of birth.",
            date=format_date(first_start),
        )
    if errors:
        raise Invalid(errors)
    _assign(prisoner, _clean_prisoner(data))
    # Computed before anything can flush, while the attribute history still holds old values.
    changes = _audit_changes(prisoner)
    if changes:
        audit.record(user, "update", "prisoner", prisoner.id, changes)
    return changes


def default_status_for(facility: Facility) -> PrisonerStatus:
    """The usual status in a facility: pretrial in a detention centre, otherwise convicted."""
    return (
        PrisonerStatus.PRETRIAL
        if facility.kind is FacilityKind.PRETRIAL
        else (PrisonerStatus.CONVICTED)
    )


def transfer_prisoner(
    actor: Actor, prisoner: Prisoner, move: PlacementData, today: date | None = None
) -> Placement:
    """Close the open placement on the date of the move and open the next one.

    A move into a facility sets the status to pretrial or convicted (as asked, else by the
    facility's kind); a move "in transit" sets it to in transit. Letters keep the facility
    they were addressed to: statistics attribute them to where they were sent.
    """
    user = require_organizer(actor)
    today = today or date.today()
    current = prisoner.current_placement
    facility = None
    if move.facility_id is not None:
        facility = _get_facility_or_error(move.facility_id, "destination")
    errors: dict[str, object] = {}
    if move.since is None:
        errors["moved_on"] = _l("Give the date of the move.")
    elif move.since > today:
        errors["moved_on"] = _l("This date is in the future.")
    elif current is not None and move.since < current.started_on:
        errors["moved_on"] = _l(
            "The current placement started on %(date)s; the move cannot be earlier.",
            date=format_date(current.started_on),
        )
    elif current is None:
        last_end = max((p.ended_on for p in prisoner.placements if p.ended_on), default=None)
        if last_end is not None and move.since < last_end:
            errors["moved_on"] = _l(
                "The last placement ended on %(date)s; the move cannot be earlier.",
                date=format_date(last_end),
            )
    if current is not None:
        if facility is None and current.in_transit:
            errors["destination"] = _l("This person is already recorded as in transit.")
        elif facility is not None and current.facility_id == facility.id:
            errors["destination"] = _l("This person is already recorded in this facility.")
    if facility is None and move.status is not None:
        errors["status"] = _l("The status for a move in transit is always “in transit”.")
    elif move.status is not None and move.status not in PLACED_STATUSES:
        errors["status"] = _l("Choose pretrial detention or convicted.")
    if errors:
        raise Invalid(errors)
    assert move.since is not None  # checked above

    old_facility_id = current.facility_id if current else None
    old_in_transit = current.in_transit if current else None
    if current is not None:
        current.ended_on = move.since
    placement = Placement(facility=facility, started_on=move.since, note=move.note)
    prisoner.placements.insert(0, placement)
    if facility is None:
        prisoner.status = PrisonerStatus.IN_TRANSIT
    else:
        prisoner.status = move.status or default_status_for(facility)
    changes = {
        key: value for key, value in audit.changed_fields(prisoner).items() if key == "status"
    }
    changes["facility_id"] = [old_facility_id, facility.id if facility else None]
    changes["in_transit"] = [old_in_transit, facility is None]
    changes["moved_on"] = [None, move.since.isoformat()]
    if move.note:
        changes["note"] = [None, move.note]
    # The old placement is closed first, so the one-open-placement index is never violated.
    db.session.flush()
    audit.record(user, "transfer", "prisoner", prisoner.id, changes)
    notify_followers_of_transfer(prisoner)
    return placement


# --- facilities -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FacilityRow:
    """One line of the facility list."""

    facility: Facility
    prisoners: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_facilities(actor: Actor, query: str = "", page: int = 1) -> Page:
    """Facilities by region and code, with how many prisoners are there now."""
    require_organizer(actor)
    here = (
        select(Placement.facility_id, func.count(Placement.id).label("here"))
        .where(Placement.ended_on.is_(None), Placement.facility_id.is_not(None))
        .group_by(Placement.facility_id)
        .subquery()
    )
    statement = select(Facility, func.coalesce(here.c.here, 0)).outerjoin(
        here, here.c.facility_id == Facility.id
    )
    if query.strip():
        pattern = _like(query.strip())
        statement = statement.where(
            Facility.code.like(pattern, escape="\\")
            | Facility.name.like(pattern, escape="\\")
            | Facility.region.like(pattern, escape="\\")
            | Facility.locality.like(pattern, escape="\\")
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    result = db.session.execute(
        statement.order_by(Facility.region, Facility.code, Facility.id)
        .limit(LIST_PER_PAGE)
        .offset((page - 1) * LIST_PER_PAGE)
    )
    rows = [FacilityRow(facility, int(count)) for facility, count in result]
    return Page(rows=rows, page=page, per_page=LIST_PER_PAGE, total=total)


def facility_choices(actor: Actor) -> list[Facility]:
    """All facilities for a select box, by region and code."""
    require_organizer(actor)
    return list(
        db.session.scalars(select(Facility).order_by(Facility.region, Facility.code, Facility.id))
    )


def known_regions(actor: Actor) -> list[str]:
    """Regions already used by facilities or officials, to suggest while typing."""
    require_organizer(actor)
    regions = set(db.session.scalars(select(Facility.region).distinct()))
    regions |= set(db.session.scalars(select(Official.region).distinct()))
    return sorted(region for region in regions if region)


def get_facility(actor: Actor, facility_id: int) -> Facility | None:
    """A facility by id, for editing."""
    require_organizer(actor)
    return db.session.get(Facility, facility_id)


def prisoners_in(actor: Actor, facility: Facility) -> list[Prisoner]:
    """Prisoners whose open placement is this facility, by name."""
    require_organizer(actor)
    return list(
        db.session.scalars(
            select(Prisoner)
            .join(Placement, Placement.prisoner_id == Prisoner.id)
            .where(Placement.facility_id == facility.id, Placement.ended_on.is_(None))
            .order_by(Prisoner.last_name, Prisoner.first_name, Prisoner.id)
        )
    )


def _clean_facility(data: FacilityData) -> FacilityData:
    data.country = data.country.strip().upper() or "RU"
    data.postcode = data.postcode.replace(" ", "")
    data.electronic_services = ", ".join(
        part.strip() for part in data.electronic_services.split(",") if part.strip()
    )
    return data


def _check_facility(data: FacilityData) -> dict[str, object]:
    errors: dict[str, object] = {}
    for name, message in (
        ("code", _l("Give the short code, e.g. ИК-6.")),
        ("name", _l("Give the full official name.")),
        ("region", _l("Give the region.")),
        ("locality", _l("Give the town or village.")),
        ("street_address", _l("Give the street address.")),
    ):
        if not getattr(data, name).strip():
            errors[name] = message
    if not re.fullmatch(r"[A-Z]{2}", data.country):
        errors["country"] = _l("Use the two-letter country code, e.g. RU.")
    if data.country == "RU" and not _RU_POSTCODE.match(data.postcode):
        errors["postcode"] = _l("A Russian postcode has exactly 6 digits.")
    elif not data.postcode:
        errors["postcode"] = _l("Give the postcode.")
    if data.max_letter_pages is not None and not 1 <= data.max_letter_pages <= 100:
        errors["max_letter_pages"] = _l("Give a number of pages from 1 to 100, or leave it empty.")
    if problem := _url_problem(data.source_url):
        errors["source_url"] = problem
    return errors


def _create_audited(user: User, record: AuditedRecord, data: Any, kind: str) -> AuditedRecord:
    """Fill a new record from ``data``, add it and audit every field it was given."""
    _assign(record, data)
    changes = _audit_changes(record, creating=True)
    db.session.add(record)
    db.session.flush()
    audit.record(user, "create", kind, record.id, changes)
    return record


def _update_audited(
    user: User, record: Facility | Official, data: Any, kind: str
) -> dict[str, list[Any]]:
    """Apply ``data`` to a record and audit what changed; returns the changes."""
    _assign(record, data)
    changes = _audit_changes(record)
    if changes:
        audit.record(user, "update", kind, record.id, changes)
    return changes


def create_facility(actor: Actor, data: FacilityData) -> Facility:
    """A new facility, audited."""
    user = require_organizer(actor)
    data = _clean_facility(data)
    if errors := _check_facility(data):
        raise Invalid(errors)
    return _create_audited(user, Facility(), data, "facility")


def update_facility(actor: Actor, facility: Facility, data: FacilityData) -> dict[str, list[Any]]:
    """Save edits to a facility and audit what changed; returns the changes."""
    user = require_organizer(actor)
    data = _clean_facility(data)
    if errors := _check_facility(data):
        raise Invalid(errors)
    return _update_audited(user, facility, data, "facility")


# --- officials ------------------------------------------------------------------------------


def list_officials(actor: Actor, query: str = "", page: int = 1) -> Page:
    """Officials by kind and organisation, with the facility they answer for."""
    require_organizer(actor)
    statement = select(Official).options(joinedload(Official.facility))
    if query.strip():
        pattern = _like(query.strip())
        statement = statement.where(
            Official.position.like(pattern, escape="\\")
            | Official.organisation.like(pattern, escape="\\")
            | Official.region.like(pattern, escape="\\")
        )
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = list(
        db.session.scalars(
            statement.order_by(Official.region, Official.organisation, Official.id)
            .limit(LIST_PER_PAGE)
            .offset((page - 1) * LIST_PER_PAGE)
        )
    )
    return Page(rows=rows, page=page, per_page=LIST_PER_PAGE, total=total)


def get_official(actor: Actor, official_id: int) -> Official | None:
    """An official by id, for editing."""
    require_organizer(actor)
    return db.session.get(Official, official_id)


def _clean_official(data: OfficialData) -> OfficialData:
    data.postcode = data.postcode.replace(" ", "")
    # Only the scope that applies is kept, so suggestions never match on a stale value.
    if data.jurisdiction is not Jurisdiction.FACILITY:
        data.facility_id = None
    if data.jurisdiction is not Jurisdiction.REGION:
        data.jurisdiction_region = None
    return data


def _check_official(data: OfficialData) -> dict[str, object]:
    errors: dict[str, object] = {}
    for name, message in (
        ("position", _l("Give the position, e.g. «Начальник ФКУ ИК-6 …».")),
        ("position_dative", _l("Give the position in the dative, e.g. «Начальнику ФКУ ИК-6 …».")),
        ("organisation", _l("Give the organisation.")),
        ("street_address", _l("Give the street address.")),
        ("locality", _l("Give the town.")),
        ("region", _l("Give the region.")),
    ):
        if not getattr(data, name).strip():
            errors[name] = message
    if not _RU_POSTCODE.match(data.postcode):
        errors["postcode"] = _l("A Russian postcode has exactly 6 digits.")
    if data.jurisdiction is Jurisdiction.FACILITY:
        if data.facility_id is None:
            errors["facility_id"] = _l("Choose the facility this official answers for.")
        elif db.session.get(Facility, data.facility_id) is None:
            errors["facility_id"] = _l("This facility does not exist any more.")
    if data.jurisdiction is Jurisdiction.REGION and not (data.jurisdiction_region or "").strip():
        errors["jurisdiction_region"] = _l("Give the region this official answers for.")
    if problem := _url_problem(data.source_url):
        errors["source_url"] = problem
    return errors


def create_official(actor: Actor, data: OfficialData) -> Official:
    """A new official, audited."""
    user = require_organizer(actor)
    data = _clean_official(data)
    if errors := _check_official(data):
        raise Invalid(errors)
    return _create_audited(user, Official(), data, "official")


def update_official(actor: Actor, official: Official, data: OfficialData) -> dict[str, list[Any]]:
    """Save edits to an official and audit what changed; returns the changes."""
    user = require_organizer(actor)
    data = _clean_official(data)
    if errors := _check_official(data):  # may query: before any attribute is assigned
        raise Invalid(errors)
    return _update_audited(user, official, data, "official")


# --- dashboard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitRow:
    """Someone in transit, whereabouts unknown, and for how long."""

    prisoner: Prisoner
    since: date
    days: int


@dataclass(frozen=True)
class Dashboard:
    """Short counts for the organizers' start page."""

    by_status: dict[PrisonerStatus, int]
    prisoners: int
    in_transit: list[TransitRow]
    facilities: int
    officials: int

    @property
    def in_transit_total(self) -> int:
        """How many prisoners have the status "in transit"."""
        return self.by_status[PrisonerStatus.IN_TRANSIT]


def dashboard(actor: Actor, today: date | None = None, transit_limit: int = 10) -> Dashboard:
    """Prisoners by status, the longest unknown whereabouts, facility and official counts."""
    require_organizer(actor)
    today = today or date.today()
    counts = dict(
        db.session.execute(select(Prisoner.status, func.count()).group_by(Prisoner.status)).all()
    )
    by_status = {status: int(counts.get(status, 0)) for status in PrisonerStatus}
    transit = db.session.execute(
        select(Prisoner, Placement.started_on)
        .join(Placement, Placement.prisoner_id == Prisoner.id)
        .where(Placement.ended_on.is_(None), Placement.facility_id.is_(None))
        .order_by(Placement.started_on, Prisoner.id)
        .limit(transit_limit)
    ).all()
    return Dashboard(
        by_status=by_status,
        prisoners=sum(by_status.values()),
        in_transit=[
            TransitRow(prisoner, since, (today - since).days) for prisoner, since in transit
        ],
        facilities=db.session.scalar(select(func.count(Facility.id))) or 0,
        officials=db.session.scalar(select(func.count(Official.id))) or 0,
    )


# --- audit trail ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    """A page of audit entries with the names of what they are about."""

    entries: list[AuditEntry]
    page: int
    per_page: int
    total: int
    # {(entity type, id): name}, for links; missing when the record is gone.
    names: dict[tuple[str, int], str]

    @property
    def pages(self) -> int:
        """Number of pages, at least one."""
        return max(1, math.ceil(self.total / self.per_page))


def audit_entity_types(actor: Actor) -> list[str]:
    """Entity types that can be filtered on: ours, plus any others recorded (e.g. imports)."""
    require_organizer(actor)
    recorded = set(db.session.scalars(select(AuditEntry.entity_type).distinct()))
    return list(ENTITY_TYPES) + sorted(recorded - set(ENTITY_TYPES))


def entity_names(pairs: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int], str]:
    """Display names for (entity type, id) pairs: one query per type, whatever the count."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entity_type, entity_id in pairs:
        if entity_id is not None:
            wanted[entity_type].add(entity_id)
    names: dict[tuple[str, int], str] = {}
    if wanted["prisoner"]:
        for prisoner in db.session.scalars(
            select(Prisoner).where(Prisoner.id.in_(wanted["prisoner"]))
        ):
            names[("prisoner", prisoner.id)] = prisoner.full_name
    if wanted["facility"]:
        for row in db.session.execute(
            select(Facility.id, Facility.code, Facility.region).where(
                Facility.id.in_(wanted["facility"])
            )
        ):
            names[("facility", row.id)] = f"{row.code}, {row.region}"
    if wanted["official"]:
        for row in db.session.execute(
            select(Official.id, Official.position).where(Official.id.in_(wanted["official"]))
        ):
            names[("official", row.id)] = row.position
    return names


def _facility_ids_in(entries: Iterable[AuditEntry]) -> set[tuple[str, int | None]]:
    """Facilities named inside the changes (transfers, officials), so they show by name."""
    pairs: set[tuple[str, int | None]] = set()
    for entry in entries:
        values = (entry.changes or {}).get("facility_id")
        if isinstance(values, list):
            pairs |= {("facility", value) for value in values if isinstance(value, int)}
    return pairs


def audit_page(
    actor: Actor, entity_type: str | None = None, page: int = 1, per_page: int = AUDIT_PER_PAGE
) -> AuditPage:
    """Audit entries newest first, optionally of one entity type, with who made them."""
    require_organizer(actor)
    statement = select(AuditEntry)
    if entity_type:
        statement = statement.where(AuditEntry.entity_type == entity_type)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    entries = list(
        db.session.scalars(
            statement.options(joinedload(AuditEntry.user))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    pairs = {(entry.entity_type, entry.entity_id) for entry in entries} | _facility_ids_in(entries)
    return AuditPage(
        entries=entries, page=page, per_page=per_page, total=total, names=entity_names(pairs)
    )


def entity_history(
    actor: Actor, entity_type: str, entity_id: int, limit: int = HISTORY_LIMIT
) -> AuditPage:
    """The latest audit entries about one record, newest first."""
    require_organizer(actor)
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .options(joinedload(AuditEntry.user))
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
    return AuditPage(
        entries=entries,
        page=1,
        per_page=limit,
        total=len(entries),
        names=entity_names(_facility_ids_in(entries)),
    )
