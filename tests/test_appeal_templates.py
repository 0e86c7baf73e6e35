"""The appeal templates in letters/ru: they parse, declare their variables and render well.

Rendered from plain dicts (as the composer passes them) for a man with a patronymic, a woman in
a pre-trial detention centre, a man without a patronymic and a compound surname whose first
part does not decline, and for a prisoner in transit whose facility is unknown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import meta

from app.library.files import TemplateSpec, read_template_file
from app.library.sandbox import environment, render_body
from app.models import TemplateKind
from app.russian.names import Gender, PersonName, all_forms, greeting, initials_name

LETTERS = Path(__file__).resolve().parent.parent / "letters" / "ru"
OCCASIONS = {
    "appeal-visits-calls": "visits",
    "appeal-whereabouts": "whereabouts",
    "appeal-correspondence": "correspondence",
    "appeal-punishment-cell": "punishment-cell",
    "appeal-medical": "medical",
}
ALLOWED_VARIABLES = {"prisoner", "facility", "official", "today", "sender", "greeting"}
CLOSING = (
    "Ответ прошу направить в письменной форме по адресу, указанному в обращении, в срок, "
    "установленный статьёй 12 Федерального закона от 02.05.2006 № 59-ФЗ «О порядке "
    "рассмотрения обращений граждан Российской Федерации»."
)
IK6 = ("ФКУ ИК-6 УФСИН России по Владимирской области", "ИК-6", "Владимирская область")
SIZO6 = ("ФКУ СИЗО-6 УФСИН России по г. Москве", "СИЗО-6", "г. Москва")
KARA_MURZA_FORMS = {
    "nominative": "Кара-Мурза Ксения Андреевна",
    "genitive": "Кара-Мурзы Ксении Андреевны",
    "dative": "Кара-Мурзе Ксении Андреевне",
    "accusative": "Кара-Мурзу Ксению Андреевну",
    "instrumental": "Кара-Мурзой Ксенией Андреевной",
    "prepositional": "Кара-Мурзе Ксении Андреевне",
}

# Words that agree with the prisoner's gender somewhere in the templates.
MASCULINE = (
    "содержащегося",
    "содержащемуся",
    "он был",
    "он содержался",
    "Он обращался",
    "водворялся",
    "уведомлен ли",
    "не получил,",
    "лишён",
)
FEMININE = (
    "содержащейся",
    "содержащуюся",
    "она была",
    "она содержалась",
    "Она обращалась",
    "водворялась",
    "уведомлена ли",
    "не получила,",
    "лишена",
)


def _context(
    name: PersonName,
    gender: str,
    birth_year: int | str,
    facility: tuple[str, str, str] | None,
    *,
    in_transit: bool = False,
    forms: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The variables the composer passes to an appeal, as plain data."""
    facility_name, code, region = facility or ("", "", "")
    return {
        "greeting": greeting(name, "ru"),
        "greeting_formal": greeting(name, "ru", formal=True),
        "prisoner": {
            "first_name": name.first_name,
            "last_name": name.last_name,
            "patronymic": name.patronymic or "",
            "full_name": name.full_name,
            "latin_name": "Latin Name",
            "latin_first_name": "Latin",
            "gender": gender,
            "initials_name": initials_name(name),
            "forms": forms or all_forms(name),
            "birth_year": birth_year,
            "in_transit": in_transit,
        },
        "facility": {"name": facility_name, "code": code, "region": region},
        "official": {
            "position": "Начальник ФКУ ИК-6 УФСИН России по Владимирской области",
            "position_dative": "Начальнику ФКУ ИК-6 УФСИН России по Владимирской области",
            "organisation": "ФКУ ИК-6 УФСИН России по Владимирской области",
        },
        "sender": {"signature": "Анна Сергеевна Петрова"},
        "today": "23 ноября 2026 г.",
    }


CONTEXTS = {
    "man": _context(PersonName("Горинов", "Алексей", "Александрович"), "m", 1961, IK6),
    "woman": _context(PersonName("Петрова", "Мария", "Игоревна"), "f", "", SIZO6),
    "no-patronymic": _context(PersonName("Вайс", "Томас", None, Gender.MALE), "m", 1979, IK6),
    "compound": _context(
        PersonName("Кара-Мурза", "Ксения", "Андреевна"),
        "f",
        1991,
        SIZO6,
        forms=KARA_MURZA_FORMS,
    ),
}


@pytest.fixture(scope="module")
def specs() -> dict[str, TemplateSpec]:
    return {slug: read_template_file(LETTERS / f"{slug}.md") for slug in OCCASIONS}


def test_every_appeal_template_parses_as_a_russian_appeal(specs):
    for slug, spec in specs.items():
        assert spec.slug == slug
        assert spec.kind is TemplateKind.APPEAL
        assert spec.language == "ru"
        assert spec.occasion == OCCASIONS[slug]
        assert spec.title
        tips = [line for line in spec.guidance.splitlines() if line.strip()]
        assert 2 <= len(tips) <= 4, slug
        assert "заказн" in spec.guidance and "30 дней" in spec.guidance, slug


def test_front_matter_lists_exactly_the_variables_the_body_uses(specs):
    for spec in specs.values():
        used = meta.find_undeclared_variables(environment().parse(spec.body))
        assert spec.variables is not None, f"{spec.slug}: no variables list in the front matter"
        assert set(spec.variables) == used, spec.slug
        assert used <= ALLOWED_VARIABLES, spec.slug


def test_the_layout_prints_signature_and_title_so_the_body_does_not(specs):
    for spec in specs.values():
        assert "sender.signature" not in spec.body
        assert not spec.body.lstrip().startswith("Обращение")


@pytest.mark.parametrize("person", sorted(CONTEXTS))
def test_every_appeal_renders_for_sample_prisoners(specs, person):
    context = CONTEXTS[person]
    forms = context["prisoner"]["forms"]
    for spec in specs.values():
        text = render_body(spec.body, context)
        assert "{{" not in text and "{%" not in text and "}}" not in text, spec.slug
        assert "[Ваше имя]" not in text
        assert forms["genitive"] in text or forms["dative"] in text, spec.slug
        assert "59-ФЗ" in text
        assert text.strip().endswith(CLOSING), spec.slug
        assert context["sender"]["signature"] not in text
        assert re.search(r"\[[^\]]+\]", text), f"{spec.slug}: no place for the writer's facts"
        assert not re.search(r"[A-Za-z]", text), spec.slug
        assert "  " not in text and " ," not in text and " ." not in text, spec.slug
        assert "\n\n\n" not in text, spec.slug
        year = context["prisoner"]["birth_year"]
        assert ("года рождения" in text) == bool(year), spec.slug
        if year:
            assert f", {year} года рождения" in text, spec.slug
        assert context["facility"]["name"] in text, spec.slug


@pytest.mark.parametrize("person", sorted(CONTEXTS))
def test_words_agree_with_the_prisoners_gender(specs, person):
    context = CONTEXTS[person]
    wrong = MASCULINE if context["prisoner"]["gender"] == "f" else FEMININE
    right = FEMININE if context["prisoner"]["gender"] == "f" else MASCULINE
    for spec in specs.values():
        text = render_body(spec.body, context)
        assert not [word for word in wrong if word in text], (spec.slug, person)
        assert any(word in text for word in right), (spec.slug, person)


def test_the_law_cited_follows_the_kind_of_facility(specs):
    for slug in ("appeal-visits-calls", "appeal-correspondence", "appeal-medical"):
        in_colony = render_body(specs[slug].body, CONTEXTS["man"])
        in_sizo = render_body(specs[slug].body, CONTEXTS["woman"])
        assert "Уголовно-исполнительного кодекса" in in_colony and "103-ФЗ" not in in_colony
        assert "103-ФЗ" in in_sizo, slug
    punishment = specs["appeal-punishment-cell"].body
    assert "штрафной изолятор" in render_body(punishment, CONTEXTS["man"])
    assert "карцер" in render_body(punishment, CONTEXTS["woman"])


def test_whereabouts_of_a_prisoner_in_transit_with_no_known_facility(specs):
    context = _context(
        PersonName("Горинов", "Алексей", "Александрович"), "m", 1961, None, in_transit=True
    )
    text = render_body(specs["appeal-whereabouts"].body, context)
    assert "Горинова Алексея Александровича, 1961 года рождения" in text
    assert "[наименование учреждения" in text
    assert "в пути" in text
    assert "23 ноября 2026 г." in text
    assert "  " not in text and " ," not in text and "в ." not in text
    # Known facility, not in transit: the old facility is named and nothing speaks of the road.
    settled = render_body(specs["appeal-whereabouts"].body, CONTEXTS["man"])
    assert f"содержался в {IK6[0]}, откуда был направлен" in settled
    assert "в пути" not in settled


def test_every_appeal_handles_an_unknown_facility(specs):
    context = _context(PersonName("Петрова", "Мария", "Игоревна"), "f", 1985, None)
    for spec in specs.values():
        text = render_body(spec.body, context)
        assert "[наименование учреждения" in text, spec.slug
        assert "в ." not in text and "в ," not in text, spec.slug
