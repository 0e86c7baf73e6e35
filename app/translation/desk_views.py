"""The translator's desk at /translate: the queue, the editor and the review (thin views
over app.translation.desk)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.auth.permissions import logged_in_user, login_required, require_translator
from app.composer.services import review_text
from app.domain import DomainError
from app.extensions import db
from app.mailroom.organisation import current_organisation
from app.models import Translation, TranslationKind, TranslationState, User
from app.models.base import utcnow
from app.refusals import flash_refusal
from app.stored_files import file_response
from app.translation import bp, desk, replies
from app.translation.forms import ClaimForm, EditorForm, ReviewForm


@bp.get("/translate")
@login_required
def queue() -> str:
    """Open work in the translator's languages, their own claims, and reviews waiting."""
    user = require_translator(logged_in_user())
    now = utcnow()
    return render_template(
        "translation/queue.html",
        work=desk.open_work(user, now),
        mine=desk.my_work(user, now),
        reviews=desk.waiting_for_review(user) if current_organisation().translation_review else [],
        form=ClaimForm(),
    )


@bp.post("/translate/<int:translation_id>/claim")
@login_required
def claim(translation_id: int) -> Response:
    """Claim an item and open it in the editor."""
    user = require_translator(logged_in_user())
    if not ClaimForm().validate():
        abort(400)
    try:
        desk.claim(user, translation_id, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
        return redirect(url_for("translation.queue"))
    return redirect(url_for("translation.editor", translation_id=translation_id))


def _may_open(translation: Translation, user: User) -> bool:
    """The translator holding it, or (once submitted) a reviewer, may open it."""
    return translation.state is TranslationState.SUBMITTED or translation.claimed_by_id == user.id


@bp.get("/translate/<int:translation_id>")
@login_required
def editor(translation_id: int) -> str | Response:
    """The original and the translation side by side, with the censor-risk check."""
    user = require_translator(logged_in_user())
    translation = desk.get_translation(user, translation_id) or abort(404)
    reviewing = translation.state is TranslationState.SUBMITTED
    if not _may_open(translation, user):
        flash(_("Claim this translation first."), "error")
        return redirect(url_for("translation.queue"))
    try:
        original = (
            desk.original_text(translation) if translation.kind is TranslationKind.LETTER else ""
        )
        text = desk.draft_text(translation)
        note = desk.writer_note(translation)
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("translation.queue"))
    letter = translation.letter
    form = ReviewForm(text=text) if reviewing else EditorForm(text=text)
    # Only what goes to the prison is checked for censor risks: not a reply's translation.
    checked = translation.kind is TranslationKind.LETTER
    return render_template(
        "translation/editor.html",
        translation=translation,
        letter=letter,
        original=original,
        note=note,
        checked=checked,
        review=(
            review_text(text, translation.target_language, letter.facility)
            if text and checked
            else None
        ),
        reviewing=reviewing,
        form=form,
    )


@bp.get("/translate/<int:translation_id>/scan")
@login_required
def scan(translation_id: int) -> Response:
    """The scan of a reply to translate, for the translator holding it or its reviewer."""
    user = require_translator(logged_in_user())
    translation = desk.get_translation(user, translation_id) or abort(404)
    if not _may_open(translation, user):
        abort(404)
    stored = replies.desk_copy(translation) or abort(404)
    return file_response(stored, f"konvert-reply-{translation.id}.pdf")


@bp.post("/translate/<int:translation_id>")
@login_required
def save(translation_id: int) -> Response:
    """Save, submit or release the translation in the editor."""
    user = require_translator(logged_in_user())
    desk.get_translation(user, translation_id) or abort(404)
    form = EditorForm()
    if not form.validate():
        abort(400)
    now, text = utcnow(), form.text.data or ""
    try:
        if form.action.data == "release":
            desk.release(user, translation_id, now)
        elif form.action.data == "submit":
            done = desk.submit(user, translation_id, text, now)
        else:
            desk.save_draft(user, translation_id, text, now)
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
        return redirect(url_for("translation.editor", translation_id=translation_id))
    if form.action.data == "save":
        flash(_("Translation saved."), "success")
        return redirect(url_for("translation.editor", translation_id=translation_id))
    if form.action.data == "submit":
        flash(
            _("Translation submitted for review.")
            if done.state is TranslationState.SUBMITTED
            else _("Translation done. Thank you!"),
            "success",
        )
    else:
        flash(_("Translation released."), "success")
    return redirect(url_for("translation.queue"))


@bp.post("/translate/<int:translation_id>/review")
@login_required
def decide(translation_id: int) -> Response:
    """Approve (with corrections) or return a submitted translation."""
    user = require_translator(logged_in_user())
    desk.get_translation(user, translation_id) or abort(404)
    form = ReviewForm()
    if not form.validate():
        abort(400)
    approve = form.decision.data == "approve"
    try:
        desk.review(user, translation_id, approve, utcnow(), text=form.text.data)
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
        return redirect(url_for("translation.queue"))
    flash(_("Translation approved.") if approve else _("Translation returned."), "success")
    return redirect(url_for("translation.queue"))
