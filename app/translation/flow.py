"""Where a translated letter goes next: the hand-over between the desk and the mailroom.

The desk (app.translation.desk) calls `letter_translated` when a letter's translation is done
(and reviewed, when the organisation asks for a review); the writer's side decides here what
that means for the letter.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.mail.services import queue_letter_news
from app.mailroom.services import set_state
from app.models import MailroomItem, MailroomState, Translation, TranslationKind


def letter_translated(translation: Translation) -> None:
    """A translation is done: a letter sent through the organisation goes on to review; a
    writer who posts it themselves finds the translation on the tracking page. A reply's
    translation is news for its writer (the content-neutral email, if they left an address)."""
    if translation.kind is TranslationKind.REPLY:
        queue_letter_news(translation.letter)
        return
    item = db.session.scalar(
        select(MailroomItem).where(MailroomItem.letter_id == translation.letter_id)
    )
    if item is None:
        # Translation only (the writer posts it): the desk no longer needs to read it.
        translation.letter.stop_sharing_with_organisers()
    elif item.state is MailroomState.TRANSLATION:
        set_state(item, MailroomState.REVIEW)
