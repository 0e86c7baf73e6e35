"""JSON endpoints: thin views over the directory and tracking services.

Each operation is declared with `operation` (app.api.openapi): its input is validated by the
models in `app.api.schemas` before the view runs, and the same models make the OpenAPI
document served at ``/openapi.json``.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, jsonify, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.api import bp
from app.api.openapi import document, document_json, operation
from app.api.reference import reference_page
from app.api.responses import (
    CheckResult,
    EventRecorded,
    FacilityFiguresList,
    FacilityList,
    FacilityStatistics,
    FieldErrorBody,
    HttpErrorBody,
    Letter,
    Prisoner,
    PrisonerPage,
)
from app.api.schemas import (
    N_,
    CheckRequest,
    ConditionalHeaders,
    EventReport,
    PrisonerQuery,
)
from app.api.serializers import (
    event_json,
    facility_json,
    figures_json,
    finding_json,
    letter_json,
    prisoner_json,
)
from app.composer.services import recipient_names, review_text
from app.directory import services as directory
from app.domain import MAX_ID, DomainError
from app.extensions import limiter
from app.i18n import current_language
from app.refusals import json_refusal
from app.security import public_write_limit
from app.stats.caching import cache_publicly
from app.stats.current import every_facility_figures
from app.stats.services import MIN_SAMPLE, facility_breakdown
from app.tokens import TOKEN_PATTERN
from app.tracking import services as tracking
from app.tracking.erasure import erase_letter

NOT_FOUND = N_("Unknown id or token.")
TOKEN = {"token": N_("The letter's tracking token (43 characters): the only credential.")}
TOKEN_SHAPE = {"token": {"type": "string", "pattern": TOKEN_PATTERN.pattern}}


@bp.get("/prisoners")
@operation(
    "listPrisoners",
    N_("A page of prisoners"),
    N_("Search by name and filter by region, facility, status and whether they accept letters."),
    tag="directory",
    query=PrisonerQuery,
    responses={200: (PrisonerPage, N_("One page of the prisoners found."))},
)
def prisoners(query: PrisonerQuery) -> Response:
    """A page of prisoners: ?q=&region=&facility=&status=&accepts=&sort=&page=&per_page=."""
    result = directory.search_prisoners(query.filters(), query.page, query.per_page)
    return jsonify(
        items=[prisoner_json(row.prisoner, row.facility) for row in result.rows],
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        pages=result.pages,
    )


@bp.get(f"/prisoners/<int(min=1, max={MAX_ID}):prisoner_id>")
@operation(
    "getPrisoner",
    N_("One prisoner"),
    N_("Names in every case, status, facility and the envelope's recipient block."),
    tag="directory",
    responses={200: (Prisoner, N_("The prisoner.")), 404: (HttpErrorBody, NOT_FOUND)},
    path_parameters={"prisoner_id": N_("The prisoner's id.")},
)
def prisoner(prisoner_id: int) -> Response:
    """One prisoner."""
    found = directory.get_prisoner(prisoner_id) or abort(404)
    return jsonify(prisoner_json(found, found.current_facility))


@bp.get("/letters/<token>")
@operation(
    "getLetter",
    N_("A letter's status"),
    N_("Status, reported events and delays of a letter; never its text or signature."),
    tag="letters",
    responses={200: (Letter, N_("The letter; never cached.")), 404: (HttpErrorBody, NOT_FOUND)},
    path_parameters=TOKEN,
    path_schemas=TOKEN_SHAPE,
)
def letter(token: str) -> Response:
    """Status, events and delays of a letter, for the holder of its token."""
    found = tracking.get_letter(token) or abort(404)
    response = jsonify(letter_json(found))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/letters/<token>")
@limiter.limit(public_write_limit)
@operation(
    "deleteLetter",
    N_("Delete a letter"),
    N_(
        "Deletes everything tied to the token: the text, the signature, a kept address, the "
        "notes and tracking numbers of the reports, the reminder address and its waiting "
        "emails; the token opens nothing afterwards. The anonymous outcome stays in the "
        "statistics (facility, month sent, channel, outcome, delays). Cannot be undone. "
        "Rate-limited (KONVERT_RATELIMIT_PUBLIC_WRITES, by default 30 a minute)."
    ),
    tag="letters",
    rate_limited=True,
    responses={204: (None, N_("Deleted.")), 404: (HttpErrorBody, NOT_FOUND)},
    path_parameters=TOKEN,
    path_schemas=TOKEN_SHAPE,
)
def delete_letter(token: str) -> tuple[str, int]:
    """Delete a letter: the token in the URL is the only credential."""
    found = tracking.get_letter(token) or abort(404)
    erase_letter(found)
    return "", 204


@bp.post("/letters/<token>/events")
@limiter.limit(public_write_limit)
@operation(
    "reportEvent",
    N_("Report what happened to a letter"),
    N_(
        "Sent, arrived, answered, returned, withheld or no news; for appeals also extended "
        "and refused. A report that cannot be right (a date in the future or before the "
        "letter was written, an outcome before it was sent) is refused with the reason, and "
        "so is a second, different report of something already reported. The same report "
        "sent again (a retry) records nothing and gets the first answer again: 201 with the "
        "same event. Rate-limited (KONVERT_RATELIMIT_PUBLIC_WRITES, by default 30 a minute)."
    ),
    tag="letters",
    body=EventReport,
    refused_status=422,
    rate_limited=True,
    responses={
        201: (EventRecorded, N_("Recorded.")),
        404: (HttpErrorBody, NOT_FOUND),
    },
    path_parameters=TOKEN,
    path_schemas=TOKEN_SHAPE,
)
def add_event(token: str, json: EventReport) -> Response | tuple[Response, int]:
    """Report an event: the token in the URL is the only credential."""
    found = tracking.get_letter(token) or abort(404)
    try:
        event = tracking.record_event(found, json.as_input(), date.today())
    except DomainError as error:
        return json_refusal(error)
    return jsonify(event=event_json(event), status=found.status.value), 201


def _check_limit() -> str:
    return str(current_app.config["RATELIMIT_CHECKS"])


@bp.post("/check")
@limiter.limit(_check_limit)
@operation(
    "checkText",
    N_("Check a text for censor risks"),
    N_(
        "Findings with their offsets (in Unicode code points), category, severity and the "
        "reason in the reader's language, and the length in pages. Rate-limited "
        "(KONVERT_RATELIMIT_CHECKS, by default 120 a minute)."
    ),
    tag="check",
    body=CheckRequest,
    rate_limited=True,
    responses={
        200: (CheckResult, N_("The findings and the length.")),
        404: (FieldErrorBody, N_("No prisoner has this prisoner_id.")),
    },
)
def check(json: CheckRequest) -> Response | tuple[Response, int]:
    """Censor-risk check of a text: {"text", "language": "ru"|"en", "prisoner_id"?}.

    With a prisoner, their facility's page limit applies and their own name is not flagged.
    Offsets count Unicode code points, as Python and JavaScript's Array.from() do.
    """
    if len(json.text) > current_app.config["MAX_LETTER_CHARS"]:
        return json_refusal(DomainError("text", _("The text is too long.")), 400)
    prisoner = None
    if json.prisoner_id is not None:
        prisoner = directory.get_prisoner(json.prisoner_id)
        if prisoner is None:
            return json_refusal(DomainError("prisoner_id", _("There is no such prisoner.")), 404)
    review = review_text(
        json.text,
        json.language,
        prisoner.current_facility if prisoner else None,
        recipient_names(prisoner) if prisoner else None,
    )
    reader_language = current_language()
    return jsonify(
        findings=[finding_json(finding, reader_language) for finding in review.findings],
        characters=review.characters,
        pages=review.pages,
        max_pages=review.max_pages,
    )


@bp.get("/facilities")
@operation(
    "listFacilities",
    N_("Every facility"),
    N_("Every facility's public fields, by region and code."),
    tag="directory",
    headers=ConditionalHeaders,
    cached=True,
    responses={200: (FacilityList, N_("Every facility."))},
)
def facilities() -> Response:
    """Every facility's public fields."""
    response = jsonify(items=[facility_json(found) for found in directory.facilities()])
    return cache_publicly(response)


@bp.get("/stats/facilities")
@operation(
    "listFacilityStatistics",
    N_("Every facility's statistics"),
    N_("Every facility with its figures, the same as on the statistics page."),
    tag="statistics",
    headers=ConditionalHeaders,
    cached=True,
    responses={
        200: (FacilityFiguresList, N_("Every facility, zeros where nothing was reported."))
    },
)
def stats_facilities() -> Response:
    """Every facility with its statistics (the same figures as /stats)."""
    rows, snapshot = every_facility_figures()
    response = jsonify(
        as_of=snapshot.payload["as_of"],
        min_sample=MIN_SAMPLE,
        items=[{"facility": facility_json(found), **figures_json(f)} for found, f in rows],
    )
    return cache_publicly(response, snapshot.computed_at)


@bp.get(f"/stats/facilities/<int(min=1, max={MAX_ID}):facility_id>")
@operation(
    "getFacilityStatistics",
    N_("One facility's statistics"),
    N_("The facility's figures in all, by channel and by month sent (the last 24 months)."),
    tag="statistics",
    headers=ConditionalHeaders,
    cached=True,
    responses={
        200: (FacilityStatistics, N_("The facility's figures.")),
        404: (HttpErrorBody, NOT_FOUND),
    },
    path_parameters={"facility_id": N_("The facility's id.")},
)
def stats_facility(facility_id: int) -> Response:
    """One facility's statistics, in all, by channel and by month sent."""
    found = directory.get_facility(facility_id) or abort(404)
    today = date.today()
    breakdown = facility_breakdown(found.id, today)
    response = jsonify(
        facility=facility_json(found),
        as_of=today.isoformat(),
        min_sample=MIN_SAMPLE,
        **figures_json(breakdown.total),
        by_channel={str(key): figures_json(value) for key, value in breakdown.by_channel.items()},
        by_month={key: figures_json(value) for key, value in breakdown.by_month.items()},
    )
    return cache_publicly(response)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API."""
    response = current_app.response_class(document_json(), mimetype="application/json")
    return cache_publicly(response)


@bp.get("/reference")
def reference() -> str:
    """The API's reference, as a page in the reader's language."""
    return render_template("api/reference.html", page=reference_page(document()))
