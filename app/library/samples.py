"""Sample people for checking templates: built in memory, never saved.

The check renders every template through the same context builder the composer uses, so a
template that passes here cannot fail for a real prisoner for want of a variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.models import (
    Facility,
    FacilityKind,
    Jurisdiction,
    Official,
    OfficialKind,
    Placement,
    Prisoner,
    PrisonerStatus,
)
from app.russian.names import Gender


@dataclass(frozen=True)
class Sample:
    """A named sample prisoner, with an official for appeals."""

    label: str
    prisoner: Prisoner
    official: Official


def _facility() -> Facility:
    return Facility(
        code="ИК-6",
        name="ФКУ ИК-6 УФСИН России по Владимирской области",
        kind=FacilityKind.COLONY,
        region="Владимирская область",
        country="RU",
        postcode="601120",
        locality="г. Покров",
        street_address="ул. Ленина, д. 12",
    )


def _official(facility: Facility) -> Official:
    return Official(
        kind=OfficialKind.FACILITY_HEAD,
        position=f"Начальник {facility.name}",
        position_dative=f"Начальнику {facility.name}",
        organisation=facility.name,
        street_address=facility.street_address,
        locality=facility.locality,
        region=facility.region,
        postcode=facility.postcode,
        jurisdiction=Jurisdiction.FACILITY,
        facility=facility,
    )


def _prisoner(facility: Facility | None, **names: object) -> Prisoner:
    prisoner = Prisoner(status=PrisonerStatus.CONVICTED, languages="ru", **names)
    prisoner.placements = [Placement(facility=facility, started_on=date(2025, 1, 10))]
    return prisoner


def sample_prisoners() -> list[Sample]:
    """A man, a woman, a man without patronymic, a compound surname, someone in transit."""
    facility = _facility()
    official = _official(facility)
    karamurza = {
        "genitive": "Кара-Мурзы Владимира Владимировича",
        "dative": "Кара-Мурзе Владимиру Владимировичу",
        "accusative": "Кара-Мурзу Владимира Владимировича",
        "instrumental": "Кара-Мурзой Владимиром Владимировичем",
        "prepositional": "Кара-Мурзе Владимире Владимировиче",
    }
    in_transit = _prisoner(None, last_name="Соколова", first_name="Ирина", patronymic="Олеговна")
    # Newest first, as the relationship orders them: in transit now, a facility before.
    in_transit.placements.append(
        Placement(facility=facility, started_on=date(2024, 3, 1), ended_on=date(2025, 1, 10))
    )
    return [
        Sample("man", _prisoner(facility, last_name="Горинов", first_name="Алексей",
                                patronymic="Александрович", birth_year=1961), official),
        Sample("woman", _prisoner(facility, last_name="Петрова", first_name="Мария",
                                  patronymic="Игоревна", birth_year=1990), official),
        Sample("no patronymic", _prisoner(facility, last_name="Вайс", first_name="Томас",
                                          gender=Gender.MALE, first_name_latin="Thomas",
                                          last_name_latin="Weiss"), official),
        Sample("compound surname", _prisoner(facility, last_name="Кара-Мурза",
                                             first_name="Владимир", patronymic="Владимирович",
                                             birth_year=1981, name_overrides=karamurza), official),
        Sample("in transit", in_transit, official),
    ]  # fmt: skip
