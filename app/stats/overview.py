"""The public overview of /stats, computed once and kept as a snapshot until data change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Facility
from app.numbers import format_days, format_share
from app.stats import snapshots
from app.stats.charts import Bar, bars
from app.stats.services import MIN_SAMPLE, MONTHS_SHOWN, Dimension, Figures, figures, figures_by
from app.stats.snapshots import Snapshot

RANKED_FACILITIES = 15


def _facility_rows(by_facility: dict[Any, Figures]) -> list[dict[str, Any]]:
    facilities = db.session.execute(
        select(
            Facility.id, Facility.code, Facility.name, Facility.region, Facility.is_demo
        ).order_by(Facility.region, Facility.code)
    )
    rows = []
    for facility_id, code, name, region, is_demo in facilities:
        found = by_facility.get(facility_id)
        if found is None:
            continue
        rows.append(
            {
                "id": facility_id,
                "code": code,
                "name": name,
                "region": region,
                "is_demo": is_demo,
                "figures": found.as_dict(),
            }
        )
    return rows


def compute_overview(as_of: date) -> dict[str, Any]:
    """Every figure /stats shows, as plain data: totals and by facility, region, channel, month."""
    months = sorted(figures_by(Dimension.MONTH, as_of=as_of).items())[-MONTHS_SHOWN:]
    return {
        "as_of": as_of.isoformat(),
        "total": figures(as_of=as_of).as_dict(),
        "facilities": _facility_rows(figures_by(Dimension.FACILITY, as_of=as_of)),
        "regions": [
            {"region": region, "figures": found.as_dict()}
            for region, found in sorted(figures_by(Dimension.REGION, as_of=as_of).items())
        ],
        "channels": [
            {"channel": str(channel), "figures": found.as_dict()}
            for channel, found in sorted(
                figures_by(Dimension.CHANNEL, as_of=as_of).items(),
                key=lambda item: -item[1].letters_sent,
            )
        ],
        "months": [{"month": month, "figures": found.as_dict()} for month, found in months],
    }


def refresh_overview_now(today: date) -> Snapshot:
    """Recompute the overview and store it (the background job's work)."""
    snapshots.claim_refresh(snapshots.OVERVIEW)
    return snapshots.store(snapshots.OVERVIEW, compute_overview(today))


def _figures_of(row: dict[str, Any]) -> Figures:
    return Figures.from_dict(row["figures"])


def slowest_facilities(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Facilities with enough reports, longest median delay first."""
    ranked = [
        row
        for row in payload["facilities"]
        if _figures_of(row).median_days_to_delivery is not None
    ]
    ranked.sort(
        key=lambda row: (
            -row["figures"]["median_days_to_delivery"],
            -row["figures"]["delivery_sample"],
        )
    )
    return ranked[:RANKED_FACILITIES]


def most_withheld_facilities(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Facilities with enough letters, highest share withheld or returned first."""
    ranked = [row for row in payload["facilities"] if row["figures"]["letters_sent"] >= MIN_SAMPLE]
    ranked.sort(
        key=lambda row: (
            -row["figures"]["withheld_or_returned_share"],
            -row["figures"]["letters_sent"],
        )
    )
    return ranked[:RANKED_FACILITIES]


def _days(value: float) -> str:
    return format_days(value)


def _percent(value: float) -> str:
    return format_share(value)


def dashboard_charts(
    payload: dict[str, Any], channel_label: Callable[[str], str]
) -> dict[str, list[Bar]]:
    """The bars of every chart on /stats, from the same data as the tables beside them."""
    slowest = slowest_facilities(payload)
    withheld = most_withheld_facilities(payload)
    months = payload["months"]
    channels = [
        row for row in payload["channels"] if row["figures"]["median_days_to_delivery"] is not None
    ]
    return {
        "slowest": bars(
            (row["code"], delay, _days(delay))
            for row in slowest
            for delay in [row["figures"]["median_days_to_delivery"]]
        ),
        "withheld": bars(
            (row["code"], share, _percent(share))
            for row in withheld
            for share in [row["figures"]["withheld_or_returned_share"]]
        ),
        "months_sent": bars(
            (row["month"], row["figures"]["letters_sent"], str(row["figures"]["letters_sent"]))
            for row in months
        ),
        "months_delay": bars(
            (row["month"], delay, _days(delay))
            for row in months
            for delay in [row["figures"]["median_days_to_delivery"]]
            if delay is not None
        ),
        "channels": bars(
            (channel_label(row["channel"]), delay, _days(delay))
            for row in channels
            for delay in [row["figures"]["median_days_to_delivery"]]
        ),
    }
