"""Letter-writing evenings: drives, their participants and who writes to whom."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.base import enum_column, this_hour, utcnow
from app.privacy.crypto import decrypt_field, encrypt_field, link_key
from app.privacy.instance import decrypt_for_instance, encrypt_for_instance, link_hash

#: The purposes drive links are hashed for (`app.privacy.instance.link_hash`).
JOIN_LINK_PURPOSE = "drive-join"
PARTICIPANT_LINK_PURPOSE = "drive-participant"

if TYPE_CHECKING:
    from app.models.letter import Letter
    from app.models.prisoner import Prisoner
    from app.models.template import Template
    from app.models.user import User

drive_prisoner = Table(
    "drive_prisoner",
    db.metadata,
    Column("drive_id", ForeignKey("drive.id", ondelete="CASCADE"), primary_key=True),
    Column("prisoner_id", ForeignKey("prisoner.id", ondelete="CASCADE"), primary_key=True),
)

drive_template = Table(
    "drive_template",
    db.metadata,
    Column("drive_id", ForeignKey("drive.id", ondelete="CASCADE"), primary_key=True),
    Column("template_id", ForeignKey("template.id", ondelete="CASCADE"), primary_key=True),
)


class Drive(Model):
    """A letter-writing evening: a pool of prisoners, templates and a target per prisoner."""

    __tablename__ = "drive"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(300), default="")
    # Short code people type at the event; the join token goes in the shareable link.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    # The join link is shared by the organizers (shown on the drive page, sent in invitations):
    # looked up by its keyed hash, and kept encrypted with the instance key to be shown again.
    join_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    join_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    target_per_prisoner: Mapped[int] = mapped_column(default=2)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organizer: Mapped[User | None] = relationship()
    prisoners: Mapped[list[Prisoner]] = relationship(secondary=drive_prisoner)
    templates: Mapped[list[Template]] = relationship(secondary=drive_template)
    participants: Mapped[list[DriveParticipant]] = relationship(
        back_populates="drive", cascade="all, delete-orphan", order_by="DriveParticipant.id"
    )
    letters: Mapped[list[Letter]] = relationship(back_populates="drive")
    print_jobs: Mapped[list[PrintJob]] = relationship(
        back_populates="drive", cascade="all, delete-orphan", order_by="PrintJob.id.desc()"
    )

    @property
    def join_token(self) -> str:
        """The token of the drive's join link."""
        return decrypt_for_instance(bytes(self.join_token_encrypted), context="drive:join-link")

    @join_token.setter
    def join_token(self, value: str) -> None:
        self.join_token_hash = link_hash(value, JOIN_LINK_PURPOSE)
        self.join_token_encrypted = encrypt_for_instance(value, context="drive:join-link")


class DriveParticipant(Model):
    """Someone writing at a drive, under any name; no account."""

    __tablename__ = "drive_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    drive_id: Mapped[int] = mapped_column(ForeignKey("drive.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The participant's private link back to their assignments (kept in their browser): only
    # its keyed hash is stored. It also unlocks the links of the letters they wrote.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    languages: Mapped[str] = mapped_column(String(50), default="ru")
    joined_at: Mapped[datetime] = mapped_column(default=this_hour)

    drive: Mapped[Drive] = relationship(back_populates="participants")
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="participant", cascade="all, delete-orphan", order_by="Assignment.id"
    )

    @classmethod
    def joined(cls, token: str, **columns: object) -> DriveParticipant:
        """A new participant behind the private link ``token``, unlocked."""
        participant = cls(token_hash=participant_link_hash(token), **columns)
        participant.unlock(token)
        return participant

    def unlock(self, token: str) -> None:
        """Remember the link a request presented, for this session only."""
        if participant_link_hash(token) != self.token_hash:
            raise ValueError("not this participant's link")
        self._token_value = token

    @property
    def token(self) -> str:
        """The participant's link, known only while serving a request that presented it."""
        token: str | None = getattr(self, "_token_value", None)
        if token is None:
            raise LookupError("a participant's link is known only to the participant")
        return token

    def link_key(self) -> bytes:
        """The key of what only this participant may read back (their letters' links)."""
        return link_key(self.token, "drive-participant:letter-links")


def participant_link_hash(token: str) -> str:
    """What the database keeps of a participant's link, and looks them up by."""
    return link_hash(token, PARTICIPANT_LINK_PURPOSE)


class Assignment(Model):
    """One participant is to write to one prisoner; never the same pair twice."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("participant_id", "prisoner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drive_id: Mapped[int] = mapped_column(ForeignKey("drive.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("drive_participant.id", ondelete="CASCADE"), index=True
    )
    prisoner_id: Mapped[int] = mapped_column(ForeignKey("prisoner.id"), index=True)
    letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("letter.id", ondelete="SET NULL"), index=True
    )
    # The written letter's link, encrypted with a key from the participant's link: their page
    # can link each letter, and nobody else can.
    letter_link_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    participant: Mapped[DriveParticipant] = relationship(back_populates="assignments")
    prisoner: Mapped[Prisoner] = relationship()
    letter: Mapped[Letter | None] = relationship()

    @property
    def letter_link(self) -> str | None:
        """The written letter's token, for its writer (the participant, unlocked)."""
        blob = self.letter_link_encrypted
        if blob is None:
            return None
        key = self.participant.link_key()
        return decrypt_field(key, bytes(blob), context="assignment:letter-link")

    def remember_letter_link(self, token: str) -> None:
        """Keep the written letter's link for the participant (who must be unlocked)."""
        key = self.participant.link_key()
        self.letter_link_encrypted = encrypt_field(key, token, context="assignment:letter-link")


class PrintJobStatus(enum.StrEnum):
    """Where a print pack stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: The print jobs still at work ("queued", "running"), in SQL: the condition of the partial
#: unique index that allows one of them per drive, spelled as the index has it.
PRINT_JOB_ACTIVE = text("status IN ('queued', 'running')")


class PrintJob(Model):
    """A print pack built in the background; its file is served only once complete.

    A drive has at most one job queued or running at a time: a unique index on the active
    jobs keeps it so, however many requests ask at once.

    The file is a `StoredFile` written in the transaction that marks the job done; when it is
    deleted (superseded, or kept long enough) ``file_id`` becomes NULL and the row stays, so
    the download can say the pack is gone. A running job holds a lease (``lease_until``),
    renewed as it progresses: a job whose lease ran out lost its consumer.
    """

    __tablename__ = "print_job"
    __table_args__ = (
        Index(
            "uq_print_job_active_per_drive",
            "drive_id",
            unique=True,
            sqlite_where=PRINT_JOB_ACTIVE,
            postgresql_where=PRINT_JOB_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    drive_id: Mapped[int] = mapped_column(ForeignKey("drive.id", ondelete="CASCADE"), index=True)
    status: Mapped[PrintJobStatus] = mapped_column(
        enum_column(PrintJobStatus), default=PrintJobStatus.QUEUED
    )
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    #: Why it failed: a reason code of app.drives.printing (shown translated) or the error.
    error: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("stored_file.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    drive: Mapped[Drive] = relationship(back_populates="print_jobs")
