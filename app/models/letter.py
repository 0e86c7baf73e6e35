"""Letters and what happened to them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, utcnow
from app.models.template import Template, TemplateKind

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


class Letter(Model):
    """One letter or appeal, reachable by its writer only through its private tracking token."""

    __tablename__ = "letter"
    __table_args__ = (
        Index("ix_letter_prisoner_created", "prisoner_id", "created_at"),
        # Covers "letters per prisoner in the last 90 days", which orders the prisoner list.
        Index("ix_letter_created_kind_prisoner", "created_at", "kind", "prisoner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    prisoner_id: Mapped[int] = mapped_column(ForeignKey("prisoner.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("template.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"), index=True)
    kind: Mapped[TemplateKind] = mapped_column(
        enum_column(TemplateKind), default=TemplateKind.LETTER, server_default="letter"
    )
    official_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(200))
    # An appeal's postal address for the answer: kept only when the sender asked us to.
    sender_address: Mapped[str | None] = mapped_column(Text)
    drive_id: Mapped[int | None] = mapped_column(ForeignKey("drive.id"), index=True)
    # Set when the letter went into a completed print pack; "mark sent" uses it.
    printed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

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
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel))
    tracking_number: Mapped[str | None] = mapped_column(String(20))
    # For an extension notice: by how many days the answer's term was extended (≤ 30).
    extension_days: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")

    letter: Mapped[Letter] = relationship(back_populates="events")
