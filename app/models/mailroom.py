"""The organisation's mailroom: its settings, the letters handed to it, print runs, and the
post that comes back (DESIGN.md, "The mailroom").

Privacy at rest holds here too: a mailroom letter's text is readable by the organisation only
through the letter's ``organisers_key`` (kept until the reply window closes); a reason written
for the writer is sealed to the letter's public key; a reply scan is kept encrypted with the
instance key only while it waits in the holding pen, and sealed to its letter once matched.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, this_hour, utcnow
from app.models.drive import PrintJobStatus

if TYPE_CHECKING:
    from app.models.letter import Letter
    from app.models.prisoner import Prisoner
    from app.models.user import User

#: How long after posting replies are expected, unless the organisation says otherwise.
DEFAULT_REPLY_WINDOW_DAYS = 180
#: Letters the mailroom takes in per day, unless the organisation says otherwise.
DEFAULT_DAILY_INTAKE_CAP = 200
#: Mailroom letters to one prisoner per day, unless the organisation says otherwise.
DEFAULT_PRISONER_DAILY_CAP = 5
#: How long a translator's claim locks an item, unless the organisation says otherwise.
DEFAULT_CLAIM_MINUTES = 120


class Organisation(Model):
    """The one organisation running this Konvert (a single row, id 1)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: The return address printed on the organisation's envelopes, one line per line, without
    #: the postcode and the country (kept apart, as envelopes print them apart).
    return_address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(12), default="")
    #: ISO 3166 alpha-2; mail posted from outside Russia ends the recipient block with РОССИЯ.
    country: Mapped[str] = mapped_column(String(2), default="RU")
    mailroom_open: Mapped[bool] = mapped_column(default=False)
    reply_window_days: Mapped[int] = mapped_column(default=DEFAULT_REPLY_WINDOW_DAYS)
    daily_intake_cap: Mapped[int] = mapped_column(default=DEFAULT_DAILY_INTAKE_CAP)
    prisoner_daily_cap: Mapped[int] = mapped_column(default=DEFAULT_PRISONER_DAILY_CAP)
    #: The date of the next print run, as the organisation plans it (shown to writers).
    next_run_on: Mapped[date | None]
    #: Whether a second translator reviews each translation before it goes on.
    translation_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: How long a translator's claim on an item locks it for others.
    translation_claim_minutes: Mapped[int] = mapped_column(
        default=DEFAULT_CLAIM_MINUTES, server_default=str(DEFAULT_CLAIM_MINUTES)
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def return_lines(self) -> list[str]:
        """The return address's non-empty lines."""
        return [line.strip() for line in self.return_address.splitlines() if line.strip()]

    @property
    def can_take_letters(self) -> bool:
        """True when the mailroom is open and the envelopes have somewhere to come back to."""
        return self.mailroom_open and bool(self.name.strip()) and bool(self.return_lines)


class ApiToken(Model):
    """A personal bearer token for scripts and scanning stations; only its keyed hash is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The day it was last used: enough to see a forgotten token, no trail of when.
    last_used_on: Mapped[date | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        """True until revoked."""
        return self.revoked_at is None


class MailroomState(enum.StrEnum):
    """Where a letter handed to the organisation stands."""

    TRANSLATION = "translation"  # at the translation desk, before review (issue 17)
    REVIEW = "review"  # waiting for a volunteer to read it
    SENT_BACK = "sent_back"  # returned to the writer with a reason, to edit and resubmit
    APPROVED = "approved"  # ready for the next print run
    REJECTED = "rejected"  # refused (hostile, abusive, spam): never printed
    PRINTED = "printed"  # in a print run that was built
    POSTED = "posted"  # the run was posted: "sent" is recorded with channel organisation
    RETURNED = "returned"  # the envelope came back to the organisation


class ReturnReason(enum.StrEnum):
    """Why an envelope came back to the organisation."""

    MOVED = "moved"
    UNKNOWN_ADDRESSEE = "unknown_addressee"
    REFUSED = "refused"
    CENSORSHIP = "censorship"
    OTHER = "other"


class MailroomItem(Model):
    """A letter its writer sent through the organisation: reference code, review, run."""

    __tablename__ = "mailroom_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(
        ForeignKey("letter.id", ondelete="CASCADE"), unique=True
    )
    #: Eight digits, the last a Damm check digit; shown as two groups of four.
    reference: Mapped[str] = mapped_column(String(8), unique=True)
    state: Mapped[MailroomState] = mapped_column(
        enum_column(MailroomState), default=MailroomState.REVIEW, index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(default=this_hour)
    reviewed_at: Mapped[datetime | None]
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: Why it was sent back, sealed to the letter's public key: only the writer reads it.
    writer_reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Why it was rejected, encrypted with the instance key: for organizers only.
    rejection_reason_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    resubmissions: Mapped[int] = mapped_column(default=0)
    print_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("print_run.id", ondelete="SET NULL"), index=True
    )
    posted_on: Mapped[date | None]
    returned_on: Mapped[date | None]
    return_reason: Mapped[ReturnReason | None] = mapped_column(enum_column(ReturnReason))

    letter: Mapped[Letter] = relationship()
    reviewer: Mapped[User | None] = relationship()
    print_run: Mapped[PrintRun | None] = relationship(back_populates="items")


class PrintRunKind(enum.StrEnum):
    """Paper (letters, envelopes and a cover list) or an electronic letter service's text."""

    PAPER = "paper"
    ELECTRONIC = "electronic"


#: Runs still at work, in SQL: the partial unique index allows one of them at a time.
PRINT_RUN_ACTIVE = text("status IN ('queued', 'running')")


class PrintRun(Model):
    """A batch of approved letters printed and posted together; built in the background.

    Its files are `StoredFile`s written in the transaction that marks it done. Like a drive's
    print job it holds a lease while running, and one run at a time is at work (a partial
    unique index on the active runs' kind).
    """

    __tablename__ = "print_run"
    __table_args__ = (
        Index(
            "uq_print_run_active",
            "kind",
            unique=True,
            sqlite_where=PRINT_RUN_ACTIVE,
            postgresql_where=PRINT_RUN_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PrintRunKind] = mapped_column(
        enum_column(PrintRunKind), default=PrintRunKind.PAPER
    )
    status: Mapped[PrintJobStatus] = mapped_column(
        enum_column(PrintJobStatus), default=PrintJobStatus.QUEUED
    )
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    letters_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    envelopes_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    cover_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    posted_on: Mapped[date | None]

    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[MailroomItem]] = relationship(back_populates="print_run")


class IncomingKind(enum.StrEnum):
    """What came back through the organisation's post."""

    REPLY = "reply"
    RETURN = "return"


class IncomingState(enum.StrEnum):
    """Whether a piece of incoming post found its letter."""

    HELD = "held"  # in the holding pen, waiting for an organizer to match it
    MATCHED = "matched"  # tied to its letter; a scan is sealed to the letter's key
    UNMATCHED = "unmatched"  # given up on; deleted after the holding period


class IncomingMail(Model):
    """A scanned reply or a returned envelope, matched to a letter or held until matched.

    The scan (one PDF of all pages, image metadata stripped) is a `StoredFile`: while held it
    is encrypted with the instance key like every stored file; once matched, its content is
    sealed to the letter's public key first and the organisation's readable copy is deleted.
    """

    __tablename__ = "incoming_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IncomingKind] = mapped_column(enum_column(IncomingKind))
    state: Mapped[IncomingState] = mapped_column(enum_column(IncomingState), index=True)
    received_on: Mapped[date]
    #: The code as the volunteer typed it (kept while held, to help matching by hand).
    reference_typed: Mapped[str] = mapped_column(String(20), default="")
    prisoner_id: Mapped[int | None] = mapped_column(
        ForeignKey("prisoner.id", ondelete="SET NULL"), index=True
    )
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("letter.id", ondelete="CASCADE"), index=True
    )
    pages: Mapped[int] = mapped_column(default=0)
    scan_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    #: True once the scan's content is sealed to the letter's public key.
    sealed: Mapped[bool] = mapped_column(default=False)
    return_reason: Mapped[ReturnReason | None] = mapped_column(enum_column(ReturnReason))
    created_at: Mapped[datetime] = mapped_column(default=this_hour)
    #: When an unmatched item (and its scan) is deleted.
    delete_after: Mapped[date | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    letter: Mapped[Letter | None] = relationship()
    prisoner: Mapped[Prisoner | None] = relationship()


class TranslationKind(enum.StrEnum):
    """What is translated: a writer's letter into the prisoner's language, or a reply back."""

    LETTER = "letter"
    REPLY = "reply"


class TranslationState(enum.StrEnum):
    """Where a translation stands at the desk."""

    OPEN = "open"  # waiting for a translator
    CLAIMED = "claimed"  # a translator holds it (until ``claim_expires_at``)
    SUBMITTED = "submitted"  # translated, waiting for a second translator's review
    DONE = "done"  # translated (and reviewed, when the organisation asks for it)


#: Translations still at the desk, in SQL: one per letter, and one per reply (partial unique
#: indexes).
TRANSLATION_ACTIVE = "state IN ('open', 'claimed', 'submitted')"
_LETTER_AT_DESK = text(f"kind = 'letter' AND {TRANSLATION_ACTIVE}")
_REPLY_AT_DESK = text(f"kind = 'reply' AND {TRANSLATION_ACTIVE}")


class Translation(Model):
    """A letter's translation into the prisoner's language, or a reply's back into the
    writer's, with its translator, claim and review (DESIGN.md, "Translation").

    Privacy at rest: a letter's translation (and the writer's note to the translator) is
    encrypted with the letter's own content key, so the writer reads it through the link and
    the organisation only through its copy of the key, while the letter is at the desk or in
    the mailroom. A reply's translation is encrypted with the instance key while translators
    work on it, and sealed to the letter's public key once done.
    """

    __tablename__ = "translation"
    __table_args__ = (
        Index(
            "uq_translation_letter_at_desk",
            "letter_id",
            unique=True,
            sqlite_where=_LETTER_AT_DESK,
            postgresql_where=_LETTER_AT_DESK,
        ),
        Index(
            "uq_translation_reply_at_desk",
            "incoming_mail_id",
            unique=True,
            sqlite_where=_REPLY_AT_DESK,
            postgresql_where=_REPLY_AT_DESK,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TranslationKind] = mapped_column(enum_column(TranslationKind))
    #: The reply being translated back (kind reply).
    incoming_mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("incoming_mail.id", ondelete="CASCADE"), index=True
    )
    source_language: Mapped[str] = mapped_column(String(8))
    target_language: Mapped[str] = mapped_column(String(8))
    state: Mapped[TranslationState] = mapped_column(
        enum_column(TranslationState), default=TranslationState.OPEN, index=True
    )
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    claim_expires_at: Mapped[datetime | None]
    translator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    #: The translated text (see the class for the key it is encrypted with).
    text_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The text sealed to the letter's public key (a reply's translation, once done).
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The reply's scan for the translators (kind reply): a copy encrypted with the instance
    #: key, deleted once the translation is done (the writer's own copy is sealed).
    scan_file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL")
    )
    #: A short note or question between the writer and the translator (letter's key).
    note_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=this_hour)
    submitted_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]

    letter: Mapped[Letter] = relationship()
    incoming_mail: Mapped[IncomingMail | None] = relationship()
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
