"""Officials who receive appeals."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, utcnow
from app.russian.address import PostalAddress, recipient_lines

if TYPE_CHECKING:
    from app.models.facility import Facility


class Jurisdiction(enum.StrEnum):
    """How far an official's authority reaches."""

    FACILITY = "facility"
    REGION = "region"
    FEDERAL = "federal"


class OfficialKind(enum.StrEnum):
    """The kind of body, which decides the order in which addressees are suggested."""

    FACILITY_HEAD = "facility_head"  # начальник учреждения
    REGIONAL_DIRECTORATE = "regional_directorate"  # УФСИН России по …
    PROSECUTOR = "prosecutor"  # прокуратура по надзору за исправительными учреждениями
    REGIONAL_OMBUDSMAN = "regional_ombudsman"
    MONITORING_COMMISSION = "monitoring_commission"  # ОНК
    FEDERAL_SERVICE = "federal_service"  # ФСИН России
    PROSECUTOR_GENERAL = "prosecutor_general"
    OMBUDSMAN = "ombudsman"  # Уполномоченный по правам человека в РФ


SUGGESTION_ORDER = list(OfficialKind)


class Official(Model):
    """An addressee of appeals, with the forms of the position needed on a Russian letter."""

    __tablename__ = "official"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    kind: Mapped[OfficialKind] = mapped_column(enum_column(OfficialKind, length=30))
    # «Начальник ФКУ ИК-6 УФСИН России по Владимирской области»
    position: Mapped[str] = mapped_column(String(300))
    # «Начальнику ФКУ ИК-6 УФСИН России по Владимирской области»: the addressee line is in the
    # dative, and positions do not decline reliably by rule, so it is recorded by hand.
    position_dative: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300))
    street_address: Mapped[str] = mapped_column(String(300))
    locality: Mapped[str] = mapped_column(String(150))
    region: Mapped[str] = mapped_column(String(150))
    postcode: Mapped[str] = mapped_column(String(12))
    jurisdiction: Mapped[Jurisdiction] = mapped_column(enum_column(Jurisdiction))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"), index=True)
    jurisdiction_region: Mapped[str | None] = mapped_column(String(150), index=True)
    source_url: Mapped[str | None] = mapped_column(String(500))
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    facility: Mapped[Facility | None] = relationship()

    def __repr__(self) -> str:
        return f"<Official {self.id} {self.kind}>"

    @property
    def recipient_lines(self) -> list[str]:
        """The addressee block as it goes on the appeal and its envelope."""
        address = PostalAddress(
            # The position usually names the organisation already («Начальнику ФКУ ИК-6 …»).
            institution="" if self.organisation in self.position_dative else self.organisation,
            street=self.street_address,
            locality=self.locality,
            region=self.region,
            postcode=self.postcode,
        )
        return recipient_lines(self.position_dative, address)
