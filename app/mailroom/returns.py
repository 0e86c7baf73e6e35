"""Returned envelopes: recorded by the code printed on the letter, with a structured reason.

The letter gets a "returned" event through the tracking service (the reason as its note, in
the letter's language), its mailroom item becomes returned with the day and the reason (the
writer's news, through `set_state`), and an `IncomingMail` of kind return keeps the record
(deleted with the letter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.permissions import Actor, require_mailroom
from app.concurrency import lock
from app.domain import DomainError
from app.extensions import db
from app.mailroom.incoming import OUT_IN_THE_POST, check_received_on
from app.mailroom.reference import is_valid_reference, parse_reference
from app.mailroom.services import set_state
from app.models import (
    EventKind,
    IncomingKind,
    IncomingMail,
    IncomingState,
    MailroomItem,
    MailroomState,
    ReturnReason,
)
from app.tracking.services import EventInput, record_event

RETURN_REASON_LABELS = {
    ReturnReason.MOVED: _l("The addressee has moved"),
    ReturnReason.UNKNOWN_ADDRESSEE: _l("Addressee unknown"),
    ReturnReason.REFUSED: _l("Refused by the addressee"),
    ReturnReason.CENSORSHIP: _l("Withheld by the censor"),
    ReturnReason.OTHER: _l("Another reason"),
}


@dataclass(frozen=True)
class ReturnInput:
    """A returned envelope as a volunteer records it."""

    reference: str
    received_on: date
    reason: ReturnReason


def return_note(reason: ReturnReason, language: str) -> str:
    """The note the "returned" event carries: the reason, in the letter's language when
    Konvert speaks it (the writer wrote in it), else in English."""
    with force_locale(language if language in ("en", "ru") else "en"):
        return _(
            "Returned to the organisation: %(reason)s.",
            reason=str(RETURN_REASON_LABELS[reason]).lower(),
        )


def record_return(actor: Actor, returned: ReturnInput, today: date) -> IncomingMail:
    """Record a returned envelope by its code: the letter gets a "returned" event (the
    reason as its note), its mailroom item becomes returned.

    Refused: a code that is not valid or that no posted letter has, a date in the future or
    before the posting, and a letter the organisation can no longer read (its reply window
    closed), as the event's note is sealed with the letter's key.
    """
    user = require_mailroom(actor)
    check_received_on(returned.received_on, today)
    digits = parse_reference(returned.reference)
    if digits is None or not is_valid_reference(digits):
        raise DomainError(
            "reference",
            _l(
                "This is not a valid reference code: check the digits (the last is a check digit)."
            ),
        )
    item = db.session.scalar(select(MailroomItem).where(MailroomItem.reference == digits))
    if item is None or item.letter.public_key is None:
        raise DomainError("reference", _l("No letter has this reference code."))
    lock(item)
    if item.state is MailroomState.RETURNED:
        raise DomainError("reference", _l("This letter was already recorded as returned."))
    if item.state not in OUT_IN_THE_POST or item.posted_on is None:
        raise DomainError(
            "reference",
            _l("This letter has not been posted yet: mark its print run posted first."),
        )
    if returned.received_on < item.posted_on:
        raise DomainError("received_on", _l("This is before the letter was posted."))
    letter = item.letter
    if letter.first_event(EventKind.RETURNED) is None:
        if not letter.unlock_for_organisers():
            raise DomainError(
                "reference",
                _l("The reply window of this letter has closed; its return cannot be recorded."),
            )
        report = EventInput(
            kind=EventKind.RETURNED,
            happened_on=returned.received_on,
            note=return_note(returned.reason, letter.language),
            by_organisation=True,
        )
        record_event(letter, report, today)
    set_state(item, MailroomState.RETURNED)  # the writer's news, if they asked for it
    item.returned_on = returned.received_on
    item.return_reason = returned.reason
    incoming = IncomingMail(
        kind=IncomingKind.RETURN,
        state=IncomingState.MATCHED,
        received_on=returned.received_on,
        prisoner_id=letter.prisoner_id,
        letter_id=letter.id,
        return_reason=returned.reason,
        handled_by_id=user.id,
    )
    db.session.add(incoming)
    db.session.flush()
    return incoming
