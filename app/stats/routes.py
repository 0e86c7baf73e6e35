"""Public statistics: the /stats dashboard and the open-data export. No login."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from flask import Response, render_template, request, session, stream_with_context
from flask_login import current_user

from app.labels import CHANNEL
from app.models import Channel
from app.stats import bp, export
from app.stats.caching import cache_publicly
from app.stats.current import overview
from app.stats.overview import dashboard_charts, most_withheld_facilities, slowest_facilities
from app.stats.rendered import RenderedCache
from app.stats.services import MIN_SAMPLE, Figures
from app.stats.snapshots import Snapshot

# Whole /stats pages, per snapshot and language: only for anonymous readers with no pending
# flash message, whose pages are the same for everyone.
_dashboards = RenderedCache(kept=4)


def _render_dashboard(snapshot: Snapshot) -> str:
    payload = snapshot.payload
    return render_template(
        "stats/dashboard.html",
        overview=payload,
        total=Figures.from_dict(payload["total"]),
        slowest=slowest_facilities(payload),
        most_withheld=most_withheld_facilities(payload),
        charts=dashboard_charts(payload, lambda channel: str(CHANNEL[Channel(channel)])),
        as_of=date.fromisoformat(payload["as_of"]),
        computed_at=snapshot.computed_at,
        updating=snapshot.stale,
        min_sample=MIN_SAMPLE,
        as_figures=Figures.from_dict,
    )


@bp.get("/stats")
def dashboard() -> Response:
    """Where letters get stuck: rankings, trends by month, channels and regions."""
    snapshot = overview()
    html: str
    if current_user.is_anonymous and "_flashes" not in session:
        html = _dashboards.get_or_render(
            (snapshot.computed_at, snapshot.stale), lambda: _render_dashboard(snapshot)
        )
    else:
        html = _render_dashboard(snapshot)
    return cache_publicly(Response(html), snapshot.computed_at, per_language=True, max_age=0)


def _download(chunks: Iterator[str], mimetype: str, filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return cache_publicly(response)


@bp.get("/stats/export.csv")
def export_csv() -> Response:
    """One anonymised row per letter, as CSV (schema in the README); ``?bom=1``: with a byte
    order mark, for spreadsheet programs."""
    today = date.today()
    chunks = export.csv_chunks(today, bom=request.args.get("bom") == "1")
    # Werkzeug adds "; charset=utf-8" to a text/* type itself: naming it here gave it twice.
    return _download(chunks, "text/csv", f"konvert-letters-{today}.csv")


@bp.get("/stats/export.json")
def export_json() -> Response:
    """One anonymised row per letter, as JSON (schema in the README)."""
    today = date.today()
    return _download(
        export.json_chunks(today), "application/json", f"konvert-letters-{today}.json"
    )
