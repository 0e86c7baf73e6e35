"""Searching prisoners and describing where letters go."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import SQLColumnExpression, case, func, select
from sqlalchemy.orm import joinedload

from app.directory import recent
from app.domain import (
    LIKE_ESCAPE,
    MAX_ID,
    AnySelect,
    DomainError,
    Page,
    contains_pattern,
    paginate,
)
from app.extensions import db
from app.models import Facility, Placement, Prisoner, PrisonerStatus, RecentLetterCount
from app.models.prisoner import STATUSES_RECEIVING_MAIL
from app.russian.address import PostalAddress, recipient_lines, recipient_name_line
from app.russian.names import Case, PersonName, decline, normalize_for_search

RECENT_DAYS = recent.RECENT_DAYS
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PrisonerFilters:
    """What a person searched for; every field optional."""

    query: str = ""
    region: str = ""
    facility_id: int | None = None
    status: PrisonerStatus | None = None
    accepts_letters: bool | None = None
    sort: str = "fewest"  # or "name"


@dataclass(frozen=True)
class PrisonerRow:
    """One line of the directory."""

    prisoner: Prisoner
    facility: Facility | None
    recent_letters: int


PrisonerPage = Page[PrisonerRow]


def parse_filters(args: dict[str, str]) -> PrisonerFilters:
    """Turn query-string values into filters; raise DomainError naming a bad parameter."""
    facility_id = None
    if args.get("facility"):
        try:
            facility_id = int(args["facility"])
        except ValueError as error:
            raise DomainError("facility", _l("facility must be a number")) from error
        if not 1 <= facility_id <= MAX_ID:
            raise DomainError("facility", _l("%(name)s is out of range", name="facility"))
    status = None
    if args.get("status"):
        try:
            status = PrisonerStatus(args["status"])
        except ValueError as error:
            raise DomainError("status", _l("unknown status")) from error
    accepts = None
    if args.get("accepts"):
        if args["accepts"] not in {"yes", "no"}:
            raise DomainError("accepts", _l("accepts must be 'yes' or 'no'"))
        accepts = args["accepts"] == "yes"
    sort = args.get("sort") or "fewest"
    if sort not in {"fewest", "name"}:
        raise DomainError("sort", _l("sort must be 'fewest' or 'name'"))
    query = (args.get("q") or "").strip()
    if len(query) > 200:
        raise DomainError("q", _l("the search text is too long"))
    return PrisonerFilters(
        query=query,
        region=(args.get("region") or "").strip(),
        facility_id=facility_id,
        status=status,
        accepts_letters=accepts,
        sort=sort,
    )


def parse_page(value: str | None, name: str = "page", maximum: int | None = None) -> int:
    """A positive page number or page size from the query string."""
    if value in (None, ""):
        return 1
    try:
        number = int(value)
    except ValueError as error:
        raise DomainError(name, _l("%(name)s must be a positive number", name=name)) from error
    if not 1 <= number <= min(maximum or MAX_ID, MAX_ID):
        raise DomainError(name, _l("%(name)s is out of range", name=name))
    return number


def _filtered(filters: PrisonerFilters, *, with_facility: bool = True) -> AnySelect:
    """Prisoners and their current facility, filtered; no order. Without ``with_facility``
    (to count or order), the facility is joined only when a filter needs it."""
    query = select(Prisoner, Facility) if with_facility else select(Prisoner.id)
    if with_facility or filters.region or filters.facility_id is not None:
        current = (
            select(Placement.prisoner_id, Placement.facility_id)
            .where(Placement.ended_on.is_(None))
            .subquery()
        )
        query = query.outerjoin(current, current.c.prisoner_id == Prisoner.id).outerjoin(
            Facility, Facility.id == current.c.facility_id
        )
    for token in normalize_for_search(filters.query).split():
        query = query.where(Prisoner.search_text.like(contains_pattern(token), escape=LIKE_ESCAPE))
    if filters.region:
        query = query.where(Facility.region == filters.region)
    if filters.facility_id is not None:
        query = query.where(Facility.id == filters.facility_id)
    if filters.status is not None:
        query = query.where(Prisoner.status == filters.status)
    if filters.accepts_letters is not None:
        query = query.where(Prisoner.accepts_letters.is_(filters.accepts_letters))
    return query


def _ordered_ids(filters: PrisonerFilters) -> AnySelect:
    """(prisoner id, letters in the last 90 days) of the filtered list, in the list's order."""
    counted = RecentLetterCount.__table__
    recent_count = func.coalesce(counted.c.letters, 0)
    return (
        _filtered(filters, with_facility=False)
        .outerjoin(counted, counted.c.prisoner_id == Prisoner.id)
        .with_only_columns(Prisoner.id, recent_count)
        .order_by(*_ordering(filters, recent_count))
    )


def _ordering(
    filters: PrisonerFilters, recent_count: SQLColumnExpression[Any]
) -> list[SQLColumnExpression[Any]]:
    by_name: list[SQLColumnExpression[Any]] = [
        Prisoner.last_name,
        Prisoner.first_name,
        Prisoner.id,
    ]
    if filters.sort == "name":
        return by_name
    # Those who can receive letters and got the fewest lately come first.
    receiving = case(
        (
            Prisoner.accepts_letters.is_(True)
            & Prisoner.status.in_([s.value for s in STATUSES_RECEIVING_MAIL]),
            0,
        ),
        else_=1,
    )
    return [receiving, recent_count, *by_name]


def search_prisoners(filters: PrisonerFilters, page: int, per_page: int) -> PrisonerPage:
    """One page of prisoners matching the filters, in three queries whatever the page size."""
    # Sort narrow rows (id, count) and load only the page's prisoners: sorting whole rows of
    # ten thousand prisoners with their texts costs ten times more. The count needs no facility.
    page_ids = paginate(
        _ordered_ids(filters),
        page,
        per_page,
        count=_filtered(filters, with_facility=False),
    )
    loaded = {
        prisoner.id: (prisoner, facility)
        for prisoner, facility in db.session.execute(
            _filtered(filters).where(Prisoner.id.in_([row[0] for row in page_ids.rows]))
        )
    }
    return page_ids.with_rows(
        [PrisonerRow(*loaded[prisoner_id], int(recent)) for prisoner_id, recent in page_ids.rows]
    )


def suggest_prisoner() -> Prisoner | None:
    """Someone who can receive letters and has had the fewest lately."""
    filters = PrisonerFilters(accepts_letters=True)
    page = search_prisoners(filters, page=1, per_page=1)
    if not page.rows or not page.rows[0].prisoner.can_receive_letters:
        return None
    return page.rows[0].prisoner


def regions() -> list[str]:
    """Regions that have at least one facility, alphabetically."""
    return list(db.session.scalars(select(Facility.region).distinct().order_by(Facility.region)))


@dataclass(frozen=True)
class FacilityChoice:
    """A facility as the list's filter offers it."""

    id: int
    code: str
    region: str


def facility_choices() -> list[FacilityChoice]:
    """Every facility for the filter menu: three columns, not three hundred whole objects."""
    rows = db.session.execute(
        select(Facility.id, Facility.code, Facility.region).order_by(
            Facility.region, Facility.code
        )
    )
    return [FacilityChoice(*row) for row in rows]


def facilities() -> list[Facility]:
    """All facilities, by region and code."""
    return list(db.session.scalars(select(Facility).order_by(Facility.region, Facility.code)))


def postal_address(facility: Facility) -> PostalAddress:
    """A facility's address in the form the envelope helpers take."""
    return PostalAddress(
        institution=facility.name,
        street=facility.street_address,
        locality=facility.locality,
        region=facility.region,
        postcode=facility.postcode,
    )


def recipient_name(prisoner: Prisoner) -> str:
    """The «Кому» line: full name in the dative and year of birth."""
    dative = decline(prisoner.person_name, Case.DATIVE)
    return recipient_name_line(dative, prisoner.year_of_birth)


def mailing_address(prisoner: Prisoner, facility: Facility | None = None) -> list[str] | None:
    """The recipient block as printed on the envelope, or None while there is no address."""
    facility = facility or prisoner.current_facility
    if facility is None:
        return None
    return recipient_lines(recipient_name(prisoner), postal_address(facility))


def get_prisoner(prisoner_id: int) -> Prisoner | None:
    """A prisoner by id, or None, with their placements and facilities in the same query:
    the address, the timeline and the facility's figures all come from them."""
    return db.session.get(
        Prisoner,
        prisoner_id,
        options=[joinedload(Prisoner.placements).joinedload(Placement.facility)],
    )


def get_facility(facility_id: int) -> Facility | None:
    """A facility by id, or None."""
    return db.session.get(Facility, facility_id)


@dataclass(frozen=True)
class PrisonerLink:
    """A prisoner as a line in a list: enough to show the name and link to the page."""

    id: int
    full_name: str
    is_demo: bool


def facility_prisoners(facility_id: int) -> list[PrisonerLink]:
    """Prisoners whose current placement is this facility, by name (narrow rows: a facility
    may hold hundreds)."""
    rows = db.session.execute(
        select(
            Prisoner.id,
            Prisoner.last_name,
            Prisoner.first_name,
            Prisoner.patronymic,
            Prisoner.is_demo,
        )
        .join(Placement, Placement.prisoner_id == Prisoner.id)
        .where(Placement.facility_id == facility_id, Placement.ended_on.is_(None))
        .order_by(Prisoner.last_name, Prisoner.first_name)
    )
    return [
        PrisonerLink(
            id=row.id,
            full_name=PersonName(row.last_name, row.first_name, row.patronymic).full_name,
            is_demo=row.is_demo,
        )
        for row in rows
    ]


def transit_days(prisoner: Prisoner, today: date | None = None) -> int | None:
    """Days since a prisoner in transit was last known at an address."""
    placement = prisoner.current_placement
    if placement is None or not placement.in_transit:
        return None
    return ((today or date.today()) - placement.started_on).days
