"""The mailroom's review in the JSON API, for scanning stations and scripts: letters by state,
and the reviewer's decision. Personal bearer tokens (`app.api.auth.api_account`) of mailroom
volunteers, organizers and admins; thin views over app.mailroom.services.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from flask import abort, jsonify
from pydantic import Field
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import api_account
from app.api.openapi import NOT_FOUND, operation
from app.api.responses import Finding, HttpErrorBody, ResponseModel
from app.api.schemas import N_, RequestModel, described
from app.api.serializers import finding_json
from app.domain import MAX_ID, DomainError
from app.i18n import current_language
from app.mailroom import services
from app.mailroom.reference import format_reference
from app.models import MailroomItem, MailroomState
from app.refusals import json_refusal


@described(N_("Which mailroom letters to list."))
class MailroomQuery(RequestModel):
    is_query: ClassVar[bool] = True
    blank_means_absent: ClassVar[tuple[str, ...]] = ("state",)

    state: MailroomState = Field(
        default=MailroomState.REVIEW,
        description=N_("The letters in this state, oldest first; review unless given."),
    )


@described(N_("A reviewer's decision on a letter waiting for review."))
class ReviewDecision(RequestModel):
    decision: Literal["approve", "send_back", "reject"] = Field(
        description=N_(
            "approve: print it; send_back: the writer edits it; reject: hostile, abusive or spam."
        )
    )
    reason: str | None = Field(
        default=None,
        max_length=services.MAX_REASON_CHARS,
        description=N_(
            "Required with send_back (the writer reads it, sealed to the letter) and reject "
            "(kept for organizers only)."
        ),
    )


@described(N_("A letter in the mailroom: never its text, its writer or its link."))
class MailroomLetter(ResponseModel):
    id: int
    reference: str = Field(description=N_("The reference code, e.g. 4821-0937."))
    state: MailroomState
    prisoner_id: int
    facility_id: int | None
    language: str
    findings: list[Finding] = Field(
        description=N_("Censor-risk findings, while the organisation may read the letter.")
    )


@described(N_("Mailroom letters in one state, oldest first."))
class MailroomLetterList(ResponseModel):
    items: list[MailroomLetter]


def mailroom_letter_json(item: MailroomItem) -> dict[str, Any]:
    """An item as the API shows it, with the findings in the reader's language."""
    letter = item.letter
    language = current_language()
    return {
        "id": item.id,
        "reference": format_reference(item.reference),
        "state": item.state.value,
        "prisoner_id": letter.prisoner_id,
        "facility_id": letter.facility_id,
        "language": letter.language,
        "findings": [finding_json(found, language) for found in services.findings(letter)],
    }


@bp.get("/mailroom/letters")
@operation(
    "listMailroomLetters",
    N_("Mailroom letters in a state"),
    N_(
        "The letters sent through the organisation in one state, oldest first, with their "
        "censor-risk findings. For mailroom volunteers, organizers and admins."
    ),
    tag="mailroom",
    query=MailroomQuery,
    bearer=True,
    responses={200: (MailroomLetterList, N_("The letters."))},
)
def mailroom_letters(query: MailroomQuery) -> Response:
    """Letters in a state: ?state=review|approved|printed|posted|returned|rejected|sent_back."""
    api_account()
    items = services.items_in_state(query.state)
    response = jsonify(items=[mailroom_letter_json(item) for item in items])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(f"/mailroom/letters/<int(min=1, max={MAX_ID}):item_id>/review")
@operation(
    "reviewMailroomLetter",
    N_("Decide on a letter waiting for review"),
    N_(
        "Approve it, send it back to its writer with a reason they read through their link, "
        "or reject it with a reason kept for organizers. Only a letter in review may be "
        "decided; a second decision is refused."
    ),
    tag="mailroom",
    body=ReviewDecision,
    refused_status=422,
    bearer=True,
    responses={
        200: (MailroomLetter, N_("Decided: the letter in its new state.")),
        404: (HttpErrorBody, NOT_FOUND),
    },
    path_parameters={"item_id": N_("The mailroom letter's id.")},
)
def review_mailroom_letter(item_id: int, json: ReviewDecision) -> Response | tuple[Response, int]:
    """Approve, send back or reject a letter in review."""
    user = api_account()
    item = services.get_item(user, item_id) or abort(404)
    try:
        services.decide(user, item, services.Decision(json.decision), json.reason or "")
    except DomainError as error:
        return json_refusal(error)
    return jsonify(mailroom_letter_json(item))
