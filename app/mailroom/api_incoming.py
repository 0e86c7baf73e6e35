"""The mailroom's API for incoming post (scanning stations and scripts): a reply's scan,
matched by its code or held; a returned envelope by its code. Personal bearer tokens of
mailroom volunteers, organizers and admins (`app.api.auth.api_account`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from flask import jsonify, request
from pydantic import BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema
from spectree.model_adapter.pydantic_adapter import BaseFile
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import api_account
from app.api.openapi import operation
from app.api.responses import ResponseModel
from app.api.schemas import N_, RequestModel, _iso_date, _no_default, described
from app.domain import MAX_ID, DomainError
from app.mailroom import incoming, returns
from app.mailroom.incoming_views import UPLOAD_LIMIT, scan_pages
from app.models import LetterStatus, ReturnReason
from app.refusals import json_refusal

UPLOAD_ENDPOINTS = frozenset({"api.receive_reply"})


@bp.url_value_preprocessor
def _allow_scans(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Let a scan upload be as large as a scan may be (before the input guard reads it)."""
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = UPLOAD_LIMIT


def _as_list(value: Any) -> Any:
    # One file arrives as itself, several as a list: the model takes a list either way.
    return value if isinstance(value, list) else [value]


@described(N_("A scanned reply: its pages, the day it came and its code, if it has one."))
class ReplyUpload(RequestModel):
    blank_means_absent: ClassVar[tuple[str, ...]] = ("reference", "prisoner_id")

    scan: Annotated[
        list[BaseFile],
        BeforeValidator(_as_list),
        Field(
            description=N_(
                "The pages, in order: JPEG, PNG or PDF files, at most 20, 10 MB each, 40 MB "
                "in all. Image metadata is removed."
            )
        ),
    ]
    received_on: Annotated[
        date,
        BeforeValidator(_iso_date),
        Field(description=N_("The day the reply came, YYYY-MM-DD: not in the future.")),
    ]
    # A form cannot say null: leaving a field out (or empty) is how to say none.
    reference: Annotated[
        Annotated[str, Field(max_length=20)] | SkipJsonSchema[None],
        Field(
            description=N_("The reference code the prisoner wrote, e.g. 4821-0937, if any."),
            json_schema_extra=_no_default,
        ),
    ] = None
    prisoner_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None],
        Field(
            description=N_("The prisoner it is from, if known: helps match it by hand."),
            json_schema_extra=_no_default,
        ),
    ] = None


@described(N_("A returned envelope, recorded by its code."))
class ReturnReport(RequestModel):
    reference: str = Field(
        max_length=20, description=N_("The reference code printed on the letter.")
    )
    received_on: Annotated[
        date,
        BeforeValidator(_iso_date),
        Field(description=N_("The day it came back, YYYY-MM-DD: not in the future.")),
    ]
    reason: ReturnReason = Field(description=N_("Why it came back."))


@described(N_("The reply found its letter: its writer can open the scan through their link."))
class ReplyMatched(ResponseModel):
    matched: Literal[True] = Field(description=N_("Always true."))
    letter_state: LetterStatus = Field(description=N_("The letter's status now."))


@described(N_("The reply found no letter and waits in the holding pen."))
class ReplyHeld(ResponseModel):
    matched: Literal[False] = Field(description=N_("Always false."))
    held: int = Field(description=N_("The held reply's id."))
    reason: Literal["no_code", "bad_code", "unknown_code", "not_posted", "outside_window"] = Field(
        description=N_(
            "Why: no code, a code that is not valid, a code no posted letter has, a letter "
            "printed but not marked posted yet, or one posted outside the reply window."
        )
    )


@described(N_("The return was recorded."))
class ReturnRecorded(ResponseModel):
    reference: str = Field(description=N_("The letter's reference code, as printed."))
    letter_state: LetterStatus = Field(description=N_("The letter's status now."))


@bp.post("/mailroom/replies")
@operation(
    "receiveReply",
    N_("Upload a scanned reply"),
    N_(
        "Multipart: scan (one or more files), received_on, and optionally reference and "
        "prisoner_id. With a valid code of a letter posted within the reply window, the reply "
        "is matched: the letter gets a reply event and the scan is sealed to the letter's "
        "link (201). Otherwise it waits in the holding pen (202)."
    ),
    tag="mailroom",
    form=ReplyUpload,
    refused_status=422,
    bearer=True,
    responses={
        201: (ReplyMatched, N_("Matched to its letter.")),
        202: (ReplyHeld, N_("Held until someone matches it.")),
    },
)
def receive_reply(form: ReplyUpload) -> tuple[Response, int]:
    """A reply's scan from a scanning station."""
    user = api_account()
    files = [upload for upload in form.scan if isinstance(upload, FileStorage)]
    reply = incoming.ReplyInput(
        files=scan_pages(files),
        received_on=form.received_on,
        reference=form.reference or "",
        prisoner_id=form.prisoner_id,
    )
    try:
        result = incoming.receive_reply(user, reply, date.today())
    except DomainError as error:
        return json_refusal(error)
    if result.held_because is not None:
        return jsonify(matched=False, held=result.incoming.id, reason=result.held_because), 202
    letter = result.incoming.letter
    assert letter is not None
    return jsonify(matched=True, letter_state=letter.status.value), 201


@bp.post("/mailroom/returns")
@operation(
    "recordReturn",
    N_("Record a returned envelope"),
    N_(
        "By the letter's reference code, with the day it came back and why: the letter gets "
        "a returned event with the reason, and its writer sees it."
    ),
    tag="mailroom",
    body=ReturnReport,
    refused_status=422,
    bearer=True,
    responses={201: (ReturnRecorded, N_("Recorded."))},
)
def record_return(json: ReturnReport) -> tuple[Response, int]:
    """A returned envelope, by its code."""
    user = api_account()
    returned = returns.ReturnInput(
        reference=json.reference, received_on=json.received_on, reason=json.reason
    )
    try:
        found = returns.record_return(user, returned, date.today())
    except DomainError as error:
        return json_refusal(error)
    letter = found.letter
    assert letter is not None
    return jsonify(
        reference=incoming.reference_of(found),
        letter_state=letter.status.value,
    ), 201
