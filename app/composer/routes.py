"""The composer: thin views over app.composer.services."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from app.composer import bp, services
from app.composer.forms import LetterForm
from app.directory.services import get_prisoner, mailing_address
from app.extensions import db, limiter
from app.labels import LANGUAGE
from app.models import Prisoner


def _public_write_limit() -> str:
    return str(current_app.config["RATELIMIT_PUBLIC_WRITES"])


def _build_form(prisoner: Prisoner) -> LetterForm:
    form = LetterForm()
    templates = services.available_templates()
    form.template_id.choices = [SelectChoice("None", _l("Blank letter"))] + [
        SelectChoice(str(t.id), t.title, optgroup=str(LANGUAGE.get(t.language, t.language)))
        for t in templates
    ]
    if request.method == "GET":
        languages = prisoner.language_list
        form.language.data = "ru" if "ru" in languages or not languages else languages[0]
    return form


def _page(prisoner: Prisoner, form: LetterForm, preview: str | None = None) -> str:
    template = services.get_template(form.template_id.data)
    return render_template(
        "composer/write.html",
        prisoner=prisoner,
        form=form,
        address=mailing_address(prisoner),
        template=template,
        preview=preview,
        unfilled=services.unfilled_places(form.body.data),
        foreign_language=form.language.data not in (prisoner.language_list or ["ru"]),
        max_chars=current_app.config["MAX_LETTER_CHARS"],
    )


@bp.route("/prisoners/<int:prisoner_id>/write", methods=["GET", "POST"])
@limiter.limit(_public_write_limit, methods=["POST"])
def write(prisoner_id: int) -> Response | str | tuple[str, int]:
    """Pick a template, edit, preview and save a letter."""
    prisoner = get_prisoner(prisoner_id) or abort(404)
    form = _build_form(prisoner)
    if not prisoner.can_receive_letters:
        flash(_("This person cannot receive letters now."), "warning")
        return redirect(url_for("directory.prisoner", prisoner_id=prisoner.id))

    if request.method == "GET":
        template = services.get_template(request.args.get("template", type=int))
        if template is not None:
            form.template_id.data = template.id
            form.language.data = template.language
            form.body.data = services.render_template_for(template, prisoner, "", date.today())
        return _page(prisoner, form)

    if not form.validate():
        return _page(prisoner, form), 422

    if form.apply_template.data:
        template = services.get_template(form.template_id.data)
        if template is not None:
            form.language.data = template.language
            try:
                form.body.data = services.render_template_for(
                    template, prisoner, form.signature.data or "", date.today()
                )
            except services.ComposeError as error:
                form.template_id.errors = [error.message]
                return _page(prisoner, form), 422
        return _page(prisoner, form)

    if form.preview.data:
        return _page(prisoner, form, preview=form.body.data or "")

    try:
        letter = services.create_letter(
            prisoner,
            body=form.body.data or "",
            signature=form.signature.data or "",
            language=form.language.data or "ru",
            template=services.get_template(form.template_id.data),
            max_chars=current_app.config["MAX_LETTER_CHARS"],
        )
    except services.ComposeError as error:
        getattr(form, error.field).errors = [error.message]
        return _page(prisoner, form), 422
    db.session.commit()
    return redirect(url_for("tracking.letter", token=letter.token, saved=1))
