"""How many letters each prisoner got lately: the order of the prisoner list and suggestions.

The counts live in ``recent_letter_count``: rebuilt in SQL on the first list view of each day
(the 90-day window moves) and after a letter is deleted, and raised by one in the same
transaction as each new letter. A marker in ``stats_snapshot`` says for which day they hold.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, insert, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Letter, RecentLetterCount, StatsSnapshot, TemplateKind
from app.models.base import utcnow

RECENT_DAYS = 90
MARKER = "recent_letters"
_counts = RecentLetterCount.__table__
_snapshots = StatsSnapshot.__table__


def _since(today: date) -> datetime:
    return datetime.combine(today - timedelta(days=RECENT_DAYS), datetime.min.time())


def ensure_counted(today: date) -> None:
    """Recount, and commit, unless the counts already hold for ``today``."""
    marker = db.session.execute(
        select(_snapshots.c.payload, _snapshots.c.stale).where(_snapshots.c.key == MARKER)
    ).first()
    if marker and not marker.stale and marker.payload.get("as_of") == today.isoformat():
        return
    db.session.execute(delete(_counts))
    db.session.execute(
        insert(_counts).from_select(
            ["prisoner_id", "letters"],
            select(Letter.prisoner_id, db.func.count())
            .where(Letter.created_at >= _since(today), Letter.kind == TemplateKind.LETTER)
            .group_by(Letter.prisoner_id),
        )
    )
    payload = {"as_of": today.isoformat()}
    if marker:
        db.session.execute(
            update(_snapshots)
            .where(_snapshots.c.key == MARKER)
            .values(payload=payload, stale=False, computed_at=utcnow())
        )
    else:
        db.session.execute(
            insert(_snapshots).values(
                key=MARKER, payload=payload, stale=False, computed_at=utcnow()
            )
        )
    db.session.commit()


def _count_new_letters(session: Session, _context: Any) -> None:
    """Keep the counts current within the day: +1 per new letter, recount after a deletion."""
    connection = session.connection()
    added: dict[int, int] = {}
    for instance in session.info.pop("recent_letters_new", []):
        if instance.kind is TemplateKind.LETTER and instance.created_at >= _since(date.today()):
            added[instance.prisoner_id] = added.get(instance.prisoner_id, 0) + 1
    for prisoner_id, letters in added.items():
        changed = connection.execute(
            update(_counts)
            .where(_counts.c.prisoner_id == prisoner_id)
            .values(letters=_counts.c.letters + letters)
        ).rowcount
        if not changed:
            connection.execute(insert(_counts).values(prisoner_id=prisoner_id, letters=letters))
    if session.info.pop("recent_letters_deleted", False):
        connection.execute(update(_snapshots).where(_snapshots.c.key == MARKER).values(stale=True))


def _collect_letters(session: Session, _context: Any, _instances: Any) -> None:
    new = [instance for instance in session.new if isinstance(instance, Letter)]
    session.info.setdefault("recent_letters_new", []).extend(new)
    if any(isinstance(instance, Letter) for instance in session.deleted):
        session.info["recent_letters_deleted"] = True


def install_session_hooks() -> None:
    """Count new letters in the same transaction that writes them (idempotent)."""
    if not event.contains(Session, "before_flush", _collect_letters):
        event.listen(Session, "before_flush", _collect_letters)
        event.listen(Session, "after_flush_postexec", _count_new_letters)
