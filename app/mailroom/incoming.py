"""Replies coming back to the organisation: scanned and matched to their letters, or held
until someone matches them (returned envelopes: app.mailroom.returns).

A reply whose code (typed by the volunteer as the prisoner wrote it) is valid and names a
letter posted within the organisation's reply window is matched at once: the letter gets a
"reply" event through the tracking service (statistics follow), and the scan is sealed to the
letter's public key, so that only the writer's link opens it; the organisation's readable
copy is deleted in the same transaction. Any other reply waits in the holding pen, its scan
encrypted with the instance key like every stored file, until it is matched by hand or given
up on; either way it is deleted ``HOLD_DAYS`` after it was received unless it was matched.

Services: they check who acts, raise `DomainError` for refusals and never commit.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.permissions import Actor, require_mailroom
from app.concurrency import lock
from app.domain import DomainError
from app.extensions import db
from app.mail.services import queue_letter_news
from app.mailroom.organisation import current_organisation
from app.mailroom.reference import format_reference, is_valid_reference, parse_reference
from app.mailroom.scans import ScanPage, clean_scan
from app.models import (
    EventKind,
    IncomingKind,
    IncomingMail,
    IncomingState,
    Letter,
    MailroomItem,
    MailroomState,
    Prisoner,
)
from app.privacy.crypto import seal
from app.stored_files import delete_files, read_file, store_file
from app.tracking.services import EventInput, record_event
from app.translation.replies import send_reply_to_desk

#: Days a reply that found no letter is kept (held or given up on) before it is deleted.
HOLD_DAYS = 90
#: Kinds of stored file: a held scan (readable by the instance) and a sealed one (the writer's).
HELD_SCAN = "held_scan"
REPLY_SCAN = "reply_scan"
#: States of a letter that went out in an envelope: replies and returns can come for it.
OUT_IN_THE_POST = (MailroomState.POSTED, MailroomState.PRINTED)
#: How much of a letter's first line the holding pen shows.
FIRST_LINE_CHARS = 80


class HoldReason(enum.StrEnum):
    """Why a reply went to the holding pen instead of to its letter."""

    NO_CODE = "no_code"  # the prisoner wrote none
    BAD_CODE = "bad_code"  # not 8 digits, or the check digit is wrong
    UNKNOWN_CODE = "unknown_code"  # a valid code no posted letter has
    NOT_POSTED = "not_posted"  # its letter was printed, but its run is not marked posted
    OUTSIDE_WINDOW = "outside_window"  # the letter was posted, but not within the window


HOLD_REASON_LABELS = {
    HoldReason.NO_CODE: _l("No reference code was given."),
    HoldReason.BAD_CODE: _l("The code is not a valid reference (check the digits)."),
    HoldReason.UNKNOWN_CODE: _l("No posted letter has this code."),
    HoldReason.NOT_POSTED: _l(
        "The letter with this code is not marked posted yet: mark its print run posted, "
        "then match the reply in the holding pen."
    ),
    HoldReason.OUTSIDE_WINDOW: _l(
        "The letter with this code was not posted within the reply window."
    ),
}


@dataclass(frozen=True)
class ReplyInput:
    """A scanned reply as a volunteer uploads it."""

    files: Sequence[ScanPage]
    received_on: date
    reference: str = ""
    prisoner_id: int | None = None


@dataclass(frozen=True)
class ReplyResult:
    """The reply as kept, and why it was held when it was."""

    incoming: IncomingMail
    held_because: HoldReason | None = None

    @property
    def matched(self) -> bool:
        """True when the reply found its letter."""
        return self.held_because is None


@dataclass(frozen=True)
class Candidate:
    """A letter a held reply may answer, as the holding pen shows it."""

    letter_id: int
    reference: str
    posted_on: date
    language: str
    #: The letter's first line while the organisation can still read it; None after.
    first_line: str | None


def reply_window() -> timedelta:
    """How long after posting a reply is expected (the organisation's setting)."""
    return timedelta(days=current_organisation().reply_window_days)


def check_received_on(received_on: date, today: date) -> None:
    if received_on > today:
        raise DomainError("received_on", _l("This date is in the future."))


def _prisoner(prisoner_id: int | None) -> Prisoner | None:
    if prisoner_id is None:
        return None
    found = db.session.get(Prisoner, prisoner_id)
    if found is None:
        raise DomainError("prisoner_id", _l("There is no such prisoner."))
    return found


def find_by_code(typed: str, received_on: date) -> tuple[MailroomItem | None, HoldReason | None]:
    """The letter a typed code names, if it was posted within the reply window before
    ``received_on``; else None and why."""
    if not typed.strip():
        return None, HoldReason.NO_CODE
    digits = parse_reference(typed)
    if digits is None or not is_valid_reference(digits):
        return None, HoldReason.BAD_CODE
    item = db.session.scalar(
        select(MailroomItem)
        .join(Letter, Letter.id == MailroomItem.letter_id)
        .where(
            MailroomItem.reference == digits,
            MailroomItem.state.in_(OUT_IN_THE_POST),
            Letter.public_key.is_not(None),  # deleted by its writer: nobody to bring it to
        )
    )
    if item is None:
        return None, HoldReason.UNKNOWN_CODE
    if item.posted_on is None:
        return None, HoldReason.NOT_POSTED
    if not _within_window(item, received_on):
        return None, HoldReason.OUTSIDE_WINDOW
    return item, None


def _within_window(item: MailroomItem, received_on: date) -> bool:
    # A letter still marked printed has no posting date yet: its reply waits in the pen
    # until its run is marked posted (then the letter has its "sent" date to count from).
    return item.posted_on is not None and (
        item.posted_on <= received_on <= item.posted_on + reply_window()
    )


def receive_reply(actor: Actor, reply: ReplyInput, today: date) -> ReplyResult:
    """Keep a scanned reply: matched to its letter by its code, or in the holding pen.

    The pages become one PDF without metadata (`app.mailroom.scans`); refusals name the
    field (``scan``, ``received_on``, ``prisoner_id``).
    """
    user = require_mailroom(actor)
    check_received_on(reply.received_on, today)
    prisoner = _prisoner(reply.prisoner_id)
    scan = clean_scan(reply.files)
    incoming = IncomingMail(
        kind=IncomingKind.REPLY,
        state=IncomingState.HELD,
        received_on=reply.received_on,
        reference_typed=reply.reference.strip()[:20],
        prisoner_id=prisoner.id if prisoner else None,
        pages=scan.pages,
        handled_by_id=user.id,
    )
    db.session.add(incoming)
    db.session.flush()
    item, held_because = find_by_code(reply.reference, reply.received_on)
    if item is not None:
        _match(incoming, item, scan.pdf, today)
        return ReplyResult(incoming)
    stored = store_file(HELD_SCAN, scan.pdf, "application/pdf")
    incoming.scan_file_id = stored.id
    incoming.delete_after = reply.received_on + timedelta(days=HOLD_DAYS)
    return ReplyResult(incoming, held_because)


def _match(incoming: IncomingMail, item: MailroomItem, pdf: bytes, today: date) -> None:
    """Tie a reply to its letter: the "reply" event, the scan sealed to the letter's key,
    the organisation's readable copy (if any) deleted."""
    letter = item.letter
    assert letter.public_key is not None  # a deleted letter is never a match
    if letter.first_event(EventKind.REPLY) is None:
        report = EventInput(
            kind=EventKind.REPLY, happened_on=incoming.received_on, by_organisation=True
        )
        # When the writer's own reports contradict the date (an arrival reported after it),
        # the reply still reaches them; their reports stay as they made them.
        with suppress(DomainError):
            record_event(letter, report, today)
    sealed = seal(bytes(letter.public_key), pdf, context=f"reply-scan:{incoming.id}")
    held_file = incoming.scan_file_id
    stored = store_file(REPLY_SCAN, sealed, "application/octet-stream")
    incoming.scan_file_id = stored.id
    incoming.sealed = True
    incoming.letter_id = letter.id
    incoming.prisoner_id = letter.prisoner_id
    incoming.state = IncomingState.MATCHED
    incoming.delete_after = None
    incoming.reference_typed = ""
    if held_file is not None:
        delete_files([held_file])
    # A writer who could not write in the prisoner's language cannot read the reply either.
    send_reply_to_desk(incoming, letter, pdf)
    # The item keeps its state (posted): the news is the reply itself.
    queue_letter_news(letter)


def held_replies() -> list[IncomingMail]:
    """Replies waiting in the holding pen, oldest first."""
    return list(
        db.session.scalars(
            select(IncomingMail)
            .where(
                IncomingMail.kind == IncomingKind.REPLY,
                IncomingMail.state == IncomingState.HELD,
            )
            .order_by(IncomingMail.received_on, IncomingMail.id)
        )
    )


def _candidate_items(received_on: date, prisoner_id: int | None) -> list[MailroomItem]:
    window = reply_window()
    query = (
        select(MailroomItem)
        .join(Letter, Letter.id == MailroomItem.letter_id)
        .where(
            MailroomItem.state.in_(OUT_IN_THE_POST),
            MailroomItem.posted_on.is_not(None),
            MailroomItem.posted_on <= received_on,
            MailroomItem.posted_on >= received_on - window,
            Letter.public_key.is_not(None),
        )
        .order_by(MailroomItem.posted_on.desc(), MailroomItem.id.desc())
    )
    if prisoner_id is not None:
        query = query.where(Letter.prisoner_id == prisoner_id)
    return list(db.session.scalars(query))


def candidates(incoming: IncomingMail) -> list[Candidate]:
    """Letters to the reply's prisoner posted within the reply window before it came, newest
    first, with their first line while the organisation can still read it. Without a
    prisoner, none: choose the prisoner first (`prisoners_in_window`)."""
    if incoming.prisoner_id is None:
        return []
    return [
        Candidate(
            letter_id=item.letter_id,
            reference=format_reference(item.reference),
            posted_on=item.posted_on,
            language=item.letter.language,
            first_line=_first_line(item.letter),
        )
        for item in _candidate_items(incoming.received_on, incoming.prisoner_id)
        if item.posted_on is not None
    ]


def _first_line(letter: Letter) -> str | None:
    if not letter.unlock_for_organisers():
        return None
    line = next((line.strip() for line in letter.body.splitlines() if line.strip()), "")
    return line if len(line) <= FIRST_LINE_CHARS else line[: FIRST_LINE_CHARS - 1] + "…"


def prisoners_in_window(received_on: date) -> list[Prisoner]:
    """The prisoners with a letter posted within the reply window before ``received_on``:
    those a reply received that day may come from."""
    ids = {item.letter.prisoner_id for item in _candidate_items(received_on, None)}
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Prisoner)
            .where(Prisoner.id.in_(ids))
            .order_by(Prisoner.last_name, Prisoner.first_name)
        )
    )


def _held(incoming_id: int) -> IncomingMail:
    incoming = db.session.get(IncomingMail, incoming_id)
    if incoming is None or incoming.kind is not IncomingKind.REPLY:
        raise DomainError("reply", _l("There is no such reply."))
    lock(incoming)
    if incoming.state is not IncomingState.HELD:
        raise DomainError("reply", _l("This reply is no longer in the holding pen."))
    return incoming


def choose_prisoner(actor: Actor, incoming_id: int, prisoner_id: int) -> IncomingMail:
    """Say whom a held reply is from, so that their letters are listed as candidates."""
    require_mailroom(actor)
    incoming = _held(incoming_id)
    prisoner = _prisoner(prisoner_id)
    assert prisoner is not None
    incoming.prisoner_id = prisoner.id
    return incoming


def match_held(actor: Actor, incoming_id: int, letter_id: int, today: date) -> IncomingMail:
    """Match a held reply to one of its candidate letters (then as a reply matched by code)."""
    user = require_mailroom(actor)
    incoming = _held(incoming_id)
    item = next(
        (
            found
            for found in _candidate_items(incoming.received_on, incoming.prisoner_id)
            if found.letter_id == letter_id
        ),
        None,
    )
    if item is None or incoming.prisoner_id is None:
        raise DomainError("letter", _l("This letter is not one the reply can answer."))
    if incoming.scan_file_id is None:
        raise DomainError("reply", _l("The scan of this reply is gone; upload it again."))
    pdf = read_file(incoming.scan_file_id)
    incoming.handled_by_id = user.id
    _match(incoming, item, pdf, today)
    return incoming


def give_up(actor: Actor, incoming_id: int) -> IncomingMail:
    """Mark a held reply unmatched: it leaves the pen and is deleted when its time is up."""
    user = require_mailroom(actor)
    incoming = _held(incoming_id)
    incoming.state = IncomingState.UNMATCHED
    incoming.handled_by_id = user.id
    if incoming.delete_after is None:
        incoming.delete_after = incoming.received_on + timedelta(days=HOLD_DAYS)
    return incoming


def held_scan(actor: Actor, incoming_id: int) -> IncomingMail | None:
    """A held reply whose scan the organisation may look at to match it, or None."""
    require_mailroom(actor)
    incoming = db.session.get(IncomingMail, incoming_id)
    if incoming is None or incoming.state is not IncomingState.HELD or incoming.sealed:
        return None
    return incoming if incoming.scan_file_id is not None else None


def reference_of(incoming: IncomingMail) -> str:
    """The reference code of the letter a piece of post was matched to, as printed."""
    item = db.session.scalar(
        select(MailroomItem).where(MailroomItem.letter_id == incoming.letter_id)
    )
    return format_reference(item.reference) if item is not None else ""


def hold_message(reason: HoldReason) -> str:
    """Why a reply was held, for the volunteer who uploaded it."""
    return str(HOLD_REASON_LABELS[reason])
