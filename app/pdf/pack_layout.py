"""The documents of a print pack: its data (items, cover), its errors, and laying out one group
of letters or the cover list as one PDF.

Pure rendering (data in, bytes out; no Flask, no database), run in the pool's worker processes
(app.pdf.pool) and usable in-process too. app.pdf.pack cuts a pack into groups and joins them.

How a group stays faithful to single letters (pack.css, pack_letters.html): the letter and
envelope rules of letter.css and envelope.css, scoped; a page name per letter, so that its page
counter restarts and its footer says "page / pages of this letter"; the recipient header as a
named string (not a running element, which makes WeasyPrint lay out again the first page of
every letter). The pages come out identical to render_letter_pdf's, pixel for pixel.

Untrusted text goes through the same autoescaping Jinja environment as single letters, and every
HTML() and CSS() uses the restricted URL fetcher (render.render_html and render.stylesheet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date

from app.pdf import render
from app.pdf.render import (
    SUPPORTED_ENVELOPES,
    SUPPORTED_LANGUAGES,
    EnvelopeDocument,
    LetterDocument,
)

_LETTERS_TEMPLATE = "pack_letters.html"
_COVER_TEMPLATE = "pack_cover.html"
_STYLESHEETS = ("fonts.css", "pack.css")

_DATE_LOCALES = {"ru": "ru", "en": "en_GB"}

# The cover is printed in the organizer's language; the envelopes are always Russian. This module
# has no Flask (it runs in worker processes), so its few labels live here in both languages.
COVER_LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "document_title": "Письма",
        "kicker": "Список писем для отправки",
        "held_on": "Дата вечера",
        "generated_on": "Список составлен",
        "letters": "Писем",
        "facilities": "Учреждений",
        "facility": "Учреждение",
        "total": "Всего",
        "number": "№",
        "recipient": "Кому",
        "envelope": "Конверт",
        "no_envelope": "без конверта",
    },
    "en": {
        "document_title": "Letters",
        "kicker": "Letters to post",
        "held_on": "Drive held on",
        "generated_on": "List made on",
        "letters": "Letters",
        "facilities": "Facilities",
        "facility": "Facility",
        "total": "Total",
        "number": "No.",
        "recipient": "Recipient",
        "envelope": "Envelope",
        "no_envelope": "none",
    },
}


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackItem:
    """One letter of the pack with its envelope and the labels of its cover-list line.

    ``facility_label`` groups the cover list («ФКУ ИК-6 УФСИН России по Владимирской области,
    601120»); ``recipient_label`` is the line under it («Горинову Алексею Александровичу,
    1961 г.р.»). Every string is untrusted.
    """

    letter: LetterDocument
    envelope: EnvelopeDocument | None
    facility_label: str
    recipient_label: str

    def __post_init__(self) -> None:
        if not isinstance(self.letter, LetterDocument):
            raise TypeError("A print pack holds letters to prisoners only, not appeals")


@dataclass(frozen=True)
class CoverInfo:
    """What the cover list says about the drive. ``title`` is untrusted text.

    ``language`` is the language of the cover's own labels ("ru" or "en"), not of the letters.
    """

    title: str
    held_on: date
    generated_on: date
    language: str = "ru"

    def __post_init__(self) -> None:
        if self.language not in COVER_LABELS:
            raise ValueError(f"Unsupported cover language: {self.language!r}")


@dataclass(frozen=True)
class CoverRow:
    """One line of the cover list: what the worker needs, not the whole letter."""

    number: int
    facility_label: str
    recipient_label: str
    envelope_size: str | None


class PackRenderError(RuntimeError):
    """The pack could not be built; the message says which letters and why, for the job log."""


class PackItemError(ValueError):
    """One item of a group cannot be turned into a page (raised in a worker, picklable)."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(number, reason)
        self.number = number
        self.reason = reason

    def __str__(self) -> str:
        return f"letter {self.number}: {self.reason}"


# --- rendering (runs in the workers; usable in-process too) ---------------------------------


def pack_stylesheets() -> list[Any]:
    """The pack's stylesheets (fonts + pack.css), parsed once per process."""
    return [render.stylesheet(name) for name in _STYLESHEETS]


def _item_context(item: PackItem, number: int) -> dict[str, Any]:
    """Template data for one item; refuses what the layout has no place for."""
    letter = item.letter
    if not isinstance(letter, LetterDocument):
        raise TypeError("not a letter to a prisoner")
    if letter.language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"Unsupported letter language: {letter.language!r}")
    envelope = item.envelope
    if envelope is not None and envelope.size not in SUPPORTED_ENVELOPES:
        # The dataclass refuses this too; checked again because a size that reached the
        # template would silently print the envelope on an A4 page.
        raise ValueError(f"Unsupported envelope size: {envelope.size!r}")
    return {
        "letter": render.letter_context(letter),
        "envelope": render.envelope_context(envelope) if envelope is not None else None,
        "number": number,
        # Unique in the whole pack: the joined PDF keeps each group's named destinations.
        "end_id": f"pack-end-{number}",
    }


def letters_html(items: Sequence[PackItem], first_number: int = 1) -> str:
    """The HTML of one group: each letter's pages, then its envelope page.

    ``first_number`` is the position of ``items[0]`` in the whole pack (1-based); it keeps
    anchors unique and error messages precise.
    """
    contexts = []
    for offset, item in enumerate(items):
        number = first_number + offset
        try:
            contexts.append(_item_context(item, number))
        except Exception as error:
            raise PackItemError(number, f"{type(error).__name__}: {error}") from error
    return render.pdf_template(_LETTERS_TEMPLATE).render(
        title=COVER_LABELS["ru"]["document_title"], items=contexts
    )


def render_group_pdf(items: Sequence[PackItem], first_number: int = 1) -> bytes:
    """Lay out a group of letters and envelopes as one document and return its PDF.

    Each letter has a page name of its own, so its page counter restarts at 1 and its footer
    shows "page / pages of this letter", the total being the page its end marker lands on
    (pack_letters.html). Margins, header and type are those of a single letter (pack.css).
    """
    markup = letters_html(items, first_number)
    return render.render_pdf(markup, pack_stylesheets())


def cover_rows(items: Sequence[PackItem]) -> list[CoverRow]:
    """The cover-list lines of a pack, numbered by position in the pack."""
    return [
        CoverRow(
            number=number,
            facility_label=item.facility_label,
            recipient_label=item.recipient_label,
            envelope_size=item.envelope.size if item.envelope is not None else None,
        )
        for number, item in enumerate(items, start=1)
    ]


def cover_html(rows: Sequence[CoverRow], cover: CoverInfo) -> str:
    """The HTML of the cover list: facilities in order of first appearance, with counts."""
    facilities: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        label = render.clean_one_line(row.facility_label)
        facilities.setdefault(label, []).append(
            {
                "number": row.number,
                "recipient": render.clean_one_line(row.recipient_label),
                "envelope": row.envelope_size.upper() if row.envelope_size else None,
            }
        )
    locale = _DATE_LOCALES[cover.language]
    return render.pdf_template(_COVER_TEMPLATE).render(
        lang=cover.language,
        labels=COVER_LABELS[cover.language],
        title=render.clean_one_line(cover.title),
        held_on=format_date(cover.held_on, format="long", locale=locale),
        generated_on=format_date(cover.generated_on, format="long", locale=locale),
        total=len(rows),
        facilities=[{"label": label, "rows": lines} for label, lines in facilities.items()],
    )


def render_cover_pdf(rows: Sequence[CoverRow], cover: CoverInfo) -> bytes:
    """Lay out the cover list (A4, numbered pages of its own) and return its PDF."""
    markup = cover_html(rows, cover)
    return render.render_pdf(markup, pack_stylesheets())
