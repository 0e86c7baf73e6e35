"""Prisoners and their placement history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, utcnow
from app.russian.names import (
    Gender,
    PersonName,
    normalize_for_search,
    transliterate,
    transliteration_variants,
)

if TYPE_CHECKING:
    from app.models.facility import Facility
    from app.models.letter import Letter


class PrisonerStatus(enum.StrEnum):
    """Where a prisoner stands; only the first three can receive letters."""

    PRETRIAL = "pretrial"
    CONVICTED = "convicted"
    IN_TRANSIT = "in_transit"
    RELEASED = "released"
    DECEASED = "deceased"


STATUSES_RECEIVING_MAIL = frozenset(
    {PrisonerStatus.PRETRIAL, PrisonerStatus.CONVICTED, PrisonerStatus.IN_TRANSIT}
)


class Prisoner(Model):
    """A person in detention whom supporters write to."""

    __tablename__ = "prisoner"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    last_name_latin: Mapped[str | None] = mapped_column(String(100))
    first_name_latin: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[Gender | None] = mapped_column(enum_column(Gender))
    birth_date: Mapped[date | None]
    birth_year: Mapped[int | None]
    status: Mapped[PrisonerStatus] = mapped_column(enum_column(PrisonerStatus), index=True)
    case_summary: Mapped[str] = mapped_column(Text, default="")
    detained_on: Mapped[date | None]
    sentence: Mapped[str] = mapped_column(String(300), default="")
    languages: Mapped[str] = mapped_column(String(100), default="ru")
    interests: Mapped[str] = mapped_column(Text, default="")
    notes_for_writers: Mapped[str] = mapped_column(Text, default="")
    accepts_letters: Mapped[bool] = mapped_column(default=True, index=True)
    source_url: Mapped[str | None] = mapped_column(String(500))
    name_overrides: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    is_demo: Mapped[bool] = mapped_column(default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    placements: Mapped[list[Placement]] = relationship(
        back_populates="prisoner",
        order_by="Placement.started_on.desc()",
        cascade="all, delete-orphan",
    )
    letters: Mapped[list[Letter]] = relationship(back_populates="prisoner")

    def __repr__(self) -> str:
        return f"<Prisoner {self.id}>"

    @property
    def person_name(self) -> PersonName:
        """The name as the language helpers take it, with this prisoner's overrides."""
        return PersonName(
            last_name=self.last_name,
            first_name=self.first_name,
            patronymic=self.patronymic or None,
            gender=self.gender,
            overrides=dict(self.name_overrides or {}),
            latin_first_name=self.first_name_latin,
            latin_last_name=self.last_name_latin,
        )

    @property
    def full_name(self) -> str:
        """Surname, first name and patronymic in the nominative."""
        return self.person_name.full_name

    @property
    def latin_name(self) -> str:
        """The name in Latin letters: as recorded, else transliterated."""
        last = self.last_name_latin or transliterate(self.last_name)
        first = self.first_name_latin or transliterate(self.first_name)
        return f"{first} {last}"

    @property
    def year_of_birth(self) -> int | None:
        """The year of birth, which goes on the envelope after the name."""
        return self.birth_date.year if self.birth_date else self.birth_year

    @property
    def language_list(self) -> list[str]:
        """Language codes the prisoner reads, e.g. ["ru", "en"]."""
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    @property
    def can_receive_letters(self) -> bool:
        """Whether letters may be written to this prisoner now."""
        return self.accepts_letters and self.status in STATUSES_RECEIVING_MAIL

    @property
    def current_placement(self) -> Placement | None:
        """The open placement (a facility, or a period in transit), if any."""
        return next((p for p in self.placements if p.ended_on is None), None)

    @property
    def current_facility(self) -> Facility | None:
        """The facility letters go to now; None while in transit or released."""
        placement = self.current_placement
        return placement.facility if placement else None

    def facility_on(self, day: date) -> Facility | None:
        """The facility the prisoner was placed in on ``day``; None in transit or unknown."""
        for placement in self.placements:
            ended_after = placement.ended_on is None or placement.ended_on > day
            if placement.started_on <= day and ended_after:
                return placement.facility
        return None

    @property
    def last_known_facility(self) -> Facility | None:
        """The current facility, or the last one known before a transfer into the unknown."""
        return next((p.facility for p in self.placements if p.facility is not None), None)


def build_search_text(prisoner: Prisoner) -> str:
    """Cyrillic names, recorded Latin names and their transliteration, folded for LIKE search."""
    cyrillic = " ".join(
        p for p in (prisoner.last_name, prisoner.first_name, prisoner.patronymic) if p
    )
    latin = " ".join(p for p in (prisoner.last_name_latin, prisoner.first_name_latin) if p)
    variants = " ".join(sorted(transliteration_variants(cyrillic)))
    return normalize_for_search(f"{cyrillic} {latin} {variants}")


@event.listens_for(Prisoner, "before_insert")
@event.listens_for(Prisoner, "before_update")
def _refresh_search_text(_mapper: Any, _connection: Any, prisoner: Prisoner) -> None:
    prisoner.search_text = build_search_text(prisoner)


class Placement(Model):
    """A stay in a facility, or a period in transit (no facility), with its dates."""

    __tablename__ = "placement"
    __table_args__ = (
        # At most one open placement per prisoner: the current address is never ambiguous.
        Index(
            "uq_placement_open_per_prisoner",
            "prisoner_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prisoner_id: Mapped[int] = mapped_column(
        ForeignKey("prisoner.id", ondelete="CASCADE"), index=True
    )
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"), index=True)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")

    prisoner: Mapped[Prisoner] = relationship(back_populates="placements")
    facility: Mapped[Facility | None] = relationship(back_populates="placements")

    @property
    def in_transit(self) -> bool:
        """True for a period in transit, whereabouts unknown."""
        return self.facility_id is None
