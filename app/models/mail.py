"""The mail outbox and the supporters' opt-in subscriptions, kept apart from their letters."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, utcnow

if TYPE_CHECKING:
    from app.models.letter import Letter
    from app.models.prisoner import Prisoner


class OutboxStatus(enum.StrEnum):
    """Where a message stands."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the last retry; an admin may re-queue it


class OutboxMessage(Model):
    """An email written in the same transaction as its cause and sent later by a job."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))  # the email template's name
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # The supporter's subscription a message is for: deleting the address deletes its mail.
    reminder_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminder_subscription.id", ondelete="CASCADE"), index=True
    )
    follow_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow.id", ondelete="CASCADE"), index=True
    )

    reminder: Mapped[ReminderSubscription | None] = relationship()
    follow: Mapped[Follow | None] = relationship()

    @property
    def is_pruned(self) -> bool:
        """True once only kind, status and times are left (after sending, or long dead)."""
        return self.recipient == ""


class Confirmable:
    """Double opt-in: nothing but one confirmation email goes to an address until its owner
    confirms it through the link in that email (see app/mail/confirmation.py).

    Only a keyed hash of the confirmation link's token is kept; it is cleared on use.
    Unconfirmed addresses are deleted CONFIRM_HOURS after the request.
    """

    confirmed_at: Mapped[datetime | None]
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_requested_at: Mapped[datetime | None]

    @property
    def confirmed(self) -> bool:
        """True once the owner of the address confirmed it."""
        return self.confirmed_at is not None


class ReminderSubscription(Confirmable, Model):
    """A supporter's optional email for reminders to report back on one letter.

    Stored apart from the letter so that the letter itself never carries an email address;
    deleted with one click from every message (the token in the link).
    """

    __tablename__ = "reminder_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(
        ForeignKey("letter.id", ondelete="CASCADE"), unique=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_14_at: Mapped[datetime | None]
    reminded_45_at: Mapped[datetime | None]

    letter: Mapped[Letter] = relationship()


class Follow(Confirmable, Model):
    """Someone who asked to hear when a prisoner is transferred (opt-in, one-click removal)."""

    __tablename__ = "follow"

    id: Mapped[int] = mapped_column(primary_key=True)
    prisoner_id: Mapped[int] = mapped_column(
        ForeignKey("prisoner.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    prisoner: Mapped[Prisoner] = relationship()
