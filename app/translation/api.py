"""The translation desk in the JSON API: the queue, claims, drafts and submission, for
translators' own tools. Personal bearer tokens (`app.api.auth.api_account`) of translators,
organizers and admins; thin views over app.translation.desk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from flask import abort, jsonify
from pydantic import Field
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import api_account
from app.api.openapi import View, operation
from app.api.responses import FieldErrorBody, HttpErrorBody, ResponseModel
from app.api.schemas import N_, RequestModel, described
from app.auth.permissions import require_translator
from app.domain import MAX_ID, DomainError
from app.extensions import db
from app.models import Translation, TranslationKind, TranslationState, User
from app.models.base import utcnow
from app.refusals import json_refusal
from app.stored_files import file_response
from app.translation import desk, replies

NOT_FOUND = N_("No such translation in your languages.")
ID = f"<int(min=1, max={MAX_ID}):translation_id>"


@described(N_("Which translations to list."))
class TranslationQuery(RequestModel):
    is_query: ClassVar[bool] = True
    blank_means_absent: ClassVar[tuple[str, ...]] = ("state", "from", "to")

    state: TranslationState = Field(
        default=TranslationState.OPEN,
        description=N_(
            "Translations in this state, oldest first; open (with expired claims) unless given."
        ),
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        max_length=8,
        description=N_("Only from this language, e.g. en."),
    )
    to: str | None = Field(
        default=None, max_length=8, description=N_("Only into this language, e.g. ru.")
    )


@described(N_("The translated text."))
class TranslationText(RequestModel):
    text: str = Field(
        max_length=desk.MAX_TRANSLATION_CHARS, description=N_("The translation so far.")
    )


@described(N_("A translation at the desk: its languages and state, never the letter's writer."))
class TranslationItem(ResponseModel):
    id: int
    kind: str = Field(description=N_("letter: into the prisoner's language; reply: back."))
    source_language: str
    target_language: str
    state: TranslationState
    claimed_by_you: bool
    claim_expires_at: str | None = Field(description=N_("When the claim runs out (UTC)."))
    created_at: str
    original: str | None = Field(
        description=N_(
            "A letter's text to translate, while you hold the claim; null otherwise and for "
            "replies (their scan is at /api/v1/translations/{id}/scan)."
        )
    )
    draft: str | None = Field(
        description=N_("The translation saved so far, while you hold the claim; null otherwise.")
    )


@described(N_("Translations, oldest first."))
class TranslationList(ResponseModel):
    items: list[TranslationItem]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _held_by(translation: Translation, user: User) -> bool:
    return translation.claimed_by_id == user.id and translation.state is TranslationState.CLAIMED


def translation_json(translation: Translation, user: User) -> dict[str, Any]:
    """A translation as the API shows it: the texts only to the translator holding it."""
    holds = _held_by(translation, user)
    original = draft = None
    if holds:
        try:
            draft = desk.draft_text(translation)
            if translation.kind is TranslationKind.LETTER:
                original = desk.original_text(translation)
        except DomainError:  # the writer no longer shares it: nothing to show
            original = draft = None
    return {
        "id": translation.id,
        "kind": translation.kind.value,
        "source_language": translation.source_language,
        "target_language": translation.target_language,
        "state": translation.state.value,
        "claimed_by_you": holds,
        "claim_expires_at": _iso(translation.claim_expires_at),
        "created_at": translation.created_at.isoformat(),
        "original": original,
        "draft": draft,
    }


def _now() -> datetime:
    return utcnow().replace(microsecond=0)


@bp.get("/translations")
@operation(
    "listTranslations",
    N_("Translations at the desk"),
    N_(
        "Translations in your languages in one state, oldest first: open (including claims "
        "that ran out), claimed, submitted or done. For translators, organizers and admins."
    ),
    tag="translation",
    query=TranslationQuery,
    bearer=True,
    bearer_check=require_translator,
    responses={200: (TranslationList, N_("The translations."))},
)
def list_translations(query: TranslationQuery) -> Response:
    """Translations by state and language pair."""
    user = api_account(require_translator)
    found = desk.translations_in_state(user, query.state, query.from_, query.to, now=_now())
    response = jsonify(items=[translation_json(item, user) for item in found])
    response.headers["Cache-Control"] = "no-store"
    return response


def _act(
    translation_id: int, action: str, text: str | None = None
) -> Response | tuple[Response, int]:
    user = api_account(require_translator)
    if desk.get_translation(user, translation_id) is None:
        abort(404)
    now = _now()
    try:
        if action == "claim":
            translation = desk.claim(user, translation_id, now)
        elif action == "release":
            translation = desk.release(user, translation_id, now)
        elif action == "save":
            translation = desk.save_draft(user, translation_id, text or "", now)
        else:
            translation = desk.submit(user, translation_id, text or "", now)
    except DomainError as error:
        db.session.rollback()
        return json_refusal(error)
    return jsonify(translation_json(translation, user))


_ACTION_RESPONSES: dict[int, tuple[type[ResponseModel] | None, str]] = {
    200: (TranslationItem, N_("Done: the translation in its new state.")),
    404: (HttpErrorBody, NOT_FOUND),
    422: (
        FieldErrorBody,
        N_("Refused: someone else holds it, your claim ran out, or it is done; the message says."),
    ),
}
_PATH = {"translation_id": N_("The translation's id.")}


def _action(
    operation_id: str, summary: str, description: str, body: type[RequestModel] | None = None
) -> Callable[[View], View]:
    """The operation of an action on one translation: a translator's token, the translation
    in its new state, or 404 and 422."""
    return operation(
        operation_id,
        summary,
        description,
        tag="translation",
        body=body,
        refused_status=422,
        bearer=True,
        bearer_check=require_translator,
        responses=dict(_ACTION_RESPONSES),
        path_parameters=_PATH,
    )


@bp.post(f"/translations/{ID}/claim")
@_action(
    "claimTranslation",
    N_("Claim a translation"),
    N_(
        "Lock an open translation (or one whose claim ran out) for the organisation's claim "
        "minutes. Of translators claiming at the same moment, exactly one wins."
    ),
)
def claim_translation(translation_id: int) -> Response | tuple[Response, int]:
    """Claim a translation."""
    return _act(translation_id, "claim")


@bp.post(f"/translations/{ID}/release")
@_action(
    "releaseTranslation",
    N_("Release a translation"),
    N_("Give a translation you hold back to the queue; its draft stays."),
)
def release_translation(translation_id: int) -> Response | tuple[Response, int]:
    """Release a claim."""
    return _act(translation_id, "release")


@bp.put(f"/translations/{ID}")
@_action(
    "saveTranslation",
    N_("Save a translation's draft"),
    N_("Save the text of a translation you hold, encrypted like the letter."),
    body=TranslationText,
)
def save_translation(
    translation_id: int, json: TranslationText
) -> Response | tuple[Response, int]:
    """Save a draft."""
    return _act(translation_id, "save", json.text)


@bp.post(f"/translations/{ID}/submit")
@_action(
    "submitTranslation",
    N_("Submit a translation"),
    N_(
        "Hand in the saved draft of a translation you hold: done, or waiting for a second "
        "translator's review when the organisation asks for one."
    ),
)
def submit_translation(translation_id: int) -> Response | tuple[Response, int]:
    """Submit the saved draft."""
    user = api_account(require_translator)
    translation = desk.get_translation(user, translation_id) or abort(404)
    try:
        text = desk.draft_text(translation)
    except DomainError as error:
        return json_refusal(error)
    return _act(translation_id, "submit", text)


@bp.get(f"/translations/{ID}/scan")
@operation(
    "getTranslationScan",
    N_("The scan of a reply to translate"),
    N_(
        "The reply's scan (a PDF), for the translator holding its translation; deleted once "
        "the translation is done. Never cached."
    ),
    tag="translation",
    bearer=True,
    bearer_check=require_translator,
    responses={
        200: (None, N_("The scan, a PDF.")),
        404: (HttpErrorBody, N_("No such reply translation held by you, or its scan is gone.")),
    },
    path_parameters=_PATH,
)
def translation_scan(translation_id: int) -> Response:
    """A held reply translation's scan."""
    user = api_account(require_translator)
    translation = desk.get_translation(user, translation_id) or abort(404)
    if not _held_by(translation, user):
        abort(404)
    stored = replies.desk_copy(translation) or abort(404)
    return file_response(stored, f"konvert-reply-{translation.id}.pdf")
