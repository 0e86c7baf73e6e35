"""Mail goes out right after the commit that wrote it: a session hook that notices outbox
messages being written and asks for delivery once their transaction commits.

Messages are never sent before the commit that wrote them, and nothing is sent when that
transaction rolls back. `create_app` installs the hook.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.edge import after_commit
from app.mail.tasks import enqueue_delivery
from app.models import OutboxMessage, OutboxStatus


def _writes_mail(session: Session) -> bool:
    if any(isinstance(item, OutboxMessage) for item in session.new):
        return True
    return any(
        isinstance(item, OutboxMessage) and item.status is OutboxStatus.PENDING
        for item in session.dirty
    )


def _deliver_after_commit(session: Session, _context: Any, _instances: Any) -> None:
    if _writes_mail(session):
        after_commit(enqueue_delivery, session)


def install_session_hooks() -> None:
    """Deliver mail after every commit that wrote (or re-queued) some (idempotent)."""
    if not event.contains(Session, "before_flush", _deliver_after_commit):
        event.listen(Session, "before_flush", _deliver_after_commit)
