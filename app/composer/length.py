"""How many pages a letter prints on, and the cap on it (KONVERT_MAX_LETTER_PAGES).

The cap keeps rendering cheap for everyone: a letter is a PDF rendered on demand, and a text of
10,000 one-letter lines is 20,000 characters but 258 pages. Lines count, not characters, so
the check starts with the censor check's estimate (app.russian, which counts lines as the PDF
lays them out) and refuses at once, without rendering, whatever is over the cap by that count.

The estimate assumes letters of average width; text of only wide letters prints longer
(measured: up to 2.9 times the estimate, for 76-letter lines of «Ю», each of which wraps into
three). So a letter the estimate puts above a quarter of the cap is laid out for real, within
the render time limit, and its real page count decides; anything shorter cannot reach the cap
and is never rendered here (most letters: one to three pages).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.directory.services import recipient_name
from app.domain import DomainError
from app.models import Official, Prisoner
from app.models.letter import closing_signature
from app.pdf import bounded
from app.pdf.render import AppealDocument, LetterDocument
from app.russian.censor import estimate_pages

log = logging.getLogger(__name__)

#: The real count is at most this many times the estimate (2.9 measured; see above).
ESTIMATE_SHORTFALL = 4


@dataclass(frozen=True)
class PrintLimits:
    """The page cap for one letter and the seconds a render may take."""

    max_pages: int
    timeout: float


def print_limits() -> PrintLimits:
    """The limits this app is configured with."""
    return PrintLimits(
        max_pages=int(current_app.config["MAX_LETTER_PAGES"]),
        timeout=float(current_app.config["PDF_TIMEOUT_SECONDS"]),
    )


def printed_document(
    prisoner: Prisoner,
    body: str,
    signature: str,
    language: str,
    official: Official | None,
    written_on: date,
) -> LetterDocument | AppealDocument:
    """A letter about to be saved, as the PDF will lay it out (tracking.services does the
    same for a saved one). An appeal's address for the answer is typed only when it is
    printed: its few lines are not counted here."""
    if official is not None:
        return AppealDocument(
            addressee_lines=official.recipient_lines,
            applicant_name=signature,
            applicant_address_lines=[],
            body=body,
            written_on=written_on,
        )
    return LetterDocument(
        language=language,
        body=body,
        signature=closing_signature(body, signature),
        written_on=written_on,
        recipient_header=recipient_name(prisoner),
    )


def estimated_pages(document: LetterDocument | AppealDocument) -> int:
    """The page estimate of a letter or appeal: its text and the name signed under it."""
    signature = (
        document.applicant_name if isinstance(document, AppealDocument) else document.signature
    )
    return estimate_pages(f"{document.body}\n\n{signature}")


def too_long(pages: int, limits: PrintLimits) -> DomainError:
    """The refusal of a letter of ``pages`` pages, in the writer's language (a request's)."""
    return DomainError(
        "body",
        ngettext(
            "This letter would take %(pages)d pages, and Konvert prints letters of at most "
            "%(num)d page. Shorten it, or write the rest in a second letter.",
            "This letter would take %(pages)d pages, and Konvert prints letters of at most "
            "%(num)d pages. Shorten it, or write the rest in a second letter.",
            limits.max_pages,
            pages=pages,
        ),
    )


def check_length(document: LetterDocument | AppealDocument, limits: PrintLimits) -> None:
    """Refuse (DomainError on ``body``) a letter that would print on more than the cap.

    May lay the letter out (see the module's docstring); a letter that cannot be laid out
    within the time limit is refused too. When the rendering process itself fails, the
    estimate decides: the writer's letter is not lost to a server fault, and printing it later
    is bounded in time anyway.
    """
    estimate = estimated_pages(document)
    if estimate > limits.max_pages:
        raise too_long(estimate, limits)
    if estimate * ESTIMATE_SHORTFALL <= limits.max_pages:
        return
    try:
        pages = bounded.page_count(document, limits.timeout)
    except bounded.RenderTimeout as error:
        raise DomainError(
            "body",
            _l(
                "This letter takes too long to lay out on pages. Shorten it, or break up "
                "very long lines and words."
            ),
        ) from error
    except bounded.RenderFailed:
        log.exception("the pages of a letter could not be counted; the estimate decides")
        return
    if pages > limits.max_pages:
        raise too_long(pages, limits)
