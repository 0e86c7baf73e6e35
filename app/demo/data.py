"""The fictional demo data set, read from the YAML files next to this module (no database).

- ``facilities.yaml``: the institutions and how mail behaves at each (mail profiles);
- ``prisoners.yaml``: the people, with their placement histories;
- ``officials.yaml``: the regional bodies that receive appeals (facility heads are derived
  from the facilities);
- ``letters.yaml``: what the demo letters are made of, what the post says, the demo appeals.

``demo_data()`` reads and validates them once per process. Every entry is checked against the
dataclass it becomes (app/demo/shape.py), and references between the files are checked too: a
missing key, an unknown key, a value of the wrong type, a duplicate key or an unknown facility
raises ``DemoDataError`` naming the file, the entry and the key, before anything is written.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from app.demo import shape
from app.demo.shape import DemoDataError
from app.models.facility import FacilityKind
from app.models.letter import EventKind
from app.models.official import Jurisdiction, OfficialKind
from app.models.prisoner import PrisonerStatus
from app.russian.names import Case, Gender

DATA_DIR = Path(__file__).resolve().parent
TRANSIT_NOTE = "Этап"  # the note of a placement without a facility, unless it has its own


@dataclass(frozen=True)
class MailProfile:
    """How mail behaves at a facility: the skew the statistics pages should show."""

    arrival_days: tuple[int, int]  # ordinary post, sent -> arrived, inclusive range
    reply_rate: float
    withheld_rate: float
    returned_rate: float


@dataclass(frozen=True)
class FacilityData:
    """One invented institution with a realistic official name and postcode."""

    key: str
    code: str
    name: str
    kind: FacilityKind
    region: str
    postcode: str
    locality: str
    street_address: str
    mail: MailProfile
    electronic_services: str = ""
    mail_rules: str = ""

    @property
    def external_id(self) -> str:
        """The stable id that makes loading idempotent."""
        return f"demo-f-{self.key}"


@dataclass(frozen=True)
class PlacementData:
    """A stay in a facility (``facility`` is a FacilityData key) or in transit (None).

    Days are counted back from today; ``end_ago`` None means the placement is still open.
    A placement covers the days ``start`` <= day < ``end``.
    """

    facility: str | None
    start_ago: int
    end_ago: int | None = None
    note: str = ""


@dataclass(frozen=True)
class PrisonerData:
    """One invented prisoner with a placement history, oldest placement first."""

    key: str
    last_name: str
    first_name: str
    patronymic: str | None
    gender: Gender
    status: PrisonerStatus
    placements: tuple[PlacementData, ...]
    case_summary: str
    detained_ago: int | None
    birth_date: date | None = None
    birth_year: int | None = None
    sentence: str = ""
    languages: str = "ru"
    interests: str = ""
    notes_for_writers: str = ""
    last_name_latin: str | None = None
    first_name_latin: str | None = None
    name_overrides: dict[str, str] = field(default_factory=dict)
    accepts_letters: bool = True
    weight: int = 1  # how popular with writers: relative share of the demo letters
    quiet: bool = False  # no letters in the last three months

    @property
    def external_id(self) -> str:
        """The stable id that makes loading idempotent."""
        return f"demo-p-{self.key}"


# The addressee line («Кому») is in the dative. Only the head word of these positions changes;
# the rest («по Владимирской области», «в исправительных учреждениях Владимирской области»,
# «во Владимирской области») is already governed by it and stays as it is.
_DATIVE_HEAD_WORDS = {
    "Начальник": "Начальнику",
    "Прокурор": "Прокурору",
    "Уполномоченный": "Уполномоченному",
}


def dative_position(position: str) -> str:
    """«Начальник УФСИН России по …» -> «Начальнику УФСИН России по …» (demo positions only)."""
    head, _, rest = position.partition(" ")
    if head not in _DATIVE_HEAD_WORDS:
        raise ValueError(f"no dative form known for {position!r}")
    return f"{_DATIVE_HEAD_WORDS[head]} {rest}"


@dataclass(frozen=True)
class OfficialData:
    """One invented addressee of appeals: a facility head or a regional body."""

    key: str
    kind: OfficialKind
    position: str
    organisation: str
    region: str  # of the postal address
    postcode: str
    locality: str
    street_address: str
    facility: str | None = None  # FacilityData key, for facility heads
    jurisdiction_region: str | None = None  # Facility.region, for regional bodies

    @property
    def external_id(self) -> str:
        """The stable id that makes loading idempotent."""
        return f"demo-o-{self.key}"

    @property
    def position_dative(self) -> str:
        """The addressee line: the position in the dative case."""
        return dative_position(self.position)

    @property
    def jurisdiction(self) -> Jurisdiction:
        """One facility for facility heads, a region for everyone else."""
        return Jurisdiction.FACILITY if self.facility else Jurisdiction.REGION


@dataclass(frozen=True)
class RegionData:
    """The regional bodies of one region that has demo facilities.

    ``region`` is spelled exactly as ``FacilityData.region``. The addresses are (postcode,
    street) in the regional capital.
    """

    key: str
    region: str
    capital: str
    directorate: str  # «УФСИН России по Владимирской области»
    directorate_address: tuple[str, str]
    prosecutor: str  # the position, «Прокурор по надзору … Владимирской области»
    prosecutor_office: str  # the organisation
    prosecutor_address: tuple[str, str]
    ombudsman: str  # the position, «Уполномоченный по правам человека во Владимирской области»
    ombudsman_address: tuple[str, str]


@dataclass(frozen=True)
class LetterTexts:
    """What demo letters are made of, and what the post writes on returned or lost ones."""

    signatures_ru: tuple[str, ...]
    signatures_en: tuple[str, ...]
    openers_ru: tuple[str, ...]
    seasons_ru: dict[str, str]  # winter, spring, summer, autumn
    middles_ru: tuple[str, ...]
    closings_ru: tuple[str, ...]
    openers_en: tuple[str, ...]
    middles_en: tuple[str, ...]
    closings_en: tuple[str, ...]
    posting_offices: tuple[str, ...]  # postcodes registered letters are posted from
    return_reasons: tuple[str, ...]
    return_moved: str
    return_released: str
    withheld_notes: tuple[str, ...]


@dataclass(frozen=True)
class AppealEventData:
    """One event of a demo appeal, ``ago`` days before today."""

    kind: EventKind
    ago: int
    extension_days: int | None = None


@dataclass(frozen=True)
class AppealPlanData:
    """One demo appeal to a facility head: when it was written and what happened since."""

    written_ago: int
    events: tuple[AppealEventData, ...]


@dataclass(frozen=True)
class AppealsData:
    """The demo appeals: one text, one applicant, a plan per appeal."""

    signature: str
    body: str  # with a {name} placeholder: the prisoner in the dative
    plans: tuple[AppealPlanData, ...]


@dataclass(frozen=True)
class DemoData:
    """The whole demo data set, as read from the YAML files."""

    facilities: tuple[FacilityData, ...]
    prisoners: tuple[PrisonerData, ...]
    regions: tuple[RegionData, ...]
    officials: tuple[OfficialData, ...]  # facility heads, then the regional bodies
    texts: LetterTexts
    appeals: AppealsData


@functools.cache
def demo_data() -> DemoData:
    """The demo data set from the files in this package, read and validated once per process."""
    return read_demo_data(DATA_DIR)


def read_demo_data(folder: Path) -> DemoData:
    """Read and check the four demo data files in ``folder``; DemoDataError says what is wrong."""
    facilities = _read_facilities(_load(folder, "facilities.yaml"))
    prisoners = _read_prisoners(_load(folder, "prisoners.yaml"), {f.key for f in facilities})
    regions = _read_regions(_load(folder, "officials.yaml"))
    texts, appeals = _read_letters(_load(folder, "letters.yaml"))
    officials = _facility_heads(facilities) + _regional_bodies(regions)
    for official in officials:
        try:
            official.position_dative  # noqa: B018 - raises for an unknown head word
        except ValueError as error:
            raise DemoDataError(f"officials.yaml: {official.key}: {error}") from None
    return DemoData(facilities, prisoners, regions, officials, texts, appeals)


# --- The files ------------------------------------------------------------------------------


def _load(folder: Path, name: str) -> object:
    try:
        return yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise DemoDataError(f"{name}: not valid YAML: {error}") from None


def _read_facilities(raw: object) -> tuple[FacilityData, ...]:
    name = "facilities.yaml"
    top = shape.top_level(raw, name, ("mail_profiles", "facilities"), exact=True)
    profiles = {
        str(key): shape.build(MailProfile, item, f"{name}: mail_profiles: {key}")
        for key, item in shape.as_mapping(top["mail_profiles"], f"{name}: mail_profiles").items()
    }

    def mail(raw: object, where: str) -> MailProfile:
        # A profile's name, or a profile of its own written out in place.
        if not isinstance(raw, str):
            return shape.build(MailProfile, raw, where)
        if raw not in profiles:
            known = shape.listing(profiles)
            raise DemoDataError(f"{where}: unknown mail profile {raw!r} (known: {known})")
        return profiles[raw]

    facilities = tuple(
        shape.build(FacilityData, item, where, mail=mail)
        for where, item in shape.entries(top, name, "facilities", "facility")
    )
    shape.unique((facility.key for facility in facilities), f"{name}: facility")
    return facilities


def _read_prisoners(raw: object, facility_keys: set[str]) -> tuple[PrisonerData, ...]:
    name = "prisoners.yaml"
    top = shape.top_level(raw, name, ("prisoners",), exact=True)
    cases = {case.value for case in Case if case is not Case.NOMINATIVE}

    def placement(raw: object, where: str) -> PlacementData:
        item = shape.build(PlacementData, raw, where)
        if item.facility is not None and item.facility not in facility_keys:
            raise DemoDataError(f"{where}: facility: unknown facility {item.facility!r}")
        if item.facility is None and not item.note:
            item = dataclasses.replace(item, note=TRANSIT_NOTE)
        return item

    def placements(raw: object, where: str) -> tuple[PlacementData, ...]:
        items = shape.as_list(raw, where)
        return tuple(placement(item, f"{where}[{index}]") for index, item in enumerate(items))

    def overrides(raw: object, where: str) -> dict[str, str]:
        forms = typing.cast(dict[str, str], shape.typed(raw, dict[str, str], where))
        if unknown := set(forms) - cases:
            raise DemoDataError(f"{where}: unknown case {shape.listing(unknown)}")
        return forms

    prisoners = tuple(
        shape.build(PrisonerData, item, where, placements=placements, name_overrides=overrides)
        for where, item in shape.entries(top, name, "prisoners", "prisoner")
    )
    shape.unique((prisoner.key for prisoner in prisoners), f"{name}: prisoner")
    return prisoners


def _read_regions(raw: object) -> tuple[RegionData, ...]:
    name = "officials.yaml"
    top = shape.top_level(raw, name, ("regions",), exact=True)
    regions = tuple(
        shape.build(RegionData, item, where)
        for where, item in shape.entries(top, name, "regions", "region")
    )
    shape.unique((region.key for region in regions), f"{name}: region")
    shape.unique((region.region for region in regions), f"{name}: region named")
    return regions


def _read_letters(raw: object) -> tuple[LetterTexts, AppealsData]:
    name = "letters.yaml"
    top = shape.top_level(raw, name, ("appeals",))
    appeals = shape.build(AppealsData, top.pop("appeals"), f"{name}: appeals")
    texts = shape.build(LetterTexts, top, name)
    if set(texts.seasons_ru) != {"winter", "spring", "summer", "autumn"}:
        raise DemoDataError(f"{name}: seasons_ru: needs exactly winter, spring, summer, autumn")
    try:
        appeals.body.format(name="")
    except (KeyError, IndexError, ValueError) as error:
        message = f"{name}: appeals: body: only {{name}} may stand in braces ({error!r})"
        raise DemoDataError(message) from None
    return texts, appeals


# --- Officials derived from the data ------------------------------------------------------------


def _facility_heads(facilities: tuple[FacilityData, ...]) -> tuple[OfficialData, ...]:
    """The head of every demo facility, addressed at the facility itself."""
    return tuple(
        OfficialData(
            key=f"head-{facility.key}",
            kind=OfficialKind.FACILITY_HEAD,
            position=f"Начальник {facility.name}",
            organisation=facility.name,
            region=facility.region,
            postcode=facility.postcode,
            locality=facility.locality,
            street_address=facility.street_address,
            facility=facility.key,
        )
        for facility in facilities
    )


def _regional_bodies(regions: tuple[RegionData, ...]) -> tuple[OfficialData, ...]:
    """Directorate, supervising prosecutor and human-rights commissioner of every region."""
    officials: list[OfficialData] = []
    for item in regions:
        bodies = (
            (
                "ufsin",
                OfficialKind.REGIONAL_DIRECTORATE,
                f"Начальник {item.directorate}",
                item.directorate,
                item.directorate_address,
            ),
            (
                "prosecutor",
                OfficialKind.PROSECUTOR,
                item.prosecutor,
                item.prosecutor_office,
                item.prosecutor_address,
            ),
            (
                "ombudsman",
                OfficialKind.REGIONAL_OMBUDSMAN,
                item.ombudsman,
                f"Аппарат Уполномоченного {item.ombudsman.partition(' ')[2]}",
                item.ombudsman_address,
            ),
        )
        for suffix, kind, position, organisation, (postcode, street) in bodies:
            officials.append(
                OfficialData(
                    key=f"{suffix}-{item.key}",
                    kind=kind,
                    position=position,
                    organisation=organisation,
                    region=item.region,
                    postcode=postcode,
                    locality=item.capital,
                    street_address=street,
                    jurisdiction_region=item.region,
                )
            )
    return tuple(officials)
