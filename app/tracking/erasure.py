"""Deleting a letter: everything tied to its link goes; its anonymous outcome stays."""

from __future__ import annotations

from sqlalchemy import delete, update

from app.concurrency import lock
from app.database import forget_freed_pages
from app.edge import after_commit
from app.extensions import db
from app.mailroom.retention import erase_incoming_of
from app.models import (
    Assignment,
    Letter,
    MailroomItem,
    MailroomState,
    ReminderSubscription,
    Translation,
)

#: A letter deleted before it was printed is withdrawn from the mailroom altogether.
WITHDRAWN_BEFORE = (
    MailroomState.TRANSLATION,
    MailroomState.REVIEW,
    MailroomState.SENT_BACK,
    MailroomState.APPROVED,
)


def erase_letter(letter: Letter) -> None:
    """Delete what the link holder wrote or left with the letter, in the current transaction.

    Gone: the keyed hash of the link (the link no longer opens anything), the public key, the
    encrypted text, signature and sender address, the organisers' copy of the key, the notes
    and tracking numbers of the reports (a tracking number leads to the post office that took
    the letter), the reminder subscription with its address and queued emails (their foreign
    keys cascade), the link kept for a drive participant, a mailroom letter not printed yet
    (withdrawn; once printed, its item keeps the reference code for the post that comes back,
    without the reason sealed for the writer), and the replies and returned envelopes the
    mailroom matched to it, with their sealed scans, and its translations (the volunteers'
    text and the writer's note; one still at the desk is withdrawn with them).

    Kept, as the open data describes: the letter row's prisoner, facility, kind and the hour it
    was written, and its reports' kinds, days and channels, from which the statistics derive
    the outcome and delays. None of it leads back to the writer.
    """
    lock(letter)
    db.session.execute(
        delete(ReminderSubscription).where(ReminderSubscription.letter_id == letter.id)
    )
    db.session.execute(
        delete(MailroomItem)
        .where(MailroomItem.letter_id == letter.id, MailroomItem.state.in_(WITHDRAWN_BEFORE))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(MailroomItem)
        .where(MailroomItem.letter_id == letter.id)
        .values(writer_reason_sealed=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Assignment)
        .where(Assignment.letter_id == letter.id)
        .values(letter_link_encrypted=None)
        .execution_options(synchronize_session=False)
    )
    # Replies (their sealed scans and the translators' copies) and returns first: the copies
    # are found through the replies' translations.
    erase_incoming_of(letter.id)
    db.session.execute(
        delete(Translation)
        .where(Translation.letter_id == letter.id)
        .execution_options(synchronize_session=False)
    )
    for event in letter.events:
        event.note_encrypted = None
        event.tracking_number_encrypted = None
    letter.token_hash = None
    letter.public_key = None
    letter.body_encrypted = None
    letter.signature_encrypted = None
    letter.sender_address_encrypted = None
    letter.organisers_key = None
    letter.forget_keys()
    db.session.flush()
    after_commit(forget_freed_pages)
