"""Officials as organizers keep them: the addressees of appeals, listed, added and edited.

Every function takes the acting user and checks that they are an organizer first. Changes are
added to the session together with their audit entries; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.auth.permissions import Actor, require_organizer
from app.domain import LIKE_ESCAPE, DomainError, Page, contains_pattern, paginate
from app.extensions import db
from app.manage import audit
from app.manage.common import LIST_PER_PAGE, RU_POSTCODE, url_problem
from app.models import Facility, Jurisdiction, Official, OfficialKind


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


def list_officials(actor: Actor, query: str = "", page: int = 1) -> Page[Official]:
    """Officials by kind and organisation, with the facility they answer for."""
    require_organizer(actor)
    statement = select(Official).options(joinedload(Official.facility))
    if query.strip():
        pattern = contains_pattern(query.strip())
        statement = statement.where(
            Official.position.like(pattern, escape=LIKE_ESCAPE)
            | Official.organisation.like(pattern, escape=LIKE_ESCAPE)
            | Official.region.like(pattern, escape=LIKE_ESCAPE)
        )
    return paginate(
        statement.order_by(Official.region, Official.organisation, Official.id),
        page,
        LIST_PER_PAGE,
        scalars=True,
    )


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
    if not RU_POSTCODE.match(data.postcode):
        errors["postcode"] = _l("A Russian postcode has exactly 6 digits.")
    if data.jurisdiction is Jurisdiction.FACILITY:
        if data.facility_id is None:
            errors["facility_id"] = _l("Choose the facility this official answers for.")
        elif db.session.get(Facility, data.facility_id) is None:
            errors["facility_id"] = _l("This facility does not exist any more.")
    if data.jurisdiction is Jurisdiction.REGION and not (data.jurisdiction_region or "").strip():
        errors["jurisdiction_region"] = _l("Give the region this official answers for.")
    if problem := url_problem(data.source_url):
        errors["source_url"] = problem
    return errors


def create_official(actor: Actor, data: OfficialData) -> Official:
    """A new official, audited."""
    user = require_organizer(actor)
    data = _clean_official(data)
    if errors := _check_official(data):
        raise DomainError(errors)
    return audit.create_audited(user, Official(), data, "official")


def update_official(actor: Actor, official: Official, data: OfficialData) -> dict[str, list[Any]]:
    """Save edits to an official and audit what changed; returns the changes."""
    user = require_organizer(actor)
    data = _clean_official(data)
    if errors := _check_official(data):  # may query: before any attribute is assigned
        raise DomainError(errors)
    return audit.update_audited(user, official, data, "official")
