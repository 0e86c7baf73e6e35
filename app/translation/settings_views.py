"""Translators' settings: their own on /account, any translator's languages for admins on
/admin/users (thin views over app.translation.translators)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.auth.permissions import logged_in_user, login_required
from app.domain import DomainError
from app.mail.one_click import accepts_one_click, confirmed
from app.refusals import flash_refusal
from app.translation import bp
from app.translation.digest import user_for_opt_out
from app.translation.forms import ClaimForm, LanguagesForm, TranslatorSettingsForm
from app.translation.translators import (
    set_own_translation_settings,
    set_translator_languages,
)


@bp.post("/translate/settings")
@login_required
def own_settings() -> Response:
    """A translator's languages and digest choice."""
    form = TranslatorSettingsForm()
    if not form.validate():
        abort(400)
    try:
        set_own_translation_settings(
            logged_in_user(),
            form.translates_from.data or "",
            form.translates_into.data or "",
            bool(form.wants_digest.data),
        )
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("auth.account"))
    flash(_("Your translation settings are saved."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/admin/users/<int:user_id>/languages")
@login_required
def translator_languages(user_id: int) -> Response:
    """An admin sets a translator's languages."""
    form = LanguagesForm()
    if not form.validate():
        abort(400)
    try:
        user = set_translator_languages(
            logged_in_user(),
            user_id,
            form.translates_from.data or "",
            form.translates_into.data or "",
        )
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("auth.users"))
    flash(_("Languages of %(email)s saved.", email=user.email), "success")
    return redirect(url_for("auth.users"))


@bp.route("/translators/digest-off/<token>", methods=["GET", "POST"])
@accepts_one_click
def digest_opt_out(token: str) -> str:
    """The digest email's opt-out: a button (link scanners only GET), or one click in the mail
    program; no login."""
    user = user_for_opt_out(token) or abort(404)
    if request.method == "GET":
        return render_template("translation/digest_opt_out.html", done=False)
    if not confirmed(ClaimForm()):
        abort(400)
    user.wants_digest = False
    return render_template("translation/digest_opt_out.html", done=True)
