"""Replies translated back into the writer's language (DESIGN.md, "Translation").

A writer who asked the organisation's volunteers to translate a letter cannot read the
prisoner's answer either: when the mailroom matches a reply to such a letter, the reply goes
to the desk too, from the language the letter was translated into back into the letter's.

Privacy at rest: the writer's own copy of the scan is sealed to the letter's public key, which
translators cannot open. So the desk keeps a second copy of the scan, encrypted with the
instance key, and the translation's text is encrypted with the instance key while translators
work on it (app.translation.desk). Once the translation is done, its text is sealed to the
letter's key and the desk's copy of the scan is deleted: from then on only the writer reads
either. The copy also goes when the writer deletes the letter or the reply is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import (
    IncomingMail,
    Letter,
    StoredFile,
    Translation,
    TranslationKind,
    TranslationState,
)
from app.privacy.crypto import CannotDecrypt, letter_keys, open_sealed
from app.stored_files import delete_files, store_file
from app.translation.requests import WriterState, letter_translation, text_context, writer_state

#: The kind of stored file holding the translators' copy of a reply's scan.
REPLY_TRANSLATION_SCAN = "reply_translation_scan"


def reply_languages(letter: Letter) -> tuple[str, str] | None:
    """The (source, target) languages a reply to ``letter`` is translated in: back from the
    language its letter was translated into, into the letter's own. None when the
    volunteers did not translate the letter (its writer reads the reply's language)."""
    translation = letter_translation(letter)
    if translation is None or translation.state is not TranslationState.DONE:
        return None
    return translation.target_language, translation.source_language


def send_reply_to_desk(incoming: IncomingMail, letter: Letter, pdf: bytes) -> Translation | None:
    """Put a reply just matched to ``letter`` (its scan ``pdf``, flushed) on the desk when the
    letter was translated by the volunteers; returns the new translation, or None."""
    languages = reply_languages(letter)
    if languages is None:
        return None
    stored = store_file(REPLY_TRANSLATION_SCAN, pdf, "application/pdf")
    translation = Translation(
        letter_id=letter.id,
        kind=TranslationKind.REPLY,
        incoming_mail_id=incoming.id,
        source_language=languages[0],
        target_language=languages[1],
        scan_file_id=stored.id,
    )
    db.session.add(translation)
    return translation


def desk_copy(translation: Translation) -> StoredFile | None:
    """The translators' copy of the reply's scan, while the translation is at the desk."""
    if translation.kind is not TranslationKind.REPLY or translation.scan_file_id is None:
        return None
    return db.session.get(StoredFile, translation.scan_file_id)


def drop_desk_copy(translation: Translation) -> None:
    """Delete the translators' copy of a reply's scan (the translation is done)."""
    if translation.scan_file_id is not None:
        file_id, translation.scan_file_id = translation.scan_file_id, None
        delete_files([file_id])


def desk_copies_of(incoming_ids: list[int]) -> list[int]:
    """The stored files of the translators' copies of these replies' scans (to delete with
    them)."""
    if not incoming_ids:
        return []
    return [
        file_id
        for file_id in db.session.scalars(
            select(Translation.scan_file_id).where(
                Translation.incoming_mail_id.in_(incoming_ids),
                Translation.scan_file_id.is_not(None),
            )
        )
        if file_id is not None
    ]


@dataclass(frozen=True)
class ReplyTranslation:
    """How a reply's translation stands, as its writer is shown it."""

    state: TranslationState
    #: The state in the writer's words.
    writer_state: WriterState
    target_language: str
    #: The translated text, once done and opened with the letter's link.
    text: str | None


def reply_translations(letter: Letter) -> dict[int, ReplyTranslation]:
    """The latest translation of each of the letter's replies, by reply id, with its text
    opened with the link the request presented (the letter unlocked by its token)."""
    found = db.session.scalars(
        select(Translation)
        .where(Translation.letter_id == letter.id, Translation.kind == TranslationKind.REPLY)
        .order_by(Translation.id)
    )
    result: dict[int, ReplyTranslation] = {}
    for translation in found:
        if translation.incoming_mail_id is None:
            continue
        result[translation.incoming_mail_id] = ReplyTranslation(
            translation.state,
            writer_state(translation),
            translation.target_language,
            _sealed_text(letter, translation),
        )
    return result


def _sealed_text(letter: Letter, translation: Translation) -> str | None:
    if translation.state is not TranslationState.DONE or translation.text_sealed is None:
        return None
    try:
        private_key = letter_keys(letter.token).private_key
        opened = open_sealed(
            private_key, bytes(translation.text_sealed), context=text_context(translation)
        )
    except (CannotDecrypt, ValueError):
        return None
    return opened.decode()
