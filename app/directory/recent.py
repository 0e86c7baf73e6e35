"""How many letters each prisoner got lately: the order of the prisoner list and suggestions.

The counts live in ``recent_letter_count``: raised by one in the same transaction as each new
letter and lowered by one with each deleted one (a session hook `create_app` installs), and
rebuilt in SQL by a background job (`app.directory.tasks`) once a day, as the 90-day window
moves. A marker in ``stats_snapshot`` says for which day they hold. Pages only read them.
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


def ensure_counted(today: date) -> bool:
    """Recount unless the counts already hold for ``today``; True when it recounted."""
    marker = db.session.execute(
        select(_snapshots.c.payload, _snapshots.c.stale).where(_snapshots.c.key == MARKER)
    ).first()
    if marker and not marker.stale and marker.payload.get("as_of") == today.isoformat():
        return False
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
    return True


def _count_new_letters(session: Session, _context: Any) -> None:
    """Keep the counts current within the day: +1 per new letter, -1 per deleted one."""
    connection = session.connection()
    since = _since(date.today())
    changes: dict[int, int] = {}
    for instance, change in session.info.pop("recent_letters_changed", []):
        if instance.kind is TemplateKind.LETTER and instance.created_at >= since:
            changes[instance.prisoner_id] = changes.get(instance.prisoner_id, 0) + change
    for prisoner_id, change in changes.items():
        if not change:
            continue
        changed = connection.execute(
            update(_counts)
            .where(_counts.c.prisoner_id == prisoner_id)
            .values(letters=_counts.c.letters + change)
        ).rowcount
        if not changed and change > 0:
            connection.execute(insert(_counts).values(prisoner_id=prisoner_id, letters=change))


def _collect_letters(session: Session, _context: Any, _instances: Any) -> None:
    changed = session.info.setdefault("recent_letters_changed", [])
    changed.extend((item, +1) for item in session.new if isinstance(item, Letter))
    changed.extend((item, -1) for item in session.deleted if isinstance(item, Letter))


def install_session_hooks() -> None:
    """Count new and deleted letters in the same transaction that writes them (idempotent)."""
    if not event.contains(Session, "before_flush", _collect_letters):
        event.listen(Session, "before_flush", _collect_letters)
        event.listen(Session, "after_flush_postexec", _count_new_letters)
