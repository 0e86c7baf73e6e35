"""Render a letter (A4) and its envelope (DL or C5) into one PDF.

Everything here is a pure function of its arguments: no Flask, no database. The expensive,
reusable parts — the Jinja environment, the parsed stylesheets and the font configuration —
are built once per process and shared by every render.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import re
import threading
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import weasyprint
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from weasyprint.text.fonts import FontConfiguration

from app.pdf.fetcher import FETCHER, FONTS_DIR, dir_url

SUPPORTED_ENVELOPES = ("dl", "c5")
SUPPORTED_LANGUAGES = ("ru", "en")

PDF_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PDF_DIR.parent.parent / "templates" / "pdf"

# Babel locale per letter language: en_GB writes "5 March 2025", the order most of Europe uses.
_DATE_LOCALES = {"ru": "ru", "en": "en_GB"}

# Neutral document titles: PDF metadata must not carry names of senders or prisoners.
_TITLES = {"ru": "Письмо", "en": "Letter"}

_POSTCODE = re.compile(r"^\s*(\d{6})\s*$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# C0/C1 control characters other than tab and newline would come out as boxes (or vanish
# unpredictably in the HTML parser); a letter has no use for them.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Runs of this many characters with no break opportunity (a pasted URL, a key held down) are
# given one every _BREAK_EVERY characters (a zero-width space, invisible on paper). With
# ``overflow-wrap: anywhere`` alone WeasyPrint searches each line of such a run for a break
# point along the whole rest of the run: 20,000 letters in a row took 4.9 s to lay out, and
# 0.2 s with these break points (7 A4 pages either way).
_UNBROKEN_RUN = re.compile(r"[^\s\u200b]{30,}")
_BREAK_EVERY = 10
_ZERO_WIDTH_SPACE = "\u200b"

# Blank lines left for handwriting when the sender typed nothing.
_BLANK_SENDER_NAME_LINES = 1
_BLANK_SENDER_ADDRESS_LINES = 3


@dataclass(frozen=True)
class LetterDocument:
    """What goes on the letter pages. ``body`` and ``signature`` are untrusted plain text."""

    language: str
    body: str
    signature: str
    written_on: date
    recipient_header: str
    #: A mailroom letter's reference code ("4821-0937"): printed under the signature with one
    #: line asking the prisoner to write it on the reply. Empty for every other letter.
    reference: str = ""
    #: A letter printed in its volunteers' translation: one line saying so, in the language of
    #: the translation, under the signature. Empty for a letter printed as written.
    translation_line: str = ""

    def __post_init__(self) -> None:
        if self.language not in SUPPORTED_LANGUAGES:
            raise ValueError(f"Unsupported letter language: {self.language!r}")


@dataclass(frozen=True)
class EnvelopeDocument:
    """What goes on the envelope. Every string is untrusted plain text.

    ``recipient_lines[0]`` is the «Кому» line (dative name and year of birth); the rest is the
    «Куда» address, ending with the 6-digit postcode and, for mail from abroad, the country.
    """

    size: str
    sender_name: str
    sender_address_lines: list[str]
    recipient_lines: list[str]

    def __post_init__(self) -> None:
        if self.size not in SUPPORTED_ENVELOPES:
            raise ValueError(f"Unsupported envelope size: {self.size!r}")


@dataclass(frozen=True)
class AppealDocument:
    """An appeal to an official. Every string is untrusted plain text.

    ``addressee_lines`` start with the position in the dative («Начальнику ФКУ ИК-6 …»);
    the applicant's name and address for the answer follow under it, as 59-FZ requires.
    """

    addressee_lines: list[str]
    applicant_name: str
    applicant_address_lines: list[str]
    body: str
    written_on: date


# --- process-wide state ----------------------------------------------------------------------

_jinja = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    # Templates are shipped with the code: no need to stat the files on every render.
    auto_reload=False,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Pango font maps and WeasyPrint's per-FontConfiguration caches are shared by every render in
# the process and are not documented as thread-safe. Renders are CPU-bound Python holding the
# GIL anyway, so serialising them costs next to nothing; parallelism comes from processes.
_RENDER_LOCK = threading.Lock()

#: One font configuration per process. The @font-face rules are registered into it once, when
#: the stylesheets are parsed; FontConfiguration keeps the font files in a temporary folder
#: that lives as long as this object.
FONT_CONFIG = FontConfiguration()


@cache
def _stylesheet(name: str) -> weasyprint.CSS:
    """Parse a bundled stylesheet once per process; fonts resolve against the fonts folder."""
    return weasyprint.CSS(
        string=(PDF_DIR / name).read_text(encoding="utf-8"),
        base_url=dir_url(FONTS_DIR),
        url_fetcher=FETCHER,
        font_config=FONT_CONFIG,
    )


def stylesheet(name: str) -> weasyprint.CSS:
    """A bundled stylesheet of this folder (``"pack.css"``…), parsed once per process."""
    return _stylesheet(name)


def pdf_template(name: str) -> Template:
    """A PDF layout from templates/pdf in the shared autoescaping environment."""
    return _jinja.get_template(name)


def letter_stylesheets() -> list[weasyprint.CSS]:
    """Stylesheets for the letter pages (parsed once, then reused)."""
    return [_stylesheet("fonts.css"), _stylesheet("letter.css")]


def appeal_stylesheets() -> list[weasyprint.CSS]:
    """Stylesheets for appeal pages (parsed once, then reused)."""
    return [_stylesheet("fonts.css"), _stylesheet("appeal.css")]


def envelope_stylesheets() -> list[weasyprint.CSS]:
    """Stylesheets for the envelope page (parsed once, then reused)."""
    return [_stylesheet("fonts.css"), _stylesheet("envelope.css")]


# --- text to template data -------------------------------------------------------------------


def _break_points(run: re.Match[str]) -> str:
    text = run.group()
    return _ZERO_WIDTH_SPACE.join(
        text[start : start + _BREAK_EVERY] for start in range(0, len(text), _BREAK_EVERY)
    )


def clean_text(text: str) -> str:
    """Normalise line endings, drop control characters from untrusted text, and give long
    unbroken runs invisible break points (see _UNBROKEN_RUN)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNBROKEN_RUN.sub(_break_points, _CONTROL_CHARS.sub("", text))


def paragraphs(body: str) -> list[list[str]]:
    """Split plain text into paragraphs (blank-line separated) of lines (single newlines)."""
    text = clean_text(body).strip()
    if not text:
        return []
    return [
        [line.rstrip() for line in chunk.split("\n")]
        for chunk in _PARAGRAPH_BREAK.split(text)
        if chunk.strip()
    ]


def _one_line(text: str) -> str:
    """Untrusted text meant for a single line: newlines become spaces."""
    return " ".join(clean_text(text).split())


def clean_one_line(text: str) -> str:
    """Untrusted text meant for a single line, cleaned as the letter and envelope lines are."""
    return _one_line(text)


def _address_lines(lines: list[str]) -> list[dict[str, str | None]]:
    """Address lines for the envelope template, with the postcode marked for the boxed style."""
    result: list[dict[str, str | None]] = []
    for raw in lines:
        line = _one_line(raw)
        if not line:
            continue
        match = _POSTCODE.match(line)
        result.append(
            {"text": line, "postcode": match.group(1) if match else None},
        )
    return result


def letter_context(letter: LetterDocument) -> dict[str, Any]:
    """Template data for the letter pages, cleaned but not escaped (Jinja escapes it)."""
    return {
        "lang": letter.language,
        "title": _TITLES[letter.language],
        "date": format_date(
            letter.written_on, format="long", locale=_DATE_LOCALES[letter.language]
        ),
        "recipient_header": _one_line(letter.recipient_header),
        "paragraphs": paragraphs(letter.body),
        "signature_lines": [
            line.strip() for line in clean_text(letter.signature).split("\n") if line.strip()
        ],
        "translation_line": _one_line(letter.translation_line),
        "reference_line": reference_request(letter.reference) if letter.reference else "",
    }


def reference_request(reference: str) -> str:
    """The line asking the prisoner to write a mailroom letter's code on the reply. Always in
    Russian: it is for the prisoner (and the censor), whatever the letter's language."""
    return f"Пожалуйста, укажите в ответе код {_one_line(reference)}"


def letter_html(letter: LetterDocument) -> str:
    """The HTML of the letter pages; every untrusted string is escaped by Jinja."""
    return _jinja.get_template("letter.html").render(**letter_context(letter))


def appeal_html(appeal: AppealDocument) -> str:
    """The HTML of the appeal pages; every untrusted string is escaped by Jinja."""
    return _jinja.get_template("appeal.html").render(
        title="Обращение",
        addressee_lines=[line for line in map(_one_line, appeal.addressee_lines) if line],
        applicant_name=_one_line(appeal.applicant_name),
        applicant_address_lines=[
            line for line in map(_one_line, appeal.applicant_address_lines) if line
        ],
        paragraphs=paragraphs(appeal.body),
        date=format_date(appeal.written_on, format="long", locale="ru"),
        signature_name=_one_line(appeal.applicant_name),
    )


def envelope_context(envelope: EnvelopeDocument) -> dict[str, Any]:
    """Template data for the envelope page, cleaned but not escaped (Jinja escapes it)."""
    recipient = _address_lines(envelope.recipient_lines)
    return {
        # The envelope is read by Russian Post whatever the letter's language.
        "lang": "ru",
        "title": _TITLES["ru"],
        "size": envelope.size,
        "sender_name_lines": _address_lines([envelope.sender_name]),
        "sender_address": _address_lines(envelope.sender_address_lines),
        "blank_name_lines": _BLANK_SENDER_NAME_LINES,
        "blank_address_lines": _BLANK_SENDER_ADDRESS_LINES,
        "recipient_name_lines": recipient[:1],
        "recipient_address": recipient[1:],
    }


def envelope_html(envelope: EnvelopeDocument) -> str:
    """The HTML of the envelope page; every untrusted string is escaped by Jinja."""
    return _jinja.get_template("envelope.html").render(envelope=envelope_context(envelope))


# --- rendering -------------------------------------------------------------------------------


def render_html(html: str, stylesheets: list[weasyprint.CSS]) -> weasyprint.Document:
    """Lay out trusted-template HTML with the restricted fetcher and the shared fonts.

    The base URL is the fonts folder so nothing in the document can point at a relative path
    anywhere else; the fetcher would refuse it anyway.
    """
    return weasyprint.HTML(string=html, base_url=dir_url(FONTS_DIR), url_fetcher=FETCHER).render(
        stylesheets=stylesheets, font_config=FONT_CONFIG
    )


def render_pdf(html: str, stylesheets: list[weasyprint.CSS]) -> bytes:
    """Lay out one document (see :func:`render_html`) and return its PDF."""
    with _RENDER_LOCK:
        return render_html(html, stylesheets).write_pdf()


def render_letter_pdf(letter: LetterDocument, envelope: EnvelopeDocument | None) -> bytes:
    """Render the letter on A4 pages, followed by the envelope page when one is given.

    The letter and the envelope are laid out as two documents and their pages joined, so the
    "1 / 3" page numbers count letter pages only and each part keeps its own page size.
    """
    return _render_with_envelope(letter_html(letter), letter_stylesheets(), envelope)


def render_appeal_pdf(appeal: AppealDocument, envelope: EnvelopeDocument | None) -> bytes:
    """Render an appeal in business-letter layout, followed by its envelope when given."""
    return _render_with_envelope(appeal_html(appeal), appeal_stylesheets(), envelope)


def _render_with_envelope(
    main_markup: str, stylesheets: list[weasyprint.CSS], envelope: EnvelopeDocument | None
) -> bytes:
    envelope_markup = envelope_html(envelope) if envelope is not None else None
    with _RENDER_LOCK:
        document = render_html(main_markup, stylesheets)
        pages = list(document.pages)
        if envelope_markup is not None:
            pages += render_html(envelope_markup, envelope_stylesheets()).pages
        # A laid-out Document already carries FETCHER (used for any attachment) and
        # FONT_CONFIG; Document.write_pdf() takes neither and logs "Unknown PDF option" if
        # given them.
        return document.copy(pages).write_pdf()


# --- health check ----------------------------------------------------------------------------

# The names WeasyPrint tries, in its own order (weasyprint/text/ffi.py).
_HARFBUZZ_SUBSET_NAMES = (
    "libharfbuzz-subset-0",
    "harfbuzz-subset",
    "harfbuzz-subset-0.0",
    "libharfbuzz-subset.so.0",
    "libharfbuzz-subset.0.dylib",
    "libharfbuzz-subset-0.dll",
)


def subsetting_problem() -> str | None:
    """Why WeasyPrint cannot subset fonts with HarfBuzz, or None when it can.

    Asks the library handles WeasyPrint actually loaded (so the answer is what rendering will
    do), and falls back to loading the library ourselves if WeasyPrint's internals move.
    """
    try:
        from weasyprint.text import ffi as weasy_ffi

        subset_lib = weasy_ffi.harfbuzz_subset
        harfbuzz = weasy_ffi.harfbuzz
    except (ImportError, AttributeError):
        return None if _dlopen_harfbuzz_subset() else "libharfbuzz-subset.so.0 cannot be loaded"
    if subset_lib is None:
        return "libharfbuzz-subset.so.0 cannot be loaded (Debian: libharfbuzz-subset0)"
    try:
        # Touching a function makes cffi resolve the symbol: proves the library is usable.
        subset_lib.hb_subset_or_fail  # noqa: B018
    except AttributeError:
        return "libharfbuzz-subset is loaded but lacks hb_subset_or_fail"
    # WeasyPrint only uses HarfBuzz subsetting from 4.1.0 (hb_set_add_sorted_array).
    if not harfbuzz.hb_version_atleast(4, 1, 0):
        version = weasy_ffi.ffi.string(harfbuzz.hb_version_string()).decode()
        return f"HarfBuzz {version} is older than 4.1.0"
    return None


def _dlopen_harfbuzz_subset() -> bool:
    """Try to load libharfbuzz-subset the way WeasyPrint does, by every name it knows."""
    candidates = [*_HARFBUZZ_SUBSET_NAMES]
    found = ctypes.util.find_library("harfbuzz-subset")
    if found:
        candidates.insert(0, found)
    for name in candidates:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def warn_if_subsetting_unavailable(logger: logging.Logger) -> None:
    """Log a loud WARNING when fonts would be subset by fontTools instead of HarfBuzz.

    Without HarfBuzz subsetting every PDF is about three times slower to render, which breaks
    the print-pack budget; the fix is a system package, so say which one.
    """
    problem = subsetting_problem()
    if problem:
        logger.warning(
            "PDF FONT SUBSETTING IS SLOW: %s. WeasyPrint falls back to fontTools and renders "
            "about 3x slower. Install the system package libharfbuzz-subset0 "
            "(HarfBuzz >= 4.1.0).",
            problem,
        )
