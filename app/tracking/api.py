"""Correcting and withdrawing a reported event in the JSON API, for the holder of the letter's
token: thin views over app.tracking.corrections, on the API's blueprint."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, jsonify
from werkzeug.wrappers import Response

from app.api import bp
from app.api.openapi import operation
from app.api.responses import EventRecorded, EventWithdrawn, FieldErrorBody, HttpErrorBody
from app.api.routes import TOKEN, TOKEN_SHAPE
from app.api.schemas import N_, EventCorrection
from app.api.serializers import event_json
from app.domain import MAX_ID, DomainError, as_id
from app.extensions import limiter
from app.models import Letter, MailEvent
from app.refusals import json_refusal
from app.security import public_write_limit
from app.tracking import corrections, services

# The id is read by the view, not by an <int> converter: with two methods on one path,
# Werkzeug answers a number its converter refuses (above MAX_ID) with 405 instead of 404.
EVENT = "/letters/<token>/events/<event_id>"
SHAPES: dict[str, dict[str, Any]] = {
    **TOKEN_SHAPE,
    "event_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
PARAMETERS = {**TOKEN, "event_id": N_("The event's id, as the letter's events list it.")}
NO_EVENT = N_("Unknown token, or no event of this letter has this id.")


def _letter_and_event(token: str, event_id: str) -> tuple[Letter, MailEvent]:
    """The letter and its event, or 404 (an id that no id can be is not found either)."""
    letter = services.get_letter(token) or abort(404)
    try:
        number = as_id(event_id)
    except ValueError:
        abort(404)
    return letter, corrections.find_event(letter, number) or abort(404)


@bp.patch(EVENT)
@limiter.limit(public_write_limit)
@operation(
    "correctEvent",
    N_("Correct a reported event"),
    N_(
        "Changes the date, channel (of sent), tracking number, note or extension of an event; "
        "its kind stays. The result is checked as a new report is, against the letter's other "
        "events, and refused with the reason when it cannot be right; so is an event the "
        "organisation recorded (its mailroom's sent, a reply or a return it received). "
        "Statistics follow. Rate-limited (KONVERT_RATELIMIT_PUBLIC_WRITES, by default 30 a "
        "minute)."
    ),
    tag="letters",
    body=EventCorrection,
    refused_status=422,
    rate_limited=True,
    responses={
        200: (EventRecorded, N_("Corrected.")),
        404: (HttpErrorBody, NO_EVENT),
    },
    path_parameters=PARAMETERS,
    path_schemas=SHAPES,
)
def correct_event(
    token: str, event_id: str, json: EventCorrection
) -> Response | tuple[Response, int]:
    """Correct an event: the token in the URL is the only credential."""
    letter, event = _letter_and_event(token, event_id)
    try:
        corrections.correct_event(letter, event, json.as_change(), date.today())
    except DomainError as error:
        return json_refusal(error)
    return jsonify(event=event_json(event), status=letter.status.value)


@bp.delete(EVENT)
@limiter.limit(public_write_limit)
@operation(
    "withdrawEvent",
    N_("Withdraw a reported event"),
    N_(
        "Deletes the event; the letter's status and the statistics go back to what they are "
        "without it. Sent is withdrawn last: while other events need it, it is refused, and so "
        "is an event the organisation recorded (its mailroom's sent, a reply or a return it "
        "received). Rate-limited (KONVERT_RATELIMIT_PUBLIC_WRITES, by default 30 a minute)."
    ),
    tag="letters",
    refused_status=422,
    rate_limited=True,
    responses={
        200: (EventWithdrawn, N_("Withdrawn: the letter's status now.")),
        404: (HttpErrorBody, NO_EVENT),
        422: (FieldErrorBody, N_("Refused, with the reason: it cannot be withdrawn.")),
    },
    path_parameters=PARAMETERS,
    path_schemas=SHAPES,
)
def withdraw_event(token: str, event_id: str) -> Response | tuple[Response, int]:
    """Withdraw an event: the token in the URL is the only credential."""
    letter, event = _letter_and_event(token, event_id)
    try:
        corrections.withdraw_event(letter, event)
    except DomainError as error:
        return json_refusal(error)
    return jsonify(status=letter.status.value)
