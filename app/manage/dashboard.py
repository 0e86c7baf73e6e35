"""The organizers' start page: prisoners by status, who has been in transit longest, and how
many facilities and officials there are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.auth.permissions import Actor, require_organizer
from app.extensions import db
from app.models import Facility, Official, Placement, Prisoner, PrisonerStatus


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
