"""The figures pages read: stored ones, with a refresh asked of the background job when they
are out of date. Reading never writes; the job stores."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import Facility
from app.models.base import utcnow
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


def every_facility_figures(
    today: date | None = None,
) -> tuple[list[tuple[Facility, Figures]], Snapshot]:
    """Every facility with its figures (zero where no letter was reported), and the snapshot."""
    snapshot = overview(today)
    payload = snapshot.payload
    known = {row["id"]: Figures.from_dict(row["figures"]) for row in payload["facilities"]}
    facilities = db.session.scalars(select(Facility).order_by(Facility.region, Facility.code))
    return [(facility, known.get(facility.id, Figures())) for facility in facilities], snapshot
