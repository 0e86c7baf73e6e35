"""Composing letters: template context, rendering, saving with a tracking token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.composer import length
from app.domain import DomainError
from app.extensions import db
from app.library.bounds import RenderLimits
from app.library.sandbox import TemplateRenderError, render_body
from app.models import Facility, Letter, Official, Prisoner, Template, TemplateKind
from app.russian.censor import Finding, check_text, estimate_pages
from app.russian.names import (
    all_forms,
    effective_gender,
    greeting,
    initials_name,
    normalize_for_search,
    transliterate,
)
from app.tokens import new_tracking_token

DATE_LOCALES = {"en": "en_GB"}  # «23 November 2026», as people write it in letters
SIGNATURE_PLACEHOLDER = {"ru": "[Ваше имя]", "en": "[Your name]"}


UNFILLED_PLACE = re.compile(r"\[[^\]\n]{3,}\]")


def unfilled_places(body: str | None) -> list[str]:
    """Places in square brackets a template left for the writer's own words."""
    return UNFILLED_PLACE.findall(body or "")


def template_context(
    prisoner: Prisoner,
    signature: str,
    language: str,
    today: date,
    official: Official | None = None,
) -> dict[str, Any]:
    """The plain data a template body may use (see letters/README.md).

    Appeals also get ``official`` and ``facility`` (the current or last known one).
    """
    name = prisoner.person_name
    context: dict[str, Any] = {
        "greeting": greeting(name, language),
        "greeting_formal": greeting(name, language, formal=True),
        "prisoner": {
            "first_name": prisoner.first_name,
            "last_name": prisoner.last_name,
            "patronymic": prisoner.patronymic or "",
            "full_name": prisoner.full_name,
            "latin_name": prisoner.latin_name,
            "latin_first_name": prisoner.first_name_latin or transliterate(prisoner.first_name),
            "gender": effective_gender(name).value,
            "initials_name": initials_name(name),
            "forms": all_forms(name),
            "birth_year": prisoner.year_of_birth or "",
            "in_transit": prisoner.current_facility is None,
        },
        "sender": {"signature": signature.strip() or SIGNATURE_PLACEHOLDER.get(language, "")},
        "today": format_date(today, format="long", locale=DATE_LOCALES.get(language, language)),
    }
    if official is not None:
        facility = prisoner.last_known_facility
        context["official"] = {
            "position": official.position,
            "position_dative": official.position_dative,
            "organisation": official.organisation,
        }
        context["facility"] = {
            "name": facility.name if facility else "",
            "code": facility.code if facility else "",
            "region": facility.region if facility else "",
        }
    return context


def available_templates(kind: TemplateKind = TemplateKind.LETTER) -> list[Template]:
    """Active templates of a kind, Russian first."""
    query = select(Template).where(Template.retired.is_(False), Template.kind == kind)
    templates = db.session.scalars(query.order_by(Template.occasion, Template.title))
    return sorted(templates, key=lambda t: (t.language != "ru", t.occasion, t.title))


def get_template(
    template_id: int | None, kind: TemplateKind = TemplateKind.LETTER
) -> Template | None:
    """An active template of a kind by id, or None."""
    if template_id is None:
        return None
    template = db.session.get(Template, template_id)
    if template is None or template.retired or template.kind != kind:
        return None
    return template


def render_limits() -> RenderLimits:
    """The bounds a template renders within: a few letters long at most, quickly."""
    return RenderLimits.for_letters(
        current_app.config["MAX_LETTER_CHARS"], current_app.config["TEMPLATE_RENDER_SECONDS"]
    )


def render_template_for(
    template: Template,
    prisoner: Prisoner,
    signature: str,
    today: date,
    official: Official | None = None,
) -> str:
    """The template's text filled in for this prisoner, signature and (appeals) official."""
    context = template_context(prisoner, signature, template.language, today, official)
    try:
        return render_body(template.body, context, render_limits())
    except TemplateRenderError as error:
        raise DomainError(
            "template_id", _l("This template could not be filled in: %(error)s", error=str(error))
        ) from error


def create_letter(
    prisoner: Prisoner,
    *,
    body: str,
    signature: str,
    language: str,
    template: Template | None,
    max_chars: int,
    limits: length.PrintLimits,
    official: Official | None = None,
    sender_address: str | None = None,
) -> Letter:
    """Save a letter (or, with an official, an appeal) with a new tracking token.

    A letter is addressed to the prisoner's current facility; an appeal concerns their
    current or last known facility and goes to the official. The sender's address is kept
    only when given here, which the caller does only on the sender's explicit request.
    A letter that would print on more pages than ``limits`` allow is refused (see
    app.composer.length; checking may raise RenderTimeout).
    """
    if official is None and not prisoner.can_receive_letters:
        raise DomainError("body", _l("This person cannot receive letters now."))
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise DomainError("body", _l("The letter is empty."))
    if len(text) > max_chars:
        raise DomainError(
            "body", _l("The letter is too long (at most %(max)d characters).", max=max_chars)
        )
    name = signature.strip()
    if not name:
        raise DomainError("signature", _l("Sign with any name, a pseudonym is fine."))
    if name in SIGNATURE_PLACEHOLDER.values() or any(
        placeholder in text for placeholder in SIGNATURE_PLACEHOLDER.values()
    ):
        raise DomainError("body", _l("Replace the placeholder for your name before saving."))
    length.check_length(
        length.printed_document(prisoner, text, name, language, official, date.today()), limits
    )
    letter = Letter.written(
        new_tracking_token(),
        prisoner=prisoner,
        template=template,
        kind=TemplateKind.APPEAL if official else TemplateKind.LETTER,
        official=official,
        facility=prisoner.last_known_facility if official else prisoner.current_facility,
        language=language,
        body=text + "\n",
        signature=name,
        sender_address=(sender_address or "").strip() or None,
    )
    db.session.add(letter)
    db.session.flush()
    return letter


@dataclass(frozen=True)
class Review:
    """What the censor-risk check and the length estimate say about a text."""

    findings: list[Finding]
    segments: list[tuple[str, Finding | None]]
    characters: int
    pages: int
    max_pages: int | None

    @property
    def over_limit(self) -> bool:
        """True when the facility's page limit is known and the text exceeds it."""
        return self.max_pages is not None and self.pages > self.max_pages


def highlight_segments(text: str, findings: list[Finding]) -> list[tuple[str, Finding | None]]:
    """Cut the text into plain and risky pieces for highlighting; overlaps keep the first."""
    segments: list[tuple[str, Finding | None]] = []
    position = 0
    for finding in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if finding.start < position or finding.end <= finding.start:
            continue  # overlaps a span already marked, or marks the whole text (length)
        if finding.end - finding.start == len(text) and finding.category == "length":
            continue
        if finding.start > position:
            segments.append((text[position : finding.start], None))
        segments.append((text[finding.start : finding.end], finding))
        position = finding.end
    if position < len(text):
        segments.append((text[position:], None))
    return segments


def recipient_names(prisoner: Prisoner) -> list[str]:
    """Every written form of the recipient's name: six cases and the Latin spelling."""
    return [*all_forms(prisoner.person_name).values(), prisoner.latin_name]


def _names_recipient(piece: str, names: list[str]) -> bool:
    folded = normalize_for_search(piece)
    return any(folded in normalize_for_search(name) for name in names)


def review_text(
    text: str, language: str, facility: Facility | None, names: list[str] | None = None
) -> Review:
    """Run the censor-risk check and estimate the printed length against the facility's limit.

    ``names`` are the recipient's own name forms: a letter naming the person it is written to
    is not discussing another prisoner, even when that person is well known.
    """
    max_pages = facility.max_letter_pages if facility else None
    findings = [
        finding
        for finding in check_text(text, language, max_pages)
        if not (
            finding.category == "other_prisoners"
            and names
            and _names_recipient(text[finding.start : finding.end], names)
        )
    ]
    return Review(
        findings=findings,
        segments=highlight_segments(text, findings),
        characters=len(text),
        pages=estimate_pages(text) if text.strip() else 0,
        max_pages=max_pages,
    )
