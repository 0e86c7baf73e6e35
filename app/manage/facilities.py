"""Facilities as organizers keep them: the list with who is there now, adding and editing.

Every function takes the acting user and checks that they are an organizer first. Changes are
added to the session together with their audit entries; the caller commits once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.auth.permissions import Actor, require_organizer
from app.domain import LIKE_ESCAPE, DomainError, Page, contains_pattern, paginate
from app.extensions import db
from app.manage import audit
from app.manage.common import LIST_PER_PAGE, RU_POSTCODE, url_problem
from app.models import Facility, FacilityKind, Official, Placement, Prisoner


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


@dataclass(frozen=True)
class FacilityRow:
    """One line of the facility list."""

    facility: Facility
    prisoners: int


def list_facilities(actor: Actor, query: str = "", page: int = 1) -> Page[FacilityRow]:
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
        pattern = contains_pattern(query.strip())
        statement = statement.where(
            Facility.code.like(pattern, escape=LIKE_ESCAPE)
            | Facility.name.like(pattern, escape=LIKE_ESCAPE)
            | Facility.region.like(pattern, escape=LIKE_ESCAPE)
            | Facility.locality.like(pattern, escape=LIKE_ESCAPE)
        )
    listed = paginate(
        statement.order_by(Facility.region, Facility.code, Facility.id), page, LIST_PER_PAGE
    )
    return listed.with_rows([FacilityRow(facility, int(count)) for facility, count in listed.rows])


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
    if data.country == "RU" and not RU_POSTCODE.match(data.postcode):
        errors["postcode"] = _l("A Russian postcode has exactly 6 digits.")
    elif not data.postcode:
        errors["postcode"] = _l("Give the postcode.")
    if data.max_letter_pages is not None and not 1 <= data.max_letter_pages <= 100:
        errors["max_letter_pages"] = _l("Give a number of pages from 1 to 100, or leave it empty.")
    if problem := url_problem(data.source_url):
        errors["source_url"] = problem
    return errors


def create_facility(actor: Actor, data: FacilityData) -> Facility:
    """A new facility, audited."""
    user = require_organizer(actor)
    data = _clean_facility(data)
    if errors := _check_facility(data):
        raise DomainError(errors)
    return audit.create_audited(user, Facility(), data, "facility")


def update_facility(actor: Actor, facility: Facility, data: FacilityData) -> dict[str, list[Any]]:
    """Save edits to a facility and audit what changed; returns the changes."""
    user = require_organizer(actor)
    data = _clean_facility(data)
    if errors := _check_facility(data):
        raise DomainError(errors)
    return audit.update_audited(user, facility, data, "facility")
