"""`flask stats …`: maintenance of the pre-aggregated statistics."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

stats_cli = AppGroup("stats", help="Statistics of how letters fare.")


@stats_cli.command("rebuild")
def rebuild() -> None:
    """Recount every letter's outcome from its events (after a restore or a bulk load)."""
    from app.extensions import db
    from app.stats.outcomes import rebuild_all_outcomes
    from app.stats.overview import refresh_overview_now
    from app.stats.services import precompute_facility_figures

    letters = rebuild_all_outcomes(db.session.connection())
    db.session.commit()
    today = date.today()
    refresh_overview_now(today)
    facilities = precompute_facility_figures(today)
    click.echo(
        f"stats: {letters} letters counted, overview and {facilities} facilities recomputed"
    )
