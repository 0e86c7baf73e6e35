"""The files of a mailroom print run: the letters and the envelopes apart, and the cover list
for the post office with each destination's letters, estimated weight and postage class.

Pure functions (data in, bytes out; no Flask, no database). The letters and their envelopes
are rendered once, as a drive's print pack is (app.pdf.pack: each letter followed by its
envelope, in groups, in the pool of rendering processes); `split_letters_and_envelopes` then
deals the pages into two files by their shape, so that a printer's envelope tray is filled
once, and counts each letter's pages on the way (the A4 pages before its envelope), which
the cover list weighs. Nothing is laid out twice.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from pypdf import PdfReader, PdfWriter

from app.pdf import render
from app.pdf.pack_layout import pack_stylesheets

#: Estimated weight of one printed A4 sheet (80 g/m² paper: 4.99 g), in grams. A letter is
#: printed one page per sheet.
SHEET_GRAMS = 5
#: Estimated weight of an empty DL or C5 envelope, in grams.
ENVELOPE_GRAMS = 5
#: The weight steps of letter post (the UPU's, which Russian Post's tariffs follow): a
#: standard envelope holds up to 20 g; a heavier letter pays the next step.
POSTAGE_STEPS = (20, 50, 100, 250, 500, 1000, 2000)

_COVER_TEMPLATE = "run_cover.html"
_DATE_LOCALES = {"ru": "ru", "en": "en_GB"}

# The cover is printed in the organizer's language (like the drive pack's, app.pdf.pack_layout);
# this module has no Flask, so its labels live here in both languages.
RUN_COVER_LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "document_title": "Список для почты",
        "kicker": "Список писем для отправки",
        "run": "Выпуск",
        "generated_on": "Список составлен",
        "letters": "Писем",
        "destinations": "Адресов",
        "destination": "Куда",
        "postcode": "Индекс",
        "weight": "Вес, г (оценка)",
        "postage": "Разряд по весу",
        "total": "Всего",
        "up_to": "до {grams} г",
        "over": "свыше {grams} г",
        "note": "Вес оценён: около {sheet} г на лист и {envelope} г на конверт.",
        "letters_file": "Письма",
        "envelopes_file": "Конверты",
    },
    "en": {
        "document_title": "List for the post office",
        "kicker": "Letters to post",
        "run": "Run",
        "generated_on": "List made on",
        "letters": "Letters",
        "destinations": "Destinations",
        "destination": "Destination",
        "postcode": "Postcode",
        "weight": "Weight, g (estimate)",
        "postage": "Postage class",
        "total": "Total",
        "up_to": "up to {grams} g",
        "over": "over {grams} g",
        "note": "Estimated at about {sheet} g a sheet and {envelope} g an envelope.",
        "letters_file": "Letters",
        "envelopes_file": "Envelopes",
    },
}


# --- weights ---------------------------------------------------------------------------------


def letter_grams(pages: int) -> int:
    """The estimated weight of a letter of ``pages`` pages in its envelope."""
    return pages * SHEET_GRAMS + ENVELOPE_GRAMS


def postage_step(grams: int) -> int:
    """The weight step a letter of ``grams`` pays: 20 up to 20 g, 50 up to 50 g, and so on;
    0 past the last step (no longer a letter)."""
    return next((step for step in POSTAGE_STEPS if grams <= step), 0)


def postage_label(step: int, language: str = "ru") -> str:
    """«до 20 г» / "up to 20 g" (0: «свыше 2000 г», past the last step)."""
    labels = RUN_COVER_LABELS[language]
    if step == 0:
        return labels["over"].format(grams=POSTAGE_STEPS[-1])
    return labels["up_to"].format(grams=step)


# --- splitting the rendered pack -------------------------------------------------------------


@dataclass(frozen=True)
class SplitRun:
    """The letters' pages and the envelopes' pages as two PDFs, and each letter's page count
    (in the order of the pack)."""

    letters_pdf: bytes
    envelopes_pdf: bytes
    pages: list[int]


def _is_envelope(page: Any) -> bool:
    # Letters are A4 portrait; DL and C5 envelopes are wider than they are tall.
    box = page.mediabox
    return float(box.width) > float(box.height)


def split_letters_and_envelopes(pdf: bytes, language: str = "ru") -> SplitRun:
    """Deal the pages of a pack without cover (each letter followed by its envelope) into a
    file of letters and a file of envelopes, in the same order.

    Raises ValueError when a letter has no envelope after it: every letter of a run has one.
    """
    reader = PdfReader(io.BytesIO(pdf))
    letters, envelopes = PdfWriter(), PdfWriter()
    pages: list[int] = []
    current = 0
    for page in reader.pages:
        if _is_envelope(page):
            if current == 0:
                raise ValueError("an envelope without a letter before it")
            envelopes.add_page(page)
            pages.append(current)
            current = 0
        else:
            letters.add_page(page)
            current += 1
    if current:
        raise ValueError("a letter without its envelope")
    labels = RUN_COVER_LABELS[language]
    return SplitRun(
        letters_pdf=_written(letters, labels["letters_file"]),
        envelopes_pdf=_written(envelopes, labels["envelopes_file"]),
        pages=pages,
    )


def _written(writer: PdfWriter, title: str) -> bytes:
    # Neutral metadata: no names of writers or prisoners.
    writer.add_metadata({"/Title": title, "/Creator": "Konvert"})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


# --- the cover list --------------------------------------------------------------------------


@dataclass(frozen=True)
class RunLetter:
    """One letter of a run as the cover list counts it. ``destination`` is untrusted text
    (the facility's name); letters to one destination are listed together."""

    destination: str
    postcode: str
    pages: int


@dataclass(frozen=True)
class RunCoverInfo:
    """What the cover says about the run. ``organisation`` is untrusted text."""

    organisation: str
    run_id: int
    generated_on: date
    language: str = "ru"

    def __post_init__(self) -> None:
        if self.language not in RUN_COVER_LABELS:
            raise ValueError(f"Unsupported cover language: {self.language!r}")


@dataclass(frozen=True)
class Destination:
    """One line of the cover list: a facility and postcode, with its letters' figures."""

    label: str
    postcode: str
    letters: int
    grams: int
    #: Letters per postage step, lightest first.
    steps: dict[int, int]


def destinations(letters: Sequence[RunLetter]) -> list[Destination]:
    """The letters grouped by destination (in order of first appearance), counted and
    weighed."""
    grouped: dict[tuple[str, str], list[RunLetter]] = {}
    for letter in letters:
        key = (render.clean_one_line(letter.destination), letter.postcode.strip())
        grouped.setdefault(key, []).append(letter)
    return [
        Destination(
            label=label,
            postcode=postcode,
            letters=len(mine),
            grams=sum(letter_grams(letter.pages) for letter in mine),
            steps=_steps(mine),
        )
        for (label, postcode), mine in grouped.items()
    ]


def _steps(letters: Sequence[RunLetter]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for letter in letters:
        step = postage_step(letter_grams(letter.pages))
        counts[step] = counts.get(step, 0) + 1
    # Lightest first; past the last step (0) at the end.
    return dict(sorted(counts.items(), key=lambda item: item[0] or POSTAGE_STEPS[-1] + 1))


def run_cover_html(letters: Sequence[RunLetter], info: RunCoverInfo) -> str:
    """The HTML of the cover list: one line per destination, then the totals."""
    found = destinations(letters)
    language = info.language

    def steps_text(steps: dict[int, int]) -> str:
        return ", ".join(f"{postage_label(step, language)} × {n}" for step, n in steps.items())

    labels = RUN_COVER_LABELS[language]
    return render.pdf_template(_COVER_TEMPLATE).render(
        lang=language,
        labels=labels,
        organisation=render.clean_one_line(info.organisation),
        run_id=info.run_id,
        generated_on=format_date(info.generated_on, format="long", locale=_DATE_LOCALES[language]),
        note=labels["note"].format(sheet=SHEET_GRAMS, envelope=ENVELOPE_GRAMS),
        destinations=[
            {
                "label": place.label,
                "postcode": place.postcode,
                "letters": place.letters,
                "grams": place.grams,
                "postage": steps_text(place.steps),
            }
            for place in found
        ],
        total_letters=len(letters),
        total_grams=sum(place.grams for place in found),
        total_postage=steps_text(_steps(letters)),
    )


def render_run_cover_pdf(letters: Sequence[RunLetter], info: RunCoverInfo) -> bytes:
    """Lay out the cover list (A4, numbered pages of its own) and return its PDF; runs in a
    rendering process of the pool (app.pdf.pool) or in-process."""
    return render.render_pdf(run_cover_html(letters, info), pack_stylesheets())
