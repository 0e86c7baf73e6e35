"""How long the organisation keeps what it holds of a mailroom letter and its post.

- The organisers' copy of a letter's key (which lets volunteers read it) is destroyed when
  the reply window closes (posted on + the organisation's reply window), and at once when
  the letter is rejected (`end_organisation_access`, called at the decision): from then on
  only the writer's link opens the letter.
- Replies that found no letter (held, or given up on) are deleted with their scans
  ``HOLD_DAYS`` after they were received.
- When the writer deletes the letter, its replies and returns go with it, sealed scans
  included (`erase_incoming_of`, called by `app.tracking.erasure.erase_letter`).

Services: no commits; the periodic tasks (app.mailroom.tasks) commit.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, select

from app.extensions import db
from app.mailroom.organisation import current_organisation
from app.models import IncomingMail, IncomingState, Letter, MailroomItem, MailroomState
from app.stored_files import delete_files
from app.translation.replies import desk_copies_of


def end_organisation_access(item: MailroomItem) -> None:
    """Destroy the organisers' copy of the letter's key: the letter is its writer's alone.

    Called when a letter is rejected, and by `end_expired_access` when its reply window
    closes. Reading it afterwards needs the writer's link.
    """
    item.letter.stop_sharing_with_organisers()


def end_expired_access(today: date) -> int:
    """End the organisation's access to the mailroom letters whose reply window closed
    before ``today``, and to rejected letters; returns how many letters it ended."""
    window = timedelta(days=current_organisation().reply_window_days)
    items = db.session.scalars(
        select(MailroomItem)
        .join(Letter, Letter.id == MailroomItem.letter_id)
        .where(
            Letter.organisers_key.is_not(None),
            (MailroomItem.state == MailroomState.REJECTED)
            | (MailroomItem.posted_on.is_not(None) & (MailroomItem.posted_on < today - window)),
        )
    ).all()
    for item in items:
        end_organisation_access(item)
    return len(items)


def purge_unmatched(today: date) -> int:
    """Delete the replies held or given up on whose time is up, with their scans; returns
    how many."""
    expired = db.session.execute(
        select(IncomingMail.id, IncomingMail.scan_file_id).where(
            IncomingMail.state.in_((IncomingState.HELD, IncomingState.UNMATCHED)),
            IncomingMail.delete_after.is_not(None),
            IncomingMail.delete_after < today,
        )
    ).all()
    return _delete_incoming([row.id for row in expired], [row.scan_file_id for row in expired])


def erase_incoming_of(letter_id: int) -> int:
    """Delete the replies and returns of a letter and their scans (the writer deleted it);
    returns how many."""
    rows = db.session.execute(
        select(IncomingMail.id, IncomingMail.scan_file_id).where(
            IncomingMail.letter_id == letter_id
        )
    ).all()
    return _delete_incoming([row.id for row in rows], [row.scan_file_id for row in rows])


def _delete_incoming(ids: list[int], file_ids: list[int | None]) -> int:
    if not ids:
        return 0
    # The translators' copies of the scans go too (the translations themselves cascade).
    delete_files([*(file_id for file_id in file_ids if file_id is not None), *desk_copies_of(ids)])
    db.session.execute(
        delete(IncomingMail).where(IncomingMail.id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
    return len(ids)
