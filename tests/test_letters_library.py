"""The letters/ library: every template parses, exists in both languages and renders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.library.files import read_library
from app.library.sandbox import render_body
from app.models import TemplateKind
from app.russian.names import Gender, PersonName, all_forms, greeting, initials_name

LIBRARY = Path(__file__).resolve().parent.parent / "letters"
SLUGS = {
    "first-letter": "first",
    "ongoing-support": "support",
    "birthday": "birthday",
    "new-year": "holiday",
    "after-transfer": "transfer",
    "answering-reply": "reply",
    "postcard": "postcard",
}
TODAY = {"ru": "23 ноября 2026 г.", "en": "23 November 2026"}
SIGNATURE = {"ru": "Аня из Тбилиси", "en": "Anna from London"}

PEOPLE = {
    "man": (PersonName("Горинов", "Алексей", "Александрович"), "Aleksei", "Gorinov"),
    "woman": (PersonName("Петрова", "Мария", "Игоревна"), "Mariia", "Petrova"),
    "no-patronymic": (PersonName("Вайс", "Томас", None, Gender.MALE), "Thomas", "Weiss"),
    "hyphenated": (
        PersonName(
            "Кара-Мурза",
            "Ксения",
            "Андреевна",
            overrides={
                "genitive": "Кара-Мурзы Ксении Андреевны",
                "dative": "Кара-Мурзе Ксении Андреевне",
                "accusative": "Кара-Мурзу Ксению Андреевну",
                "instrumental": "Кара-Мурзой Ксенией Андреевной",
                "prepositional": "Кара-Мурзе Ксении Андреевне",
            },
        ),
        "Kseniia",
        "Kara-Murza",
    ),
}


def sample_context(person: str, language: str) -> dict:
    """Exactly the variables the composer passes, as plain data."""
    name, latin_first, latin_last = PEOPLE[person]
    gender = "f" if person in {"woman", "hyphenated"} else "m"
    return {
        "greeting": greeting(name, language),
        "greeting_formal": greeting(name, language, formal=True),
        "prisoner": {
            "first_name": name.first_name,
            "last_name": name.last_name,
            "patronymic": name.patronymic or "",
            "full_name": name.full_name,
            "latin_name": f"{latin_first} {latin_last}",
            "latin_first_name": latin_first,
            "gender": gender,
            "initials_name": initials_name(name),
            "forms": all_forms(name),
        },
        "sender": {"signature": SIGNATURE[language]},
        "today": TODAY[language],
    }


@pytest.fixture(scope="module")
def library():
    """The letters to prisoners (appeals have their own tests)."""
    return [spec for spec in read_library(LIBRARY) if spec.kind is TemplateKind.LETTER]


def test_every_slug_exists_in_russian_and_english(library):
    found = {(spec.slug, spec.language): spec for spec in library}
    assert set(found) == {(slug, lang) for slug in SLUGS for lang in ("ru", "en")}
    for (slug, _language), spec in found.items():
        assert spec.occasion == SLUGS[slug]
        assert spec.kind.value == "letter"
        assert spec.title and spec.guidance
        assert spec.path.parent.name == spec.language


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_every_body_renders_for_sample_prisoners(library, person):
    for spec in library:
        context = sample_context(person, spec.language)
        text = render_body(spec.body, context)
        assert "{{" not in text and "{%" not in text and "}}" not in text
        lines = text.strip().splitlines()
        assert lines[0] in {context["greeting"], context["greeting_formal"]}, spec.path
        assert lines[-1] == context["sender"]["signature"], spec.path
        assert re.search(r"\[[^\]]+\]", text), f"{spec.path}: no place for the writer's words"
        if spec.language == "ru":
            # No foreign words in Russian letters: censors hold them for translation.
            assert not re.search(r"[A-Za-z]", text), spec.path
        if spec.slug == "postcard":
            assert 3 <= len([line for line in lines if line.strip()]) <= 5


def test_gendered_words_follow_the_prisoner():
    spec = next(
        s for s in read_library(LIBRARY) if (s.slug, s.language) == ("ongoing-support", "ru")
    )
    assert "Вы не одна:" in render_body(spec.body, sample_context("woman", "ru"))
    assert "Вы не один:" in render_body(spec.body, sample_context("man", "ru"))
