"""Prisoners as organizers keep them: adding, editing, declined name forms, transfers.

Every function takes the acting user and checks that they are an organizer first. Changes are
added to the session together with their audit entries; the caller commits once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from app.auth.permissions import Actor, require_organizer
from app.directory.services import PrisonerFilters, PrisonerPage, search_prisoners
from app.domain import DomainError
from app.extensions import db
from app.mail.services import notify_followers_of_transfer
from app.manage import audit
from app.manage.common import assign, url_problem
from app.models import Facility, FacilityKind, Placement, Prisoner, PrisonerStatus
from app.russian.names import Case, Gender, PersonName, decline, infer_gender

# The forms a person may correct by hand; the nominative is the name as typed.
OVERRIDE_CASES = (
    Case.GENITIVE,
    Case.DATIVE,
    Case.ACCUSATIVE,
    Case.INSTRUMENTAL,
    Case.PREPOSITIONAL,
)
PLACED_STATUSES = frozenset({PrisonerStatus.PRETRIAL, PrisonerStatus.CONVICTED})
EARLIEST_BIRTH_YEAR = 1900
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


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


def normalize_languages(value: str) -> str:
    """«RU, en» → «ru,en»: lower case, no spaces, no repeats, in the order typed."""
    codes: list[str] = []
    for part in value.split(","):
        code = part.strip().lower()
        if code and code not in codes:
            codes.append(code)
    return ",".join(codes)


# --- checks and saving ---------------------------------------------------------------------------


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
    if problem := url_problem(data.source_url):
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
        raise DomainError({field_name: _l("This facility does not exist any more.")})
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
        raise DomainError(errors)
    data = _clean_prisoner(data)
    prisoner = Prisoner()
    assign(prisoner, data)
    prisoner.placements.append(
        Placement(facility=facility, started_on=placement.since, note=placement.note)
    )
    changes = audit.changes_of(prisoner, creating=True)
    changes["placement"] = [None, _placement_label(facility)]
    assert placement.since is not None  # refused above when missing
    changes["placed_since"] = [None, placement.since.isoformat()]
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
        raise DomainError(errors)
    assign(prisoner, _clean_prisoner(data))
    # Computed before anything can flush, while the attribute history still holds old values.
    changes = audit.changes_of(prisoner)
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
        raise DomainError(errors)
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
