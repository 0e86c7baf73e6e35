"""The mail outbox and the supporters' opt-in subscriptions, kept apart from their letters.

Privacy at rest (DESIGN.md): what these rows need to send mail later (addresses, the links in
the mail, a queued message's content) is stored only encrypted with the instance key
(`app.privacy.instance.encrypt_for_instance`), each field bound to its row and name, and the
one-click links are looked up by their keyed hash (`link_hash`). A copy of the database alone
gives no address and no link.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, this_hour, utcnow
from app.privacy.instance import decrypt_for_instance, encrypt_for_instance, link_hash

if TYPE_CHECKING:
    from app.models.letter import Letter
    from app.models.prisoner import Prisoner

#: The purposes one-click links and addresses are hashed for (`link_hash`).
REMINDER_LINK = "reminder"
FOLLOW_LINK = "follow"
FOLLOW_ADDRESS = "follow-address"
#: The context a queued message's content is encrypted under.
OUTBOX_CONTENT = "outbox_message:content"


def reminder_link_hash(token: str) -> str:
    """What is stored of a reminder's one-click delete link, and looked up by."""
    return link_hash(token, REMINDER_LINK)


def follow_link_hash(token: str) -> str:
    """What is stored of a follow's one-click unfollow link, and looked up by."""
    return link_hash(token, FOLLOW_LINK)


def follow_address_hash(prisoner_id: int, address: str) -> str:
    """A keyed hash of an address following one prisoner (case-insensitive), so that one
    address follows a prisoner once. The prisoner is part of it: the hashes of one address
    following two people do not match, so they do not link the two follows either."""
    return link_hash(f"{prisoner_id}:{address.strip().lower()}", FOLLOW_ADDRESS)


class OutboxStatus(enum.StrEnum):
    """Where a message stands."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the last retry; an admin may re-queue it


@dataclass(frozen=True)
class OutboxContent:
    """What a queued message says and to whom: stored only encrypted, as one blob, so that
    a recipient can never be paired with another message's content."""

    recipient: str
    subject: str
    body_text: str
    body_html: str = ""
    #: Where one click (RFC 8058) ends what this message belongs to ("" when nothing does).
    unsubscribe_url: str = ""


def seal_outbox_content(content: OutboxContent) -> bytes:
    """Encrypt a message's content with the instance key."""
    return encrypt_for_instance(
        json.dumps(asdict(content), ensure_ascii=False), context=OUTBOX_CONTENT
    )


def open_outbox_content(blob: bytes) -> OutboxContent:
    """Decrypt what `seal_outbox_content` wrote; raises CannotDecrypt if it was altered."""
    fields = json.loads(decrypt_for_instance(bytes(blob), context=OUTBOX_CONTENT))
    return OutboxContent(**fields)


class OutboxMessage(Model):
    """An email written in the same transaction as its cause and sent later by a job.

    Its recipient, subject and bodies are kept only encrypted (``content_encrypted``) and
    only until it is sent: the delivery job decrypts them just before sending, then deletes
    them (a message that gave up keeps them OUTBOX_DEAD_KEEP_DAYS for an admin to re-queue).
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))  # the email template's name
    # The OutboxContent, encrypted with the instance key; NULL once pruned.
    content_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
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

    def __init__(
        self,
        *,
        recipient: str,
        subject: str,
        body_text: str,
        body_html: str = "",
        unsubscribe_url: str = "",
        **columns: Any,
    ) -> None:
        super().__init__(**columns)
        self.content_encrypted = seal_outbox_content(
            OutboxContent(recipient, subject, body_text, body_html, unsubscribe_url)
        )

    @property
    def content(self) -> OutboxContent | None:
        """The decrypted recipient, subject and bodies; None once pruned."""
        blob = self.content_encrypted
        return None if blob is None else open_outbox_content(blob)

    @property
    def recipient(self) -> str:
        """The decrypted address ("" once pruned)."""
        return self._field("recipient")

    @property
    def subject(self) -> str:
        """The decrypted subject ("" once pruned)."""
        return self._field("subject")

    @property
    def body_text(self) -> str:
        """The decrypted plain-text body ("" once pruned)."""
        return self._field("body_text")

    @property
    def body_html(self) -> str:
        """The decrypted HTML body ("" once pruned)."""
        return self._field("body_html")

    def _field(self, name: str) -> str:
        content = self.content  # one decryption per read
        return "" if content is None else str(getattr(content, name))

    @property
    def is_pruned(self) -> bool:
        """True once only kind, status and times are left (after sending, or long dead)."""
        return self.content_encrypted is None


class InstanceEncrypted:
    """Fields encrypted with the instance key, each bound to its row by ``_context``."""

    def _context(self, name: str) -> str:
        raise NotImplementedError

    def _encrypt(self, value: str, name: str) -> bytes:
        return encrypt_for_instance(value, context=self._context(name))

    def _decrypt(self, blob: bytes, name: str) -> str:
        return decrypt_for_instance(bytes(blob), context=self._context(name))


class Confirmable:
    """Double opt-in: nothing but one confirmation email goes to an address until its owner
    confirms it through the link in that email (see app/mail/confirmation.py).

    Only a keyed hash of the confirmation link's token is kept; it is cleared on use.
    Unconfirmed addresses are deleted CONFIRM_HOURS after the request. Both times are kept
    to the hour (they are a supporter's actions).
    """

    confirmed_at: Mapped[datetime | None]
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_requested_at: Mapped[datetime | None]

    @property
    def confirmed(self) -> bool:
        """True once the owner of the address confirmed it."""
        return self.confirmed_at is not None


class ReminderSubscription(InstanceEncrypted, Confirmable, Model):
    """A supporter's optional email for reminders to report back on one letter.

    Stored apart from the letter so that the letter itself never carries an email address;
    deleted with one click from every message (the token in the link), and deleted by the
    job that queues the last reminder. Until then it keeps, encrypted with the instance key,
    what it needs to send: the address, the letter's tracking link (the one copy of it the
    server keeps) and its own delete link, which is looked up by its keyed hash.
    """

    __tablename__ = "reminder_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(
        ForeignKey("letter.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    letter_link_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=this_hour)
    reminded_14_at: Mapped[datetime | None]
    reminded_45_at: Mapped[datetime | None]

    letter: Mapped[Letter] = relationship()

    @classmethod
    def made(
        cls, *, letter_id: int, letter_token: str, token: str, email: str
    ) -> ReminderSubscription:
        """A new subscription for the (stored) letter ``letter_id`` behind ``letter_token``,
        deleted through the link ``token``."""
        subscription = cls(letter_id=letter_id, token_hash=reminder_link_hash(token))
        subscription.letter_link_encrypted = subscription._encrypt(letter_token, "letter-link")
        subscription.token_encrypted = subscription._encrypt(token, "token")
        subscription.email = email
        return subscription

    @property
    def email(self) -> str:
        """The address reminders go to."""
        return self._decrypt(self.email_encrypted, "email")

    @email.setter
    def email(self, value: str) -> None:
        self.email_encrypted = self._encrypt(value, "email")

    @property
    def letter_token(self) -> str:
        """The letter's tracking token, for the link in each reminder."""
        return self._decrypt(self.letter_link_encrypted, "letter-link")

    @property
    def token(self) -> str:
        """The token of the one-click delete link."""
        return self._decrypt(self.token_encrypted, "token")

    def _context(self, name: str) -> str:
        if self.letter_id is None:
            raise ValueError("a reminder subscription is encrypted for its letter's id")
        return f"reminder_subscription:{self.letter_id}:{name}"


class Follow(InstanceEncrypted, Confirmable, Model):
    """Someone who asked to hear when a prisoner is transferred (opt-in, one-click removal).

    The address and the unfollow link are kept only encrypted with the instance key; the link
    is looked up by its keyed hash, the address (to follow a prisoner once) by another.
    """

    __tablename__ = "follow"

    id: Mapped[int] = mapped_column(primary_key=True)
    prisoner_id: Mapped[int] = mapped_column(
        ForeignKey("prisoner.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    email_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=this_hour)

    prisoner: Mapped[Prisoner] = relationship()

    @classmethod
    def made(cls, *, prisoner_id: int, token: str, email: str) -> Follow:
        """A new follow of the (stored) prisoner ``prisoner_id``, removed through ``token``."""
        follow = cls(
            prisoner_id=prisoner_id,
            token_hash=follow_link_hash(token),
            address_hash=follow_address_hash(prisoner_id, email),
        )
        follow.email_encrypted = follow._encrypt(email, "email")
        follow.token_encrypted = follow._encrypt(token, "token")
        return follow

    @property
    def email(self) -> str:
        """The address transfer alerts go to."""
        return self._decrypt(self.email_encrypted, "email")

    @property
    def token(self) -> str:
        """The token of the one-click unfollow link."""
        return self._decrypt(self.token_encrypted, "token")

    def _context(self, name: str) -> str:
        return f"follow:{self.prisoner_id}:{self.token_hash}:{name}"
