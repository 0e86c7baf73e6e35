"""A letter's PDF as its writer prints it from the tracking link: capped and bounded in time.

New letters are refused above the page cap when they are saved (app.composer.length); a letter
stored before the cap existed may still be longer. It is refused here by its estimate, before
anything is rendered, so that no link can make the server lay out hundreds of pages. Whatever
is rendered runs in the time-bounded rendering process (app.pdf.bounded).
"""

from __future__ import annotations

from flask_babel import ngettext

from app.composer.length import PrintLimits, estimated_pages
from app.domain import DomainError
from app.models import Letter
from app.pdf import bounded
from app.pdf.render import AppealDocument
from app.tracking.services import appeal_document, envelope_document, letter_document


def letter_pdf(
    letter: Letter,
    envelope_size: str,
    sender_name: str,
    sender_address: str,
    sender_country: str,
    limits: PrintLimits,
    reference: str = "",
) -> bytes:
    """The letter (or appeal) and, unless ``envelope_size`` is "none", its envelope; a
    mailroom letter's ``reference`` code is printed on the letter.

    Raises DomainError when the letter is longer than the cap, and
    :class:`app.pdf.bounded.RenderTimeout` (or ``RenderFailed``) when rendering overran.
    """
    envelope = None
    if envelope_size != "none":
        envelope = envelope_document(
            letter, envelope_size, sender_name, sender_address, sender_country
        )
    document = (
        appeal_document(letter, sender_address)
        if letter.is_appeal
        else letter_document(letter, reference)
    )
    pages = estimated_pages(document)
    if pages > limits.max_pages:
        raise DomainError(
            "body",
            ngettext(
                "This letter is about %(pages)d pages long, and Konvert prints letters of at "
                "most %(num)d page. Its text is on the letter's page: copy it from there to "
                "print it yourself.",
                "This letter is about %(pages)d pages long, and Konvert prints letters of at "
                "most %(num)d pages. Its text is on the letter's page: copy it from there to "
                "print it yourself.",
                limits.max_pages,
                pages=pages,
            ),
        )
    if isinstance(document, AppealDocument):
        return bounded.appeal_pdf(document, envelope, limits.timeout)
    return bounded.letter_pdf(document, envelope, limits.timeout)
