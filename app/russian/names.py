"""Personal names: gender, declension in the six cases, greetings, search and transliteration.

Declension comes from pytrovich (a port of the petrovich rules). It is right for most names and
wrong for some compound or non-Russian ones, so every computed form can be overridden per person.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from functools import cache

import iuliia
from pytrovich.detector import PetrovichGenderDetector
from pytrovich.enums import Case as PetrovichCase
from pytrovich.enums import Gender as PetrovichGender
from pytrovich.enums import NamePart
from pytrovich.maker import PetrovichDeclinationMaker


class Gender(enum.StrEnum):
    """Grammatical gender of a person's name."""

    MALE = "m"
    FEMALE = "f"


class Case(enum.StrEnum):
    """The six Russian grammatical cases, in the traditional order."""

    NOMINATIVE = "nominative"
    GENITIVE = "genitive"
    DATIVE = "dative"
    ACCUSATIVE = "accusative"
    INSTRUMENTAL = "instrumental"
    PREPOSITIONAL = "prepositional"


_PETROVICH_CASES = {
    Case.GENITIVE: PetrovichCase.GENITIVE,
    Case.DATIVE: PetrovichCase.DATIVE,
    Case.ACCUSATIVE: PetrovichCase.ACCUSATIVE,
    Case.INSTRUMENTAL: PetrovichCase.INSTRUMENTAL,
    Case.PREPOSITIONAL: PetrovichCase.PREPOSITIONAL,
}

_MALE_PATRONYMIC = re.compile(r"(вич|ич|оглы|улы|уулу)$", re.IGNORECASE)
_FEMALE_PATRONYMIC = re.compile(r"(вна|ична|инична|кызы|гызы|кизи)$", re.IGNORECASE)


@dataclass(frozen=True)
class PersonName:
    """A person's name in the nominative, as written in Cyrillic."""

    last_name: str
    first_name: str
    patronymic: str | None = None
    gender: Gender | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    latin_first_name: str | None = None  # as the person spells it, e.g. Thomas, not Tomas
    latin_last_name: str | None = None

    @property
    def full_name(self) -> str:
        """Surname, first name and patronymic, as on official documents."""
        return " ".join(
            part for part in (self.last_name, self.first_name, self.patronymic) if part
        )


@cache
def _maker() -> PetrovichDeclinationMaker:
    return PetrovichDeclinationMaker()


@cache
def _detector() -> PetrovichGenderDetector:
    return PetrovichGenderDetector()


def infer_gender(first_name: str, patronymic: str | None) -> Gender | None:
    """Guess the gender from the patronymic (-вич/-вна, оглы/кызы), else from the first name.

    Returns None when neither gives a clear answer; callers then ask a person to set it.
    """
    if patronymic:
        last_word = patronymic.strip().split()[-1] if patronymic.strip() else ""
        if _FEMALE_PATRONYMIC.search(last_word):
            return Gender.FEMALE
        if _MALE_PATRONYMIC.search(last_word):
            return Gender.MALE
    if not first_name.strip():
        return None
    try:
        # pytrovich ships py.typed but leaves detect() unannotated.
        detected = _detector().detect(firstname=first_name.strip())  # type: ignore[no-untyped-call]
    except (KeyError, ValueError, IndexError):
        return None
    if detected == PetrovichGender.MALE:
        return Gender.MALE
    if detected == PetrovichGender.FEMALE:
        return Gender.FEMALE
    return None


def effective_gender(name: PersonName) -> Gender:
    """The gender set for the person, or the inferred one; male when nothing can be told."""
    return name.gender or infer_gender(name.first_name, name.patronymic) or Gender.MALE


def _decline_part(part: NamePart, gender: Gender, case: Case, value: str | None) -> str | None:
    if not value:
        return value
    if case is Case.NOMINATIVE:
        return value
    petrovich_gender = PetrovichGender.FEMALE if gender is Gender.FEMALE else PetrovichGender.MALE
    try:
        return _maker().make(part, petrovich_gender, _PETROVICH_CASES[case], value)
    except (KeyError, ValueError, IndexError):
        # An unusual name the rules cannot handle: better undeclined than a crash.
        return value


def decline(name: PersonName, case: Case) -> str:
    """The full name in ``case``: the person's override when one is set, else the library's."""
    override = (name.overrides or {}).get(case.value)
    if override:
        return override
    gender = effective_gender(name)
    parts = (
        _decline_part(NamePart.LASTNAME, gender, case, name.last_name),
        _decline_part(NamePart.FIRSTNAME, gender, case, name.first_name),
        _decline_part(NamePart.MIDDLENAME, gender, case, name.patronymic),
    )
    return " ".join(part for part in parts if part)


def all_forms(name: PersonName) -> dict[str, str]:
    """The full name in each of the six cases, keyed by case name."""
    return {case.value: decline(name, case) for case in Case}


def initials_name(name: PersonName) -> str:
    """Surname and initials: «Горинов А. А.»."""
    initials = " ".join(
        f"{part.strip()[0]}." for part in (name.first_name, name.patronymic) if part
    )
    return f"{name.last_name} {initials}".strip()


def greeting(name: PersonName, language: str, formal: bool = False) -> str:
    """The opening line of a letter: «Дорогой Алексей!», «Здравствуйте, Алексей Александрович!»."""
    gender = effective_gender(name)
    if language == "ru":
        if formal:
            addressed = " ".join(part for part in (name.first_name, name.patronymic) if part)
            return f"Здравствуйте, {addressed}!"
        dear = "Дорогая" if gender is Gender.FEMALE else "Дорогой"
        return f"{dear} {name.first_name}!"
    latin_first = name.latin_first_name or transliterate(name.first_name)
    if formal:
        title = "Ms" if gender is Gender.FEMALE else "Mr"
        return f"Dear {title} {name.latin_last_name or transliterate(name.last_name)},"
    return f"Dear {latin_first},"


def transliterate(text: str) -> str:
    """Latin transliteration for writers who do not read Cyrillic (Wikipedia's scheme)."""
    return str(iuliia.WIKIPEDIA.translate(text))


def transliteration_variants(text: str) -> set[str]:
    """The spellings people are likely to type: English-style, passport (ICAO) and simple."""
    return {
        str(schema.translate(text))
        for schema in (iuliia.WIKIPEDIA, iuliia.ICAO_DOC_9303, iuliia.MOSMETRO)
    }


def normalize_for_search(text: str) -> str:
    """Fold case and ё/е so that «Алёна», «алена» and «АЛЕНА» compare equal."""
    return text.casefold().replace("ё", "е").strip()
