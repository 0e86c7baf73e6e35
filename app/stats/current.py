"""The figures pages read: stored ones, with a refresh asked of the background job when they
are out of date. Reading never writes; the job stores."""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import select

from app.extensions import db
from app.models import Facility
from app.models.base import utcnow
from app.models.facility import PublicFacility
from app.stats import snapshots
from app.stats.overview import compute_overview
from app.stats.services import Figures
from app.stats.snapshots import Snapshot
from app.stats.tasks import request_overview_refresh


def overview(today: date | None = None) -> Snapshot:
    """The /stats overview: the stored one, refreshed in the background when out of date.

    Readers get the previous figures while the background job recomputes them (at once, in
    immediate mode). Before the job has stored any, the reader's figures are computed on the
    spot, marked as updating.
    """
    today = today or date.today()
    snapshot = snapshots.read(snapshots.OVERVIEW)
    if (
        snapshot is not None
        and not snapshot.stale
        and snapshot.payload["as_of"] == (today.isoformat())
    ):
        return snapshot
    if request_overview_refresh():  # ran here and now (immediate mode)
        snapshot = snapshots.read(snapshots.OVERVIEW) or snapshot
    if snapshot is None:
        return Snapshot(compute_overview(today), utcnow(), True)
    return snapshot


#: The public columns of a facility (app.api.serializers.facility_json): read as plain rows,
#: because building three hundred whole Facility objects cost more than the rest of the page.
PUBLIC_FACILITY_COLUMNS = (
    Facility.id,
    Facility.code,
    Facility.name,
    Facility.kind,
    Facility.region,
    Facility.postcode,
    Facility.is_demo,
)


def every_facility_figures(
    today: date | None = None,
) -> tuple[list[tuple[PublicFacility, Figures]], Snapshot]:
    """Every facility's public columns with its figures (zero where no letter was reported),
    and the snapshot."""
    snapshot = overview(today)
    payload = snapshot.payload
    known = {row["id"]: Figures.from_dict(row["figures"]) for row in payload["facilities"]}
    facilities = db.session.execute(
        select(*PUBLIC_FACILITY_COLUMNS).order_by(Facility.region, Facility.code)
    )
    # A row of those columns is a PublicFacility; the cast says so to mypy, which cannot see
    # a Row's named columns.
    return [
        (cast(PublicFacility, facility), known.get(facility.id, Figures()))
        for facility in facilities
    ], snapshot
