"""Letters and what happened to them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, this_hour
from app.models.template import Template, TemplateKind
from app.privacy.crypto import decrypt_field, encrypt_field, letter_keys
from app.privacy.instance import link_hash, unwrap_for_organisers, wrap_for_organisers

if TYPE_CHECKING:
    from app.models.drive import Drive
    from app.models.facility import Facility
    from app.models.official import Official
    from app.models.prisoner import Prisoner


class EventKind(enum.StrEnum):
    """Things that can happen to a letter, as reported by the person who wrote it."""

    SENT = "sent"
    ARRIVED = "arrived"
    REPLY = "reply"
    RETURNED = "returned"
    WITHHELD = "withheld"
    NO_NEWS = "no_news"
    # Appeals to officials (59-FZ): the term for the answer was extended, or the answer refused.
    EXTENDED = "extended"
    REFUSED = "refused"


APPEAL_ONLY_EVENTS = frozenset({EventKind.EXTENDED, EventKind.REFUSED})
#: What an appeal's writer reports: sent, received (registered) by the official, answered,
#: the term extended, or an answer refused. A censor does not withhold an appeal.
APPEAL_EVENTS = frozenset(
    {EventKind.SENT, EventKind.ARRIVED, EventKind.REPLY, *APPEAL_ONLY_EVENTS}
)


class Channel(enum.StrEnum):
    """How a letter travelled."""

    POST = "post"
    REGISTERED = "registered"
    ELECTRONIC = "electronic"
    ORGANISATION = "organisation"
    LAWYER = "lawyer"
    IN_PERSON = "in_person"


class LetterStatus(enum.StrEnum):
    """A letter's status, always derived from its events."""

    WRITTEN = "written"
    SENT = "sent"
    DELIVERED = "delivered"
    ANSWERED = "answered"
    RETURNED = "returned"
    WITHHELD = "withheld"
    NO_NEWS = "no_news"
    EXTENDED = "extended"
    REFUSED = "refused"


# Later stages win: a reply implies delivery; a return or a withholding ends the story.
_STATUS_BY_EVENT = {
    EventKind.SENT: (10, LetterStatus.SENT),
    EventKind.NO_NEWS: (20, LetterStatus.NO_NEWS),
    EventKind.ARRIVED: (30, LetterStatus.DELIVERED),
    EventKind.EXTENDED: (35, LetterStatus.EXTENDED),
    EventKind.REPLY: (40, LetterStatus.ANSWERED),
    EventKind.REFUSED: (45, LetterStatus.REFUSED),
    EventKind.WITHHELD: (50, LetterStatus.WITHHELD),
    EventKind.RETURNED: (60, LetterStatus.RETURNED),
}


def derive_status(kinds: Iterable[EventKind]) -> LetterStatus:
    """The status a letter has after the given events, in whatever order they were reported."""
    best = (0, LetterStatus.WRITTEN)
    for kind in kinds:
        best = max(best, _STATUS_BY_EVENT[kind], key=lambda item: item[0])
    return best[1]


def closing_signature(body: str, signature: str) -> str:
    """The signature to print under ``body``, or "" when the text already ends with it."""
    last_line = body.rstrip().rsplit("\n", 1)[-1].strip()
    return "" if last_line == signature.strip() else signature


#: The purpose a tracking link is hashed for (`app.privacy.instance.link_hash`).
LINK_PURPOSE = "letter"


class LetterLocked(Exception):
    """A letter's content or link was asked for by code that does not hold its link (nor an
    organisers' copy of its key): a programming error, never shown to anyone."""


def letter_link_hash(token: str) -> str:
    """What the database keeps of a tracking link, and looks letters up by."""
    return link_hash(token, LINK_PURPOSE)


class Letter(Model):
    """One letter or appeal, reachable by its writer only through its private tracking token.

    Privacy at rest (DESIGN.md): the database keeps a keyed hash of the link, the letter's
    X25519 public key, and its text, signature and sender address encrypted with a key
    derived from the link. A letter read from the database is *locked*: `unlock` with the
    link a request presented (or `unlock_for_organisers` while an organisation holds a copy
    of its key) makes ``body``, ``signature``, ``sender_address`` and ``token`` readable for
    the rest of the session. New letters are made with `Letter.written`.
    """

    __tablename__ = "letter"
    __table_args__ = (
        Index("ix_letter_prisoner_created", "prisoner_id", "created_at"),
        # Covers "letters per prisoner in the last 90 days", which orders the prisoner list.
        Index("ix_letter_created_kind_prisoner", "created_at", "kind", "prisoner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once the writer deleted the letter: then only its anonymous outcome is left.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: X25519 public key: what arrives later for the writer is sealed to it.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    prisoner_id: Mapped[int] = mapped_column(ForeignKey("prisoner.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("template.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"), index=True)
    kind: Mapped[TemplateKind] = mapped_column(
        enum_column(TemplateKind), default=TemplateKind.LETTER, server_default="letter"
    )
    official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    body_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # An appeal's postal address for the answer: kept only when the sender asked us to.
    sender_address_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The content key wrapped with the master key while an organisation must read the letter
    # (a drive letter until its batch is marked sent); NULL: the writer's alone.
    organisers_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    drive_id: Mapped[int | None] = mapped_column(ForeignKey("drive.id"), index=True)
    # Set when the letter went into a completed print pack; "mark sent" uses it.
    printed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=this_hour)

    prisoner: Mapped[Prisoner] = relationship(back_populates="letters")
    template: Mapped[Template | None] = relationship()
    facility: Mapped[Facility | None] = relationship()
    official: Mapped[Official | None] = relationship()
    drive: Mapped[Drive | None] = relationship(back_populates="letters")
    events: Mapped[list[MailEvent]] = relationship(
        back_populates="letter",
        order_by="(MailEvent.happened_on, MailEvent.id)",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Letter {self.id}>"

    @classmethod
    def written(
        cls,
        token: str,
        *,
        body: str,
        signature: str,
        sender_address: str | None = None,
        **columns: Any,
    ) -> Letter:
        """A new letter behind the link ``token``, its content encrypted, unlocked."""
        keys = letter_keys(token)
        letter = cls(token_hash=letter_link_hash(token), public_key=keys.public_key, **columns)
        letter._unlocked(keys.content_key, token)
        letter.body = body
        letter.signature = signature
        letter.sender_address = sender_address
        return letter

    def unlock(self, token: str) -> None:
        """Make the content readable with the link a request presented.

        Raises ValueError for a link that is not this letter's.
        """
        if letter_link_hash(token) != self.token_hash:
            raise ValueError("not this letter's link")
        self._unlocked(letter_keys(token).content_key, token)

    def unlock_for_organisers(self) -> bool:
        """Make the content readable with the organisers' copy of the key, if there is one.

        Returns False (and stays locked) once the letter is its writer's alone again.
        """
        if self.is_unlocked:
            return True
        if self.organisers_key is None:
            return False
        self._unlocked(unwrap_for_organisers(self.organisers_key, context=self._key_context), None)
        return True

    def share_with_organisers(self) -> None:
        """Keep a copy of the content key wrapped with the master key (needs the letter
        unlocked and flushed): organisers can read it until `stop_sharing_with_organisers`."""
        self.organisers_key = wrap_for_organisers(self._content_key(), context=self._key_context)

    def stop_sharing_with_organisers(self) -> None:
        """Destroy the organisers' copy of the key: the letter is its writer's alone again."""
        self.organisers_key = None

    def forget_keys(self) -> None:
        """Lock the letter again in this session (after it was deleted)."""
        self._unlocked(None, None)

    @property
    def is_unlocked(self) -> bool:
        """True once `unlock` or `unlock_for_organisers` made the content readable."""
        return getattr(self, "_content_key_value", None) is not None

    @property
    def token(self) -> str:
        """The raw link: known only while serving the request that presented it."""
        token: str | None = getattr(self, "_token_value", None)
        if token is None:
            raise LetterLocked("the letter's link is known only to its holder")
        return token

    @property
    def body(self) -> str:
        """The text, decrypted with the unlocked key."""
        return self._decrypt(self.body_encrypted, "letter:body")

    @body.setter
    def body(self, value: str) -> None:
        self.body_encrypted = self._encrypt(value, "letter:body")

    @property
    def signature(self) -> str:
        """The name the letter is signed with, decrypted with the unlocked key."""
        return self._decrypt(self.signature_encrypted, "letter:signature")

    @signature.setter
    def signature(self, value: str) -> None:
        self.signature_encrypted = self._encrypt(value, "letter:signature")

    @property
    def sender_address(self) -> str | None:
        """An appeal's address for the answer, if its sender asked to keep it."""
        blob = self.sender_address_encrypted
        return None if blob is None else self._decrypt(blob, "letter:sender-address")

    @sender_address.setter
    def sender_address(self, value: str | None) -> None:
        self.sender_address_encrypted = (
            None if value is None else self._encrypt(value, "letter:sender-address")
        )

    def content_key(self) -> bytes:
        """The unlocked content key, for fields of the letter's events; LetterLocked if not."""
        return self._content_key()

    @property
    def _key_context(self) -> str:
        if self.id is None:
            raise LetterLocked("a letter's key is wrapped only once it has an id (flush)")
        return f"letter:{self.id}"

    def _unlocked(self, content_key: bytes | None, token: str | None) -> None:
        self._content_key_value = content_key
        self._token_value = token

    def _content_key(self) -> bytes:
        key: bytes | None = getattr(self, "_content_key_value", None)
        if key is None:
            raise LetterLocked("the letter is readable only with its link")
        return key

    def _encrypt(self, value: str, context: str) -> bytes:
        return encrypt_field(self._content_key(), value, context=context)

    def _decrypt(self, blob: bytes | None, context: str) -> str:
        key = self._content_key()
        return "" if blob is None else decrypt_field(key, bytes(blob), context=context)

    @property
    def is_appeal(self) -> bool:
        """True for an appeal to an official, False for a letter to a prisoner."""
        return self.kind is TemplateKind.APPEAL

    @property
    def closing_signature(self) -> str:
        """The signature to print under the text, unless the text already ends with it."""
        return closing_signature(self.body, self.signature)

    @property
    def status(self) -> LetterStatus:
        """Derived from the reported events; never stored."""
        return derive_status(event.kind for event in self.events)

    def first_event(self, kind: EventKind) -> MailEvent | None:
        """The earliest reported event of a kind."""
        return next((event for event in self.events if event.kind == kind), None)

    def days_between(self, start: EventKind, end: EventKind) -> int | None:
        """Days from the first ``start`` event to the first ``end`` event, if both are known."""
        first, last = self.first_event(start), self.first_event(end)
        if first is None or last is None:
            return None
        return (last.happened_on - first.happened_on).days


class MailEvent(Model):
    """One thing that happened to a letter, on the day it happened, as reported."""

    __tablename__ = "mail_event"
    __table_args__ = (
        Index("ix_mail_event_kind_happened", "kind", "happened_on"),
        # A letter's first event of a kind (the channel of its first "sent" report) in one seek.
        Index("ix_mail_event_letter_kind_happened", "letter_id", "kind", "happened_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    happened_on: Mapped[date]
    reported_at: Mapped[datetime] = mapped_column(default=this_hour)
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel))
    # A post office's tracking number leads to where (and, registered, by whom) the letter was
    # posted: encrypted with the letter's content key like the note.
    tracking_number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # For an extension notice: by how many days the answer's term was extended (≤ 30).
    extension_days: Mapped[int | None]
    # What the writer said about it, encrypted with the letter's content key; NULL: nothing.
    note_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)

    letter: Mapped[Letter] = relationship(back_populates="events")

    @property
    def has_note(self) -> bool:
        """Whether the writer left a note (known without the letter's key)."""
        return self.note_encrypted is not None

    @property
    def has_tracking_number(self) -> bool:
        """Whether a tracking number was reported (known without the letter's key)."""
        return self.tracking_number_encrypted is not None

    @property
    def note(self) -> str:
        """The writer's note, or "": needs the letter unlocked when there is one."""
        return self._decrypt(self.note_encrypted, "mail-event:note") or ""

    @note.setter
    def note(self, value: str) -> None:
        self.note_encrypted = self._encrypt(value or None, "mail-event:note")

    @property
    def tracking_number(self) -> str | None:
        """The reported tracking number, or None: needs the letter unlocked when there is one."""
        return self._decrypt(self.tracking_number_encrypted, "mail-event:tracking-number")

    @tracking_number.setter
    def tracking_number(self, value: str | None) -> None:
        self.tracking_number_encrypted = self._encrypt(value, "mail-event:tracking-number")

    def _decrypt(self, blob: bytes | None, context: str) -> str | None:
        if blob is None:
            return None
        return decrypt_field(self.letter.content_key(), bytes(blob), context=context)

    def _encrypt(self, value: str | None, context: str) -> bytes | None:
        # Needs ``letter`` set first (MailEvent(letter=…, note=…) sets them in that order).
        if not value:
            return None
        return encrypt_field(self.letter.content_key(), value, context=context)
