"""The writer's side of translation: asking the organisation's volunteers to translate a letter
into the prisoner's language, the writer's note to the translator, what the writer is shown,
and the translated text the letter is printed with (DESIGN.md, "Translation").

Privacy at rest: the translation and the note are encrypted with the letter's own content key
(`encrypt_field`), so the writer reads them through the link and the organisation through its
copy of the key (`Letter.share_with_organisers`), which a translation request makes.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.domain import DomainError
from app.extensions import db
from app.mailroom.organisation import current_organisation
from app.models import Letter, Translation, TranslationKind, TranslationState
from app.privacy.crypto import CannotDecrypt, decrypt_field, encrypt_field

#: The writer's note to the translator, at most.
MAX_NOTE_CHARS = 500

#: The printed line naming the text a volunteers' translation, by target language and source
#: language (the genitive: «с английского»). Unknown pairs fall back to a line without it.
_SOURCE_GENITIVE_RU = {
    "en": "английского",
    "de": "немецкого",
    "fr": "французского",
    "es": "испанского",
    "it": "итальянского",
    "pl": "польского",
    "uk": "украинского",
    "be": "белорусского",
    "ka": "грузинского",
    "he": "иврита",
    "cs": "чешского",
    "nl": "нидерландского",
    "sv": "шведского",
    "fi": "финского",
    "lt": "литовского",
    "lv": "латышского",
    "et": "эстонского",
}


class WriterState(enum.StrEnum):
    """Where a letter's translation stands, as its writer is told."""

    WAITING = "waiting"  # waiting for a translator
    TRANSLATING = "translating"  # a translator holds it
    IN_REVIEW = "in_review"  # translated, waiting for a second translator
    DONE = "done"  # translated


_WRITER_STATES = {
    TranslationState.OPEN: WriterState.WAITING,
    TranslationState.CLAIMED: WriterState.TRANSLATING,
    TranslationState.SUBMITTED: WriterState.IN_REVIEW,
    TranslationState.DONE: WriterState.DONE,
}


def text_context(translation: Translation) -> str:
    """The encryption context of a translation's text (see app.privacy.crypto)."""
    return f"translation:{translation.id}:text"


def note_context(translation: Translation) -> str:
    """The encryption context of the writer's note to the translator."""
    return f"translation:{translation.id}:note"


def target_language_for(letter: Letter) -> str | None:
    """The language a letter would be translated into (the first the prisoner reads), or
    None when the prisoner reads the letter's language (or no language is known)."""
    languages = letter.prisoner.language_list or ["ru"]
    if letter.language in languages:
        return None
    return languages[0]


def check_translation(prisoner_languages: list[str], language: str) -> str:
    """The target language of a translation the writer asks for, or DomainError on
    ``translate`` when the organisation cannot take it or there is nothing to translate."""
    if not current_organisation().can_take_letters:
        raise DomainError(
            "translate",
            _l(
                "The organisation is not taking letters now, so its volunteers cannot "
                "translate yours."
            ),
        )
    languages = prisoner_languages or ["ru"]
    if language in languages:
        raise DomainError(
            "translate",
            _l("This person reads the language of your letter: it needs no translation."),
        )
    return languages[0]


def letter_translation(letter: Letter) -> Translation | None:
    """The letter's most recent translation into the prisoner's language, if it asked for one."""
    if letter.id is None:
        return None
    return db.session.scalar(
        select(Translation)
        .where(Translation.letter_id == letter.id, Translation.kind == TranslationKind.LETTER)
        .order_by(Translation.id.desc())
        .limit(1)
    )


def request_translation(letter: Letter, note: str = "") -> Translation:
    """Ask the organisation's volunteers to translate a just-saved letter (unlocked, flushed)
    into the first language its prisoner reads, with the writer's optional ``note``.

    The organisation may read the letter from now on (its copy of the key). Refused with
    DomainError on ``translate`` when the mailroom is closed or the prisoner reads the
    letter's language already; the caller rolls back.
    """
    target = check_translation(letter.prisoner.language_list, letter.language)
    if letter_translation(letter) is not None:
        raise DomainError("translate", _l("A translation of this letter was already asked for."))
    translation = Translation(
        letter_id=letter.id,
        kind=TranslationKind.LETTER,
        source_language=letter.language,
        target_language=target,
        state=TranslationState.OPEN,
    )
    db.session.add(translation)
    db.session.flush()
    set_note(letter, translation, note)
    letter.share_with_organisers()
    return translation


def set_note(letter: Letter, translation: Translation, note: str) -> None:
    """Add or replace the writer's note to the translator (empty: none), encrypted with the
    letter's key. Refused (DomainError on ``translator_note``) once the translation is done
    or when the note is too long."""
    if translation.state is TranslationState.DONE:
        raise DomainError(
            "translator_note", _l("The letter is translated already: the note is no longer read.")
        )
    text = note.replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise DomainError(
            "translator_note",
            _l("The note is too long (at most %(max)d characters).", max=MAX_NOTE_CHARS),
        )
    translation.note_encrypted = (
        encrypt_field(letter.content_key(), text, context=note_context(translation))
        if text
        else None
    )


def note_of(letter: Letter, translation: Translation) -> str:
    """The writer's note to the translator ("" if none or unreadable); the letter unlocked."""
    if translation.note_encrypted is None:
        return ""
    try:
        blob = bytes(translation.note_encrypted)
        return decrypt_field(letter.content_key(), blob, context=note_context(translation))
    except CannotDecrypt:
        return ""


def writer_state(translation: Translation) -> WriterState:
    """Where the translation stands, in the writer's words."""
    return _WRITER_STATES[translation.state]


def done_text(letter: Letter, translation: Translation | None) -> str | None:
    """The translated text of a done translation (the letter unlocked), or None."""
    if (
        translation is None
        or translation.state is not TranslationState.DONE
        or translation.text_encrypted is None
    ):
        return None
    try:
        blob = bytes(translation.text_encrypted)
        return decrypt_field(letter.content_key(), blob, context=text_context(translation))
    except CannotDecrypt:
        return None


def translation_line(source_language: str, target_language: str, organisation: str) -> str:
    """The line printed with a translated letter naming it a volunteers' translation, in the
    language of the translation (the prisoner and the censor read it)."""
    name = organisation.strip()
    if target_language == "ru":
        source = _SOURCE_GENITIVE_RU.get(source_language)
        start = f"Перевод с {source}" if source else "Перевод"
        if name:
            return f"{start} выполнен волонтёрами организации «{name}»."
        return f"{start} выполнен волонтёрами."
    if name:
        return f"Translated by volunteers of {name}."
    return "Translated by volunteers."


def printed_translation(letter: Letter) -> tuple[str, str, str] | None:
    """What a letter is printed with when its translation is done: (language, text, the
    volunteers' translation line); None to print the original. The letter must be unlocked."""
    translation = letter_translation(letter)
    if translation is None or translation.state is not TranslationState.DONE:
        return None  # without asking for the organisation's name
    return printed_with(letter, translation, current_organisation().name)


def printed_with(
    letter: Letter, translation: Translation | None, organisation: str
) -> tuple[str, str, str] | None:
    """`printed_translation` with the letter's translation and the organisation's name
    given (a list of letters finds them with `done_translations`, asking the database once)."""
    text = done_text(letter, translation)
    if translation is None or text is None:
        return None
    line = translation_line(translation.source_language, translation.target_language, organisation)
    return translation.target_language, text, line


def done_translations(letter_ids: list[int]) -> dict[int, Translation]:
    """The done letter translations of these letters, by letter id, in one query."""
    if not letter_ids:
        return {}
    found = db.session.scalars(
        select(Translation)
        .where(
            Translation.letter_id.in_(letter_ids),
            Translation.kind == TranslationKind.LETTER,
            Translation.state == TranslationState.DONE,
        )
        .order_by(Translation.id)
    )
    return {translation.letter_id: translation for translation in found}
