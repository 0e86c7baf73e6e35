"""The compose page shared by letters to prisoners and appeals to officials."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]

from app.composer import drafts, length, services
from app.composer.forms import ORGANISATION, SELF, AppealForm, LetterForm
from app.directory.services import mailing_address
from app.domain import DomainError, as_id
from app.labels import LANGUAGE
from app.mailroom import services as mailroom
from app.mailroom.organisation import current_organisation
from app.models import Letter, Official, Prisoner, Template, TemplateKind
from app.refusals import show_on_form
from app.translation import requests as translation


def _build_form(
    prisoner: Prisoner,
    official: Official | None,
    offered: list[Template] | None,
    mailroom_open: bool,
    translation_offered: bool,
) -> LetterForm:
    kind = TemplateKind.APPEAL if official else TemplateKind.LETTER
    form = AppealForm() if official else LetterForm()
    blank = _l("Blank appeal") if official else _l("Blank letter")
    templates = offered or services.available_templates(kind)
    form.template_id.choices = [SelectChoice("None", blank)] + [
        SelectChoice(str(t.id), t.title, optgroup=str(LANGUAGE.get(t.language, t.language)))
        for t in templates
    ]
    if mailroom_open:
        form.delivery.choices = [
            SelectChoice(SELF, _l("I print and post it")),
            SelectChoice(
                ORGANISATION,
                _l("Send it through %(name)s", name=current_organisation().name),
            ),
        ]
    if translation_offered:
        form.translate.label.text = _l(
            "Have it translated by %(name)s's volunteers", name=current_organisation().name
        )
    if request.method == "GET" and not official:
        languages = prisoner.language_list
        form.language.data = "ru" if "ru" in languages or not languages else languages[0]
    return form


def _page(
    prisoner: Prisoner,
    official: Official | None,
    form: LetterForm,
    preview: str | None = None,
    mailroom_open: bool = False,
    translation_offered: bool = False,
    draft_key: str = "",
) -> str:
    kind = TemplateKind.APPEAL if official else TemplateKind.LETTER
    return render_template(
        "composer/write.html",
        prisoner=prisoner,
        official=official,
        form=form,
        address=None if official else mailing_address(prisoner),
        official_address=official.recipient_lines if official else None,
        template=services.get_template(form.template_id.data, kind),
        preview=preview,
        unfilled=services.unfilled_places(form.body.data),
        # Appeals must speak of the case and conditions: the censor check is for letters.
        review=None
        if official
        else services.review_text(
            form.body.data or "",
            form.language.data or "ru",
            prisoner.current_facility,
            services.recipient_names(prisoner),
        ),
        foreign_language=not official
        and (form.language.data or "ru") not in (prisoner.language_list or ["ru"]),
        max_chars=current_app.config["MAX_LETTER_CHARS"],
        action=request.path,
        draft_key=draft_key or drafts.draft_key(prisoner, official),
        organisation=current_organisation() if mailroom_open else None,
        translator_organisation=current_organisation() if translation_offered else None,
    )


def compose(
    prisoner: Prisoner,
    official: Official | None = None,
    *,
    offered: list[Template] | None = None,
    after_save: Callable[[Letter], Response] | None = None,
    offer_mailroom: bool = False,
    draft_key: str | None = None,
    signature: str = "",
) -> Response | str | tuple[str, int]:
    """Pick a template, edit, preview and save; for appeals, ``official`` is the addressee.

    A drive narrows the templates (``offered``) and decides where to go after saving.
    ``offer_mailroom``: the writer may send the letter through the organisation (when its
    mailroom is open and the prisoner has an address): it is then handed over on saving.
    ``draft_key`` names the draft the browser keeps of this page (app.composer.drafts).
    ``signature`` fills "Sign with" on a new page (a drive's participant: their name).
    """
    kind = TemplateKind.APPEAL if official else TemplateKind.LETTER
    mailroom_open = offer_mailroom and official is None and mailroom.offers_mailroom(prisoner)
    # Translation only needs the mailroom open: a writer who posts it can ask for it too.
    translation_offered = (
        offer_mailroom and official is None and current_organisation().can_take_letters
    )
    form = _build_form(prisoner, official, offered, mailroom_open, translation_offered)
    draft_key = draft_key or drafts.draft_key(prisoner, official)
    page = partial(
        _page,
        mailroom_open=mailroom_open,
        translation_offered=translation_offered,
        draft_key=draft_key,
    )

    if request.method == "GET":
        form.signature.data = signature  # a drive's participant signs with the name they gave
        template = services.get_template(request.args.get("template", type=as_id), kind)
        if template is not None:
            form.template_id.data = template.id
            form.language.data = template.language
            try:
                form.body.data = services.render_template_for(
                    template, prisoner, "", date.today(), official
                )
            except DomainError as error:
                show_on_form(form, error)
                return page(prisoner, official, form), 422
        return page(prisoner, official, form)

    if not form.validate():
        return page(prisoner, official, form), 422

    if form.apply_template.data:
        template = services.get_template(form.template_id.data, kind)
        if template is not None:
            form.language.data = template.language
            try:
                form.body.data = services.render_template_for(
                    template, prisoner, form.signature.data or "", date.today(), official
                )
            except DomainError as error:
                show_on_form(form, error)
                return page(prisoner, official, form), 422
        return page(prisoner, official, form)

    if form.preview.data:
        return page(prisoner, official, form, preview=form.body.data or "")

    try:
        letter = services.create_letter(
            prisoner,
            body=form.body.data or "",
            signature=form.signature.data or "",
            language=form.language.data or "ru",
            template=services.get_template(form.template_id.data, kind),
            max_chars=current_app.config["MAX_LETTER_CHARS"],
            limits=length.print_limits(),
            official=official,
        )
        translating = offer_mailroom and official is None and bool(form.translate.data)
        if translating:
            # Checked before the mailroom takes it, so that the refusal names translation.
            translation.check_translation(prisoner.language_list, letter.language)
        # Asked for even when the mailroom closed while the page was open: then refused.
        if offer_mailroom and official is None and form.delivery.data == ORGANISATION:
            mailroom.hand_to_organisation(letter, translating=translating)
        if translating:
            translation.request_translation(letter, form.translator_note.data or "")
    except DomainError as error:
        show_on_form(form, error)
        return page(prisoner, official, form), 422
    drafts.forget_after_save(draft_key)
    if after_save is not None:
        return after_save(letter)
    return redirect(url_for("tracking.letter", token=letter.token, saved=1))
