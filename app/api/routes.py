"""JSON endpoints: thin views over the directory and tracking services."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.api import bp
from app.api.serializers import (
    event_json,
    facility_json,
    figures_json,
    letter_json,
    prisoner_json,
)
from app.composer.services import recipient_names, review_text
from app.directory import services as directory
from app.domain import DomainError
from app.extensions import limiter
from app.i18n import current_language
from app.models import Channel, EventKind
from app.refusals import json_refusal
from app.security import public_write_limit
from app.stats.caching import cache_publicly
from app.stats.current import every_facility_figures
from app.stats.services import MIN_SAMPLE, facility_breakdown
from app.tracking import services as tracking


def _error(field: str, message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify(error="invalid", field=field, message=message), status


@bp.get("/prisoners")
def prisoners() -> Response | tuple[Response, int]:
    """A page of prisoners: ?q=&region=&facility=&status=&accepts=&sort=&page=&per_page=."""
    try:
        filters = directory.parse_filters(request.args.to_dict())
        page = directory.parse_page(request.args.get("page"))
        per_page = directory.parse_page(
            request.args.get("per_page") or "20", "per_page", directory.MAX_PER_PAGE
        )
    except DomainError as error:
        return json_refusal(error, 400)
    result = directory.search_prisoners(filters, page, per_page)
    return jsonify(
        items=[prisoner_json(row.prisoner, row.facility) for row in result.rows],
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        pages=result.pages,
    )


@bp.get("/prisoners/<int:prisoner_id>")
def prisoner(prisoner_id: int) -> Response:
    """One prisoner."""
    found = directory.get_prisoner(prisoner_id) or abort(404)
    return jsonify(prisoner_json(found, found.current_facility))


@bp.get("/letters/<token>")
def letter(token: str) -> Response:
    """Status, events and delays of a letter, for the holder of its token."""
    found = tracking.get_letter(token) or abort(404)
    response = jsonify(letter_json(found))
    response.headers["Cache-Control"] = "no-store"
    return response


def _parse_event(payload: Any) -> tracking.EventInput:
    if not isinstance(payload, dict):
        raise DomainError("body", _("Send a JSON object."))
    try:
        kind = EventKind(payload.get("kind"))
    except ValueError as error:
        allowed = ", ".join(k.value for k in EventKind)
        raise DomainError(
            "kind", _("kind must be one of: %(allowed)s", allowed=allowed)
        ) from error
    raw_date = payload.get("date")
    try:
        happened_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        happened_on = None
    if happened_on is None:
        raise DomainError("date", _("date must be a real date written YYYY-MM-DD"))
    channel = None
    if payload.get("channel") not in (None, ""):
        try:
            channel = Channel(payload["channel"])
        except ValueError as error:
            allowed = ", ".join(c.value for c in Channel)
            raise DomainError(
                "channel", _("channel must be one of: %(allowed)s", allowed=allowed)
            ) from error
    for name in ("tracking_number", "note"):
        if payload.get(name) is not None and not isinstance(payload[name], str):
            raise DomainError(name, _("%(name)s must be a string", name=name))
    extension_days = payload.get("extension_days")
    if extension_days is not None and (
        not isinstance(extension_days, int) or isinstance(extension_days, bool)
    ):
        raise DomainError(
            "extension_days", _("%(name)s must be a whole number", name="extension_days")
        )
    return tracking.EventInput(
        kind=kind,
        happened_on=happened_on,
        channel=channel,
        tracking_number=payload.get("tracking_number") or "",
        note=payload.get("note") or "",
        extension_days=extension_days,
    )


@bp.post("/letters/<token>/events")
@limiter.limit(public_write_limit)
def add_event(token: str) -> tuple[Response, int]:
    """Report an event: the token in the URL is the only credential."""
    found = tracking.get_letter(token) or abort(404)
    try:
        report = _parse_event(request.get_json(silent=True))
        event = tracking.record_event(found, report, date.today())
    except DomainError as error:
        return json_refusal(error)
    return jsonify(event=event_json(event), status=found.status.value), 201


def _check_limit() -> str:
    return str(current_app.config["RATELIMIT_CHECKS"])


@bp.post("/check")
@limiter.limit(_check_limit)
def check() -> Response | tuple[Response, int]:
    """Censor-risk check of a text: {"text", "language": "ru"|"en", "prisoner_id"?}.

    With a prisoner, their facility's page limit applies and their own name is not flagged.
    Offsets count Unicode code points, as Python and JavaScript's Array.from() do.
    """
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error("body", _("Send a JSON object."))
    text = payload.get("text")
    if not isinstance(text, str):
        return _error("text", _("%(name)s must be a string", name="text"))
    if len(text) > current_app.config["MAX_LETTER_CHARS"]:
        return _error("text", _("The text is too long."))
    language = payload.get("language", "ru")
    if language not in ("ru", "en"):
        return _error("language", _("language must be 'ru' or 'en'"))
    prisoner = None
    prisoner_id = payload.get("prisoner_id")
    if prisoner_id not in (None, ""):
        if not isinstance(prisoner_id, int) or isinstance(prisoner_id, bool):
            return _error("prisoner_id", _("%(name)s must be a whole number", name="prisoner_id"))
        prisoner = directory.get_prisoner(prisoner_id)
        if prisoner is None:
            return _error("prisoner_id", _("There is no such prisoner."), 404)
    review = review_text(
        text,
        language,
        prisoner.current_facility if prisoner else None,
        recipient_names(prisoner) if prisoner else None,
    )
    reader_language = current_language()
    return jsonify(
        findings=[
            {
                "start": finding.start,
                "end": finding.end,
                "category": finding.category,
                "severity": finding.severity.value,
                "reason": finding.reason(reader_language),
                "rule": finding.rule,
            }
            for finding in review.findings
        ],
        characters=review.characters,
        pages=review.pages,
        max_pages=review.max_pages,
    )


@bp.get("/facilities")
def facilities() -> Response:
    """Every facility's public fields."""
    response = jsonify(items=[facility_json(found) for found in directory.facilities()])
    return cache_publicly(response)


@bp.get("/stats/facilities")
def stats_facilities() -> Response:
    """Every facility with its statistics (the same figures as /stats)."""
    rows, snapshot = every_facility_figures()
    response = jsonify(
        as_of=snapshot.payload["as_of"],
        min_sample=MIN_SAMPLE,
        items=[{"facility": facility_json(found), **figures_json(f)} for found, f in rows],
    )
    return cache_publicly(response, snapshot.computed_at)


@bp.get("/stats/facilities/<int:facility_id>")
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
