"""The writer's side of the mailroom and its review: handing a letter to the organisation,
its place in the queue, the reviewer's decision, the writer's resubmission, and the news the
writer is told of (DESIGN.md, "The mailroom").

Privacy at rest: the organisation reads a letter handed to it through the organisers' copy of
its key (`Letter.share_with_organisers`), kept until the reply window closes; a reason meant
for the writer is sealed to the letter's public key (only the link opens it); a rejection's
reason is encrypted with the instance key, for organizers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import joinedload

from app.auth.permissions import Actor, require_mailroom
from app.composer import length
from app.composer.services import Review, recipient_names, review_text
from app.concurrency import lock
from app.directory.services import mailing_address
from app.domain import DomainError
from app.extensions import db
from app.mail.services import queue_letter_news
from app.mailroom.organisation import current_organisation
from app.mailroom.reference import new_reference
from app.models import IncomingMail, Letter, MailroomItem, MailroomState, Prisoner
from app.models.base import utcnow
from app.models.letter import closing_signature
from app.models.mailroom import IncomingKind, IncomingState
from app.privacy.crypto import CannotDecrypt, letter_keys, open_sealed, seal
from app.privacy.instance import decrypt_for_instance, encrypt_for_instance
from app.russian.censor import Finding
from app.translation.requests import done_translations, printed_translation, printed_with

#: How many times one letter may be resubmitted after being sent back.
MAX_RESUBMISSIONS = 3
#: A reviewer's reason, for the writer or for organizers.
MAX_REASON_CHARS = 2000
#: New reference codes tried before giving up (9 million codes: a clash is already rare).
REFERENCE_ATTEMPTS = 20
#: States after which the letter has left the organisation's hands for good or for now.
IN_THE_MAILROOM = frozenset(
    {
        MailroomState.TRANSLATION,
        MailroomState.REVIEW,
        MailroomState.SENT_BACK,
        MailroomState.APPROVED,
        MailroomState.PRINTED,
    }
)
#: Changes the writer hears of (by email, if they left one); their own resubmission is not one.
NEWS = frozenset(
    {
        MailroomState.SENT_BACK,
        MailroomState.APPROVED,
        MailroomState.REJECTED,
        MailroomState.PRINTED,
        MailroomState.POSTED,
        MailroomState.RETURNED,
    }
)
#: News after which nothing more comes through the mailroom: the email is deleted with it.
STORY_ENDS = frozenset({MailroomState.REJECTED, MailroomState.RETURNED})


class Decision(enum.StrEnum):
    """What a reviewer decides about a letter waiting for review."""

    APPROVE = "approve"
    SEND_BACK = "send_back"
    REJECT = "reject"


# --- the writer -----------------------------------------------------------------------------


def item_for(letter: Letter) -> MailroomItem | None:
    """The letter's mailroom item, if its writer sent it through the organisation."""
    if letter.id is None:
        return None
    return db.session.scalar(select(MailroomItem).where(MailroomItem.letter_id == letter.id))


def offers_mailroom(prisoner: Prisoner) -> bool:
    """Whether a letter to this prisoner may travel through the organisation now."""
    return current_organisation().can_take_letters and mailing_address(prisoner) is not None


def _start_of_today() -> datetime:
    # Submissions are kept to the hour in UTC: "today" is the UTC day.
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def _submitted_today(*conditions: ColumnElement[bool]) -> int:
    query = (
        select(func.count(MailroomItem.id))
        .join(Letter, Letter.id == MailroomItem.letter_id)
        .where(MailroomItem.submitted_at >= _start_of_today(), *conditions)
    )
    return int(db.session.scalar(query) or 0)


def check_intake(prisoner: Prisoner) -> None:
    """Refuse (DomainError on ``delivery``) a letter the organisation cannot take today."""
    organisation = current_organisation()
    if not organisation.can_take_letters:
        raise DomainError(
            "delivery",
            _l("The organisation is not taking letters now. You can print and post it yourself."),
        )
    if mailing_address(prisoner) is None:
        raise DomainError(
            "delivery",
            _l("No address is known for this person now, so the organisation cannot post it."),
        )
    if _submitted_today() >= organisation.daily_intake_cap:
        raise DomainError(
            "delivery",
            _l(
                "The organisation has taken all the letters it can handle today. Your letter "
                "is not lost: send it tomorrow, or print and post it yourself."
            ),
        )
    if _submitted_today(Letter.prisoner_id == prisoner.id) >= organisation.prisoner_daily_cap:
        raise DomainError(
            "delivery",
            _l(
                "This person has already been sent as many letters through the organisation "
                "today as it takes. Send yours tomorrow, or print and post it yourself."
            ),
        )


def _unused_reference() -> str:
    for _attempt in range(REFERENCE_ATTEMPTS):
        reference = new_reference()
        taken = db.session.scalar(
            select(MailroomItem.id).where(MailroomItem.reference == reference)
        )
        if taken is None:
            return reference
    raise RuntimeError("no unused reference code found")  # 20 clashes in a row: a bug


def hand_to_organisation(letter: Letter, *, translating: bool = False) -> MailroomItem:
    """Hand a just-saved letter (unlocked, flushed) to the organisation, in the same
    transaction: it gets a reference code and waits for review (``translating``: for its
    translation first, see app.translation.flow), and the organisation may read it (until the
    reply window closes). Refused with DomainError on ``delivery`` when the organisation
    cannot take it (closed, no address, today's caps); the caller rolls back.
    """
    if letter.is_appeal or letter.drive_id is not None:
        raise DomainError("delivery", _l("Only letters to prisoners travel through the mailroom."))
    if item_for(letter) is not None:
        raise DomainError("delivery", _l("This letter was already sent through the organisation."))
    check_intake(letter.prisoner)
    item = MailroomItem(
        letter_id=letter.id,
        reference=_unused_reference(),
        state=MailroomState.TRANSLATION if translating else MailroomState.REVIEW,
    )
    db.session.add(item)
    letter.share_with_organisers()
    db.session.flush()
    return item


def queue_position(item: MailroomItem) -> int | None:
    """The item's place among the letters waiting for review (1: next), or None."""
    if item.state is not MailroomState.REVIEW:
        return None
    ahead = db.session.scalar(
        select(func.count(MailroomItem.id)).where(
            MailroomItem.state == MailroomState.REVIEW,
            or_(
                MailroomItem.submitted_at < item.submitted_at,
                and_(MailroomItem.submitted_at == item.submitted_at, MailroomItem.id < item.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def _seal_context(item: MailroomItem) -> str:
    return f"mailroom-item:{item.id}:writer-reason"


def _rejection_context(item: MailroomItem) -> str:
    return f"mailroom-item:{item.id}:rejection-reason"


def writer_reason(item: MailroomItem, token: str) -> str | None:
    """The reason the letter was sent back, opened with the letter's link; None if none."""
    if item.writer_reason_sealed is None:
        return None
    try:
        opened = open_sealed(
            letter_keys(token).private_key,
            bytes(item.writer_reason_sealed),
            context=_seal_context(item),
        )
    except (CannotDecrypt, ValueError):
        return None
    return opened.decode("utf-8")


def resubmissions_left(item: MailroomItem) -> int:
    """How many more times the writer may resubmit this letter."""
    return max(0, MAX_RESUBMISSIONS - item.resubmissions)


def resubmit(letter: Letter, item: MailroomItem, body: str) -> None:
    """The writer edited a letter sent back to them: it waits for review again.

    The text is encrypted anew with the letter's key (the letter must be unlocked by its
    link), and the organisers' copy of the key is renewed. Refused (DomainError on ``body``)
    for a letter not sent back, after MAX_RESUBMISSIONS, and for a text the composer would
    refuse (empty, too long).
    """
    lock(item)
    if item.state is not MailroomState.SENT_BACK:
        raise DomainError("body", _l("This letter is not waiting for your changes."))
    if resubmissions_left(item) == 0:
        raise DomainError(
            "body",
            ngettext(
                "A letter can be resubmitted at most %(num)d time. You can print and post "
                "it yourself, or write a new letter.",
                "A letter can be resubmitted at most %(num)d times. You can print and post "
                "it yourself, or write a new letter.",
                MAX_RESUBMISSIONS,
            ),
        )
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise DomainError("body", _l("The letter is empty."))
    max_chars = int(current_app.config["MAX_LETTER_CHARS"])
    if len(text) > max_chars:
        raise DomainError(
            "body", _l("The letter is too long (at most %(max)d characters).", max=max_chars)
        )
    length.check_length(
        length.printed_document(
            letter.prisoner, text, letter.signature, letter.language, None, utcnow().date()
        ),
        length.print_limits(),
    )
    letter.body = text + "\n"
    letter.share_with_organisers()
    item.resubmissions += 1
    item.state = MailroomState.REVIEW
    item.writer_reason_sealed = None
    item.reviewed_at = None
    item.reviewer_id = None


# --- the state, and the news ----------------------------------------------------------------


def set_state(item: MailroomItem, state: MailroomState) -> None:
    """Move an item to ``state`` and tell its writer there is news (one content-neutral
    email, if they left and confirmed an address). Every change of a mailroom state goes
    through here, so that no news is forgotten and none is sent twice."""
    if item.state is state:
        return
    item.state = state
    if state in NEWS:
        queue_letter_news(item.letter, final=state in STORY_ENDS)


# --- review ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewEntry:
    """A letter waiting for review, as the reviewer sees it."""

    item: MailroomItem
    letter: Letter
    review: Review
    #: The text that is printed (the volunteers' translation, when there is one) and its
    #: language; ``translation_line`` is the line printed with a translation ("" if none).
    text: str = ""
    language: str = "ru"
    translation_line: str = ""

    @property
    def signature(self) -> str:
        """The signature printed under the text, unless the text already ends with it."""
        return closing_signature(self.text, self.letter.signature)


def _review(letter: Letter, printed: tuple[str, str, str] | None = None) -> Review:
    # A translated letter is reviewed as it is printed: in its volunteers' translation.
    facility = letter.facility or letter.prisoner.current_facility
    language, text, _line = (
        printed
        or printed_translation(letter)
        or (
            letter.language,
            letter.body,
            "",
        )
    )
    return review_text(text, language, facility, recipient_names(letter.prisoner))


def findings(letter: Letter) -> list[Finding]:
    """The censor-risk check of a letter the organisation can read ([] when it cannot)."""
    if not letter.unlock_for_organisers():
        return []
    return _review(letter).findings


def items_in_state(state: MailroomState) -> list[MailroomItem]:
    """The items in a state, oldest first, with their letters and prisoners loaded."""
    return list(
        db.session.scalars(
            select(MailroomItem)
            .where(MailroomItem.state == state)
            .options(
                joinedload(MailroomItem.letter).joinedload(Letter.prisoner),
                joinedload(MailroomItem.letter).joinedload(Letter.facility),
            )
            .order_by(MailroomItem.submitted_at, MailroomItem.id)
        )
    )


def review_queue(actor: Actor) -> list[ReviewEntry]:
    """The letters waiting for review, oldest first, readable by the reviewer."""
    require_mailroom(actor)
    entries = []
    items = items_in_state(MailroomState.REVIEW)
    translations = done_translations([item.letter_id for item in items])
    name = current_organisation().name
    for item in items:
        letter = item.letter
        if letter.unlock_for_organisers():  # a deleted letter has nothing to review
            printed = printed_with(letter, translations.get(letter.id), name) or (
                letter.language,
                letter.body,
                "",
            )
            language, text, line = printed
            entries.append(
                ReviewEntry(item, letter, _review(letter, printed), text, language, line)
            )
    return entries


def state_counts(actor: Actor) -> dict[MailroomState, int]:
    """How many items are in each state (every state listed, zeros too)."""
    require_mailroom(actor)
    counted: dict[MailroomState, int] = {}
    for state, count in db.session.execute(
        select(MailroomItem.state, func.count(MailroomItem.id)).group_by(MailroomItem.state)
    ):
        counted[state] = int(count)
    return {state: counted.get(state, 0) for state in MailroomState}


def get_item(actor: Actor, item_id: int) -> MailroomItem | None:
    """One item by id, for mailroom volunteers."""
    require_mailroom(actor)
    return db.session.get(MailroomItem, item_id)


def decide(actor: Actor, item: MailroomItem, decision: Decision, reason: str = "") -> None:
    """Approve, send back or reject a letter waiting for review.

    Sending back needs a reason the writer will read (sealed to the letter's public key, so
    that only the link opens it), and ends the organisation's reading of the letter until it
    is resubmitted; rejecting (hostile, abusive, spam) needs a reason kept for
    organizers (encrypted with the instance key), and ends the organisation's reading of the
    letter. Only a letter in review may be decided (DomainError on ``decision``).
    """
    user = require_mailroom(actor)
    lock(item)
    if item.state is not MailroomState.REVIEW:
        raise DomainError("decision", _l("This letter is no longer waiting for review."))
    text = reason.replace("\r\n", "\n").strip()
    if len(text) > MAX_REASON_CHARS:
        raise DomainError(
            "reason",
            _l("The reason is too long (at most %(max)d characters).", max=MAX_REASON_CHARS),
        )
    if decision is Decision.SEND_BACK:
        if not text:
            raise DomainError("reason", _l("Tell the writer what to change."))
        letter = item.letter
        if letter.public_key is None:
            raise DomainError("decision", _l("This letter was deleted by its writer."))
        item.writer_reason_sealed = seal(
            bytes(letter.public_key), text.encode("utf-8"), context=_seal_context(item)
        )
        # While it is back with its writer the organisation has no need to read it: the copy
        # of the key goes, and a resubmission gives a new one. A letter never resubmitted is
        # then not readable by the organisation for ever.
        letter.stop_sharing_with_organisers()
        state = MailroomState.SENT_BACK
    elif decision is Decision.REJECT:
        if not text:
            raise DomainError("reason", _l("Say why, for the other organizers."))
        item.rejection_reason_encrypted = encrypt_for_instance(
            text, context=_rejection_context(item)
        )
        item.letter.stop_sharing_with_organisers()
        state = MailroomState.REJECTED
    else:
        state = MailroomState.APPROVED
    item.reviewed_at = utcnow()
    item.reviewer_id = user.id
    set_state(item, state)


def rejection_reason(actor: Actor, item: MailroomItem) -> str | None:
    """Why a letter was rejected, for organizers."""
    require_mailroom(actor)
    if item.rejection_reason_encrypted is None:
        return None
    return decrypt_for_instance(
        bytes(item.rejection_reason_encrypted), context=_rejection_context(item)
    )


def replies(letter: Letter) -> list[IncomingMail]:
    """The replies matched to a letter, oldest first."""
    return list(
        db.session.scalars(
            select(IncomingMail)
            .where(
                IncomingMail.letter_id == letter.id,
                IncomingMail.kind == IncomingKind.REPLY,
                IncomingMail.state == IncomingState.MATCHED,
            )
            .order_by(IncomingMail.received_on, IncomingMail.id)
        )
    )
