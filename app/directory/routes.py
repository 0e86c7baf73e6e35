"""Directory pages: thin views over app.directory.services."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, render_template, request

from app.directory import bp, services, transfers
from app.domain import DomainError
from app.mail.forms import FollowForm
from app.models import PrisonerStatus
from app.stats import advice, rendered
from app.stats.services import prisoner_figures


def _prisoner_list(
    filters: services.PrisonerFilters,
    results: services.PrisonerPage | None,
    error: str | None = None,
) -> str:
    return render_template(
        "directory/prisoners.html",
        results=results,
        filters=filters,
        error=error,
        region_choices=[(region, region) for region in services.regions()],
        facility_choices=[
            (facility.id, f"{facility.code} — {facility.region}")
            for facility in services.facility_choices()
        ],
        statuses=list(PrisonerStatus),
    )


@bp.get("/prisoners")
def prisoners() -> tuple[str, int] | str:
    """Search and filter the prisoner list."""
    args = request.args.to_dict()
    try:
        filters = services.parse_filters(args)
        page = services.parse_page(args.get("page"))
    except DomainError as error:
        return _prisoner_list(services.PrisonerFilters(), None, error.message), 400
    results = services.search_prisoners(filters, page, current_app.config["PRISONERS_PER_PAGE"])
    return _prisoner_list(filters, results)


@bp.get("/prisoners/in-transit")
def in_transit() -> str:
    """Prisoners in transit, whereabouts unknown the longest first, with the last known place."""
    try:
        page = services.parse_page(request.args.get("page"))
    except DomainError:
        abort(400)
    results = transfers.prisoners_in_transit(
        date.today(), page, current_app.config["PRISONERS_PER_PAGE"]
    )
    if page > 1 and not results.rows:
        abort(404)
    return render_template("directory/in_transit.html", results=results)


@bp.get("/prisoners/<int:prisoner_id>")
def prisoner(prisoner_id: int) -> str:
    """A prisoner's page: who they are, where to write, how mail fared."""
    found = services.get_prisoner(prisoner_id) or abort(404)
    today = date.today()
    return render_template(
        "directory/prisoner.html",
        prisoner=found,
        address=services.mailing_address(found),
        transit_days=services.transit_days(found),
        timeline=transfers.placement_timeline(found, today),
        summary=prisoner_figures(found.id, today),
        delivery=advice.facility_advice(found, today),
        follow=FollowForm(formdata=None),
    )


@bp.get("/facilities/<int:facility_id>")
def facility(facility_id: int) -> str:
    """A facility's page: address, rules, prisoners, how mail fared."""
    found = services.get_facility(facility_id) or abort(404)
    return render_template(
        "directory/facility.html",
        facility=found,
        prisoners=services.facility_prisoners(found.id),
        figures=rendered.facility_figures_html(found.id, date.today()),
    )
