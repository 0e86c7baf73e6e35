"""The mail outbox for admins: the list with its counts, and re-queueing dead messages.

Recipients are shown for mail to people the instance knows by their account or invitation
(invitations, password resets, login links, digests, drive invitations): an admin may need
to know whose mail is stuck. Mail a supporter asked for (confirmations, reminders, transfer
alerts) shows no address: supporters left it to be mailed, not to be read by the
organisation (DESIGN.md, "Privacy at rest"), and an admin needs only its kind and status to
see that mail is stuck. Such rows are not even decrypted for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.auth.permissions import Actor, require_admin
from app.domain import DomainError, Page, paginate
from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.base import utcnow

OUTBOX_PAGE_SIZE = 50
#: Mail a supporter asked for: its recipient is never shown to admins.
SUPPORTERS_MAIL = frozenset({"confirm_address", "reminder", "transfer_alert"})


@dataclass(frozen=True)
class OutboxPage(Page[OutboxMessage]):
    """One page of the outbox list and the number of messages in each status."""

    counts: dict[OutboxStatus, int]
    status: OutboxStatus | None

    def recipient(self, message: OutboxMessage) -> str | None:
        """The address an admin may see for ``message``: None for a supporter's mail (and
        "" once its content is deleted)."""
        if message.is_pruned:
            return ""
        if message.kind in SUPPORTERS_MAIL:
            return None
        return message.recipient


def list_outbox(actor: Actor, status: OutboxStatus | None, page: int = 1) -> OutboxPage:
    """Messages newest first, optionally of one status (admins only). Three queries per page."""
    require_admin(actor)
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    listed = paginate(query, page, OUTBOX_PAGE_SIZE, scalars=True)
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        ).all()
    )
    return OutboxPage(
        rows=listed.rows,
        page=listed.page,
        per_page=listed.per_page,
        total=listed.total,
        counts={member: counts.get(member, 0) for member in OutboxStatus},
        status=status,
    )


def requeue_message(actor: Actor, message_id: int) -> OutboxMessage | None:
    """Give a dead message a fresh set of attempts (admins only); None if there is none.

    Not once its content was pruned (dead for OUTBOX_DEAD_KEEP_DAYS): nothing is left to send.

    The commit that follows sends it: the outbox hook enqueues delivery for re-queued rows.
    """
    require_admin(actor)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return None
    if message.status is not OutboxStatus.DEAD:
        raise DomainError("message", _l("Only messages that gave up can be queued again."))
    if message.is_pruned:
        raise DomainError(
            "message",
            _l("This message gave up too long ago: its content is deleted, it cannot be sent."),
        )
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    return message
