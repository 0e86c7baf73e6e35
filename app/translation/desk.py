"""The translator's desk: the queue of open work, claims that lock an item for a while,
drafts, submission and the optional second translator's review (DESIGN.md, "Translation").

Services only: they check the actor, change models and never commit (routes, the API and
tasks commit). A claim is taken with one conditional UPDATE, so that two translators
claiming the same item at the same moment cannot both win, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from app.auth.permissions import Actor, require_translator
from app.domain import DomainError
from app.extensions import db
from app.mailroom.organisation import current_organisation
from app.models import (
    MailroomItem,
    Role,
    Translation,
    TranslationKind,
    TranslationState,
    User,
)
from app.privacy.crypto import decrypt_field, encrypt_field, seal
from app.privacy.instance import decrypt_for_instance, encrypt_for_instance
from app.translation.flow import letter_translated
from app.translation.replies import drop_desk_copy

#: The longest translation accepted (a letter is at most a few pages).
MAX_TRANSLATION_CHARS = 30_000


@dataclass(frozen=True)
class WorkItem:
    """One translation in the queue, with what makes it urgent."""

    translation: Translation
    #: The print run it should catch (letters sent through the organisation), if one is set.
    run_on: date | None
    #: The claim ran out: the item is open again.
    claim_expired: bool


def _text_context(translation: Translation) -> str:
    return f"translation:{translation.id}:text"


def _note_context(translation: Translation) -> str:
    return f"translation:{translation.id}:note"


def _languages_match(user: User) -> object:
    """The SQL condition for translations in ``user``'s languages. Organizers and admins who
    set no languages see everything (they oversee the desk); a translator without
    languages sees nothing."""
    sources, targets = user.source_languages, user.target_languages
    if user.role is not Role.TRANSLATOR and not sources and not targets:
        return True
    return and_(Translation.source_language.in_(sources), Translation.target_language.in_(targets))


def _claimable(now: datetime) -> object:
    """Open, or claimed with a claim that ran out."""
    return or_(
        Translation.state == TranslationState.OPEN,
        and_(
            Translation.state == TranslationState.CLAIMED,
            Translation.claim_expires_at < now,
        ),
    )


def _claim_held(translation: Translation, now: datetime) -> bool:
    return (
        translation.state is TranslationState.CLAIMED
        and translation.claim_expires_at is not None
        and translation.claim_expires_at >= now
    )


def _urgency(items: list[Translation], now: datetime) -> list[WorkItem]:
    """Most urgent first: letters that should catch the next print run (by its date), then
    the oldest."""
    in_mailroom = set(
        db.session.scalars(
            select(MailroomItem.letter_id).where(
                MailroomItem.letter_id.in_([item.letter_id for item in items])
            )
        )
    )
    next_run = current_organisation().next_run_on
    work = [
        WorkItem(
            translation=item,
            run_on=next_run if item.letter_id in in_mailroom else None,
            claim_expired=item.state is TranslationState.CLAIMED,
        )
        for item in items
    ]
    work.sort(
        key=lambda w: (
            w.run_on is None,
            w.run_on or date.max,
            w.translation.created_at,
            w.translation.id,
        )
    )
    return work


def open_work(actor: Actor, now: datetime) -> list[WorkItem]:
    """Open work (and work whose claim ran out) in the translator's languages, most urgent
    first."""
    user = require_translator(actor)
    found = list(
        db.session.scalars(
            select(Translation)
            .where(_claimable(now), _languages_match(user))  # type: ignore[arg-type]
            .options(selectinload(Translation.letter))
        )
    )
    return _urgency(found, now)


def my_work(actor: Actor, now: datetime) -> list[Translation]:
    """The translations the translator holds a live claim on, soonest to expire first."""
    user = require_translator(actor)
    return list(
        db.session.scalars(
            select(Translation)
            .where(
                Translation.state == TranslationState.CLAIMED,
                Translation.claimed_by_id == user.id,
                Translation.claim_expires_at >= now,
            )
            .order_by(Translation.claim_expires_at, Translation.id)
        )
    )


def waiting_for_review(actor: Actor) -> list[Translation]:
    """Submitted translations in the reviewer's languages that someone else translated."""
    user = require_translator(actor)
    return list(
        db.session.scalars(
            select(Translation)
            .where(
                Translation.state == TranslationState.SUBMITTED,
                Translation.translator_id != user.id,
                _languages_match(user),  # type: ignore[arg-type]
            )
            .order_by(Translation.submitted_at, Translation.id)
        )
    )


def translations_in_state(
    actor: Actor,
    state: TranslationState,
    source: str | None = None,
    target: str | None = None,
    now: datetime | None = None,
) -> list[Translation]:
    """Translations in the actor's languages in one state (the API's list), oldest first;
    optionally of one language pair."""
    user = require_translator(actor)
    query = select(Translation).where(_languages_match(user))  # type: ignore[arg-type]
    if state is TranslationState.OPEN and now is not None:
        query = query.where(_claimable(now))  # type: ignore[arg-type]
    else:
        query = query.where(Translation.state == state)
    if source:
        query = query.where(Translation.source_language == source)
    if target:
        query = query.where(Translation.target_language == target)
    return list(db.session.scalars(query.order_by(Translation.created_at, Translation.id)))


def get_translation(actor: Actor, translation_id: int) -> Translation | None:
    """A translation in the actor's languages, or None (unknown or not theirs to see)."""
    user = require_translator(actor)
    return db.session.scalar(
        select(Translation).where(
            Translation.id == translation_id,
            _languages_match(user),  # type: ignore[arg-type]
        )
    )


def claim(actor: Actor, translation_id: int, now: datetime) -> Translation:
    """Lock a translation for the translator for the organisation's claim minutes.

    One conditional UPDATE decides: of translators claiming the same item at once, exactly
    one wins; the others are refused. Claiming again what one holds extends the claim.
    """
    user = require_translator(actor)
    translation = get_translation(user, translation_id)
    if translation is None:
        raise DomainError("translation", _l("There is no such translation in your languages."))
    expires = now + timedelta(minutes=current_organisation().translation_claim_minutes)
    result = db.session.execute(
        update(Translation)
        .where(
            Translation.id == translation_id,
            or_(
                _claimable(now),  # type: ignore[arg-type]
                and_(
                    Translation.state == TranslationState.CLAIMED,
                    Translation.claimed_by_id == user.id,
                ),
            ),
        )
        .values(
            state=TranslationState.CLAIMED,
            claimed_by_id=user.id,
            claim_expires_at=expires,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DomainError(
            "translation", _l("Someone else is translating this already, or it is done.")
        )
    db.session.refresh(translation)
    return translation


def _held(actor: Actor, translation_id: int, now: datetime) -> tuple[User, Translation]:
    user = require_translator(actor)
    translation = get_translation(user, translation_id)
    if translation is None:
        raise DomainError("translation", _l("There is no such translation in your languages."))
    if not _claim_held(translation, now) or translation.claimed_by_id != user.id:
        raise DomainError(
            "translation", _l("Claim this translation first (or again: your claim ran out).")
        )
    return user, translation


def release(actor: Actor, translation_id: int, now: datetime) -> Translation:
    """Give a claimed translation back to the queue (its draft stays for the next one)."""
    _user, translation = _held(actor, translation_id, now)
    translation.state = TranslationState.OPEN
    translation.claimed_by_id = None
    translation.claim_expires_at = None
    return translation


def _unlocked_letter(translation: Translation) -> None:
    if not translation.letter.unlock_for_organisers():
        raise DomainError(
            "translation",
            _l(
                "The writer no longer shares this letter with the organisation: it cannot be read."
            ),
        )


def original_text(translation: Translation) -> str:
    """The letter's text to translate (a letter translation); refused once the
    organisation can no longer read it."""
    _unlocked_letter(translation)
    return translation.letter.body


def draft_text(translation: Translation) -> str:
    """The translation as saved so far ("" when none)."""
    if translation.text_encrypted is None:
        return ""
    if translation.kind is TranslationKind.REPLY:
        return decrypt_for_instance(translation.text_encrypted, context=_text_context(translation))
    _unlocked_letter(translation)
    return decrypt_field(
        translation.letter.content_key(),
        translation.text_encrypted,
        context=_text_context(translation),
    )


def writer_note(translation: Translation) -> str:
    """The writer's note to the translator ("" when none)."""
    if translation.note_encrypted is None:
        return ""
    _unlocked_letter(translation)
    return decrypt_field(
        translation.letter.content_key(),
        translation.note_encrypted,
        context=_note_context(translation),
    )


def _store_text(translation: Translation, text: str) -> None:
    text = text.replace("\r\n", "\n")
    if len(text) > MAX_TRANSLATION_CHARS:
        raise DomainError(
            "text",
            _l(
                "The translation is too long (at most %(max)d characters).",
                max=MAX_TRANSLATION_CHARS,
            ),
        )
    if translation.kind is TranslationKind.REPLY:
        translation.text_encrypted = encrypt_for_instance(text, context=_text_context(translation))
        return
    _unlocked_letter(translation)
    translation.text_encrypted = encrypt_field(
        translation.letter.content_key(), text, context=_text_context(translation)
    )


def save_draft(actor: Actor, translation_id: int, text: str, now: datetime) -> Translation:
    """Save the translator's text so far (they keep their claim)."""
    _user, translation = _held(actor, translation_id, now)
    _store_text(translation, text)
    return translation


def _finish(translation: Translation, now: datetime) -> None:
    """Done: a letter goes on (app.translation.flow); a reply's translation is sealed to the
    letter's key, so that only its writer reads it from now on."""
    translation.state = TranslationState.DONE
    translation.done_at = now
    translation.claimed_by_id = None
    translation.claim_expires_at = None
    public_key = translation.letter.public_key
    if (
        translation.kind is TranslationKind.REPLY
        and translation.text_encrypted is not None
        and public_key is not None
    ):
        text = draft_text(translation)
        translation.text_sealed = seal(
            public_key, text.encode(), context=_text_context(translation)
        )
        translation.text_encrypted = None
    if translation.kind is TranslationKind.REPLY:
        drop_desk_copy(translation)
    letter_translated(translation)


def submit(actor: Actor, translation_id: int, text: str, now: datetime) -> Translation:
    """Hand in the translation: done, or waiting for a second translator's review when the
    organisation asks for one."""
    user, translation = _held(actor, translation_id, now)
    if not text.strip():
        raise DomainError("text", _l("Write the translation before submitting it."))
    _store_text(translation, text)
    translation.translator_id = user.id
    translation.submitted_at = now
    if current_organisation().translation_review:
        translation.state = TranslationState.SUBMITTED
        translation.claimed_by_id = None
        translation.claim_expires_at = None
    else:
        _finish(translation, now)
    return translation


def review(
    actor: Actor,
    translation_id: int,
    approve: bool,
    now: datetime,
    text: str | None = None,
) -> Translation:
    """A second translator's review: approve (optionally with corrections in ``text``) makes
    it done; returning it puts it back in the queue with its draft."""
    user = require_translator(actor)
    translation = get_translation(user, translation_id)
    if translation is None or translation.state is not TranslationState.SUBMITTED:
        raise DomainError("translation", _l("This translation is not waiting for a review."))
    if translation.translator_id == user.id:
        raise DomainError("translation", _l("Another translator must review your translation."))
    if text is not None and text.strip():
        _store_text(translation, text)
    translation.reviewer_id = user.id
    if approve:
        _finish(translation, now)
    else:
        translation.state = TranslationState.OPEN
        translation.submitted_at = None
    return translation


@dataclass(frozen=True)
class Turnaround:
    """How long translations of one language pair took, from submission to done."""

    source_language: str
    target_language: str
    median_hours: float
    count: int


def turnaround_by_pair() -> list[Turnaround]:
    """The median time from a letter's submission to its finished translation, per language
    pair (done translations only), for the mailroom page."""
    rows = db.session.execute(
        select(
            Translation.source_language,
            Translation.target_language,
            Translation.created_at,
            Translation.done_at,
        ).where(Translation.state == TranslationState.DONE, Translation.done_at.is_not(None))
    )
    hours: dict[tuple[str, str], list[float]] = {}
    for source, target, created, done in rows:
        if done is None:  # excluded by the query; says so to the type checker
            continue
        hours.setdefault((source, target), []).append((done - created).total_seconds() / 3600)
    return [
        Turnaround(source, target, median(values), len(values))
        for (source, target), values in sorted(hours.items())
    ]
