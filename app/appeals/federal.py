"""The real federal bodies that receive appeals about prisoners, and keeping them in the database.

These are public postal addresses of state bodies, not demo data: they are loaded on every
installation (``sync_federal_officials``) and are never flagged ``is_demo``.

VERIFICATION STATUS — read before shipping. Each address must be checked against the body's own
site (``source_url``) and ``verified_on`` set to the day it was checked. At the time of writing
none of the three pages could be opened from the development environment, so ``verified_on`` is
None for all of them. The addresses are the ones the bodies have published for years and agree
with independent secondary sources (directories, guides for relatives of prisoners), but they
have NOT been confirmed on the official pages themselves. Check them before relying on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import Jurisdiction, Official, OfficialKind


@dataclass(frozen=True)
class FederalBody:
    """A federal addressee of appeals, with the postal address its own site publishes."""

    external_id: str
    kind: OfficialKind
    position: str
    position_dative: str  # the addressee line, «Кому»
    organisation: str
    street_address: str
    locality: str
    region: str
    postcode: str
    source_url: str  # the body's own page giving the postal address
    verified_on: date | None = None  # when the address was last checked against source_url

    def values(self) -> dict[str, object]:
        """The column values of the matching ``Official`` row."""
        return {
            "kind": self.kind,
            "position": self.position,
            "position_dative": self.position_dative,
            "organisation": self.organisation,
            "street_address": self.street_address,
            "locality": self.locality,
            "region": self.region,
            "postcode": self.postcode,
            "jurisdiction": Jurisdiction.FEDERAL,
            "facility_id": None,
            "jurisdiction_region": None,
            "source_url": self.source_url,
            "is_demo": False,
        }


FEDERAL_BODIES: tuple[FederalBody, ...] = (
    # NOT VERIFIED against fsin.gov.ru (the page could not be reached). Secondary sources agree
    # on ul. Zhitnaya 14 but differ on the postcode: 119049 or 119991 (the latter is also used
    # by the Ministry of Justice in the same building). Check which one fsin.gov.ru gives.
    FederalBody(
        external_id="federal-fsin",
        kind=OfficialKind.FEDERAL_SERVICE,
        position="Директор Федеральной службы исполнения наказаний",
        position_dative="Директору Федеральной службы исполнения наказаний",
        organisation="ФСИН России",
        street_address="ул. Житная, д. 14",
        locality="г. Москва",
        region="г. Москва",
        postcode="119049",
        source_url="https://fsin.gov.ru/",
    ),
    # NOT VERIFIED against epp.genproc.gov.ru (the page could not be reached); the address
    # «125993, ГСП-3, г. Москва, ул. Большая Дмитровка, д. 15а» agrees across several
    # independent secondary sources.
    FederalBody(
        external_id="federal-prosecutor-general",
        kind=OfficialKind.PROSECUTOR_GENERAL,
        position="Генеральный прокурор Российской Федерации",
        position_dative="Генеральному прокурору Российской Федерации",
        organisation="Генеральная прокуратура Российской Федерации",
        street_address="ул. Большая Дмитровка, д. 15а, ГСП-3",
        locality="г. Москва",
        region="г. Москва",
        postcode="125993",
        source_url="https://epp.genproc.gov.ru/",
    ),
    # NOT VERIFIED against ombudsmanrf.org (the page could not be reached). The secondary
    # source found gives «101000, Москва, ул. Мясницкая, д. 47»; 107084 is also quoted for the
    # same street. Check the postcode on ombudsmanrf.org.
    FederalBody(
        external_id="federal-ombudsman",
        kind=OfficialKind.OMBUDSMAN,
        position="Уполномоченный по правам человека в Российской Федерации",
        position_dative="Уполномоченному по правам человека в Российской Федерации",
        organisation="Аппарат Уполномоченного по правам человека в Российской Федерации",
        street_address="ул. Мясницкая, д. 47",
        locality="г. Москва",
        region="г. Москва",
        postcode="101000",
        source_url="https://ombudsmanrf.org/",
    ),
)


def sync_federal_officials() -> int:
    """Create or update the federal bodies, matched on ``external_id``.

    Idempotent. Adds to ``db.session`` and flushes; the caller commits. Returns how many rows
    were created or changed.
    """
    ids = [body.external_id for body in FEDERAL_BODIES]
    existing = {
        official.external_id: official
        for official in db.session.scalars(select(Official).where(Official.external_id.in_(ids)))
    }
    changed = 0
    for body in FEDERAL_BODIES:
        values = body.values()
        official = existing.get(body.external_id)
        if official is None:
            db.session.add(Official(external_id=body.external_id, **values))
            changed += 1
        elif any(getattr(official, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(official, name, value)
            changed += 1
    db.session.flush()
    return changed
