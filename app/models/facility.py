"""Institutions that receive mail."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, utcnow

if TYPE_CHECKING:
    from app.models.prisoner import Placement


class FacilityKind(enum.StrEnum):
    """What kind of institution a facility is."""

    PRETRIAL = "pretrial"  # СИЗО
    COLONY = "colony"  # ИК
    PRISON = "prison"  # тюрьма
    SETTLEMENT = "settlement"  # колония-поселение
    HOSPITAL = "hospital"  # ЛИУ, больница
    OTHER = "other"


class Facility(Model):
    """A prison, colony or detention centre, with the postal address letters go to."""

    __tablename__ = "facility"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[FacilityKind] = mapped_column(enum_column(FacilityKind))
    region: Mapped[str] = mapped_column(String(150), index=True)
    country: Mapped[str] = mapped_column(String(2), default="RU")
    postcode: Mapped[str] = mapped_column(String(12))
    locality: Mapped[str] = mapped_column(String(150))
    street_address: Mapped[str] = mapped_column(String(300))
    electronic_services: Mapped[str] = mapped_column(String(200), default="")
    mail_rules: Mapped[str] = mapped_column(Text, default="")
    # Page limit for one letter where the facility announces one (some electronic services).
    max_letter_pages: Mapped[int | None]
    source_url: Mapped[str | None] = mapped_column(String(500))
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    placements: Mapped[list[Placement]] = relationship(back_populates="facility")

    def __repr__(self) -> str:
        return f"<Facility {self.id} {self.code}>"

    @property
    def electronic_service_list(self) -> list[str]:
        """The electronic-letter services this facility accepts, e.g. ["FSIN-Pismo"]."""
        return [part.strip() for part in self.electronic_services.split(",") if part.strip()]


class PublicFacility(Protocol):
    """A facility's public columns (the API's facility_json reads them): a Facility, or a row
    of just these columns."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> FacilityKind: ...
    @property
    def region(self) -> str: ...
    @property
    def postcode(self) -> str: ...
    @property
    def is_demo(self) -> bool: ...
