"""Language helpers: declension, gender, greetings, search folding, addresses, tracking numbers."""

from __future__ import annotations

import pytest

from app.russian.address import (
    ABROAD_COUNTRY_LINE,
    PostalAddress,
    recipient_lines,
    recipient_name_line,
    with_country_line,
)
from app.russian.names import (
    Case,
    Gender,
    PersonName,
    all_forms,
    decline,
    greeting,
    infer_gender,
    initials_name,
    normalize_for_search,
    transliterate,
)
from app.russian.tracking_numbers import s10_check_digit, tracking_number_problem


@pytest.mark.parametrize(
    ("first", "patronymic", "expected"),
    [
        ("Алексей", "Александрович", Gender.MALE),
        ("Александра", "Юрьевна", Gender.FEMALE),
        ("Эльдар", "Рашид оглы", Gender.MALE),
        ("Лейла", "Алиевна", Gender.FEMALE),
        ("Айгуль", "Ринат кызы", Gender.FEMALE),
        ("Мария", None, Gender.FEMALE),
        ("Иван", None, Gender.MALE),
    ],
)
def test_gender_is_inferred_from_patronymic_then_first_name(first, patronymic, expected):
    assert infer_gender(first, patronymic) is expected


def test_dative_of_a_typical_name():
    name = PersonName("Горинов", "Алексей", "Александрович")
    assert decline(name, Case.DATIVE) == "Горинову Алексею Александровичу"


def test_all_six_cases_of_a_womans_name():
    forms = all_forms(PersonName("Скочиленко", "Александра", "Юрьевна"))
    assert forms == {
        "nominative": "Скочиленко Александра Юрьевна",
        "genitive": "Скочиленко Александры Юрьевны",
        "dative": "Скочиленко Александре Юрьевне",
        "accusative": "Скочиленко Александру Юрьевну",
        "instrumental": "Скочиленко Александрой Юрьевной",
        "prepositional": "Скочиленко Александре Юрьевне",
    }


def test_override_wins_where_the_library_is_wrong():
    name = PersonName("Кара-Мурза", "Владимир", "Владимирович")
    # The rules decline both halves; the correct dative keeps «Кара» unchanged.
    assert decline(name, Case.DATIVE) != "Кара-Мурзе Владимиру Владимировичу"
    fixed = PersonName(
        "Кара-Мурза",
        "Владимир",
        "Владимирович",
        overrides={"dative": "Кара-Мурзе Владимиру Владимировичу"},
    )
    assert decline(fixed, Case.DATIVE) == "Кара-Мурзе Владимиру Владимировичу"
    assert decline(fixed, Case.GENITIVE) == decline(name, Case.GENITIVE)


def test_name_without_patronymic_and_explicit_gender():
    name = PersonName("Ким", "Саша", None, gender=Gender.FEMALE)
    assert decline(name, Case.DATIVE) == "Ким Саше"
    assert greeting(name, "ru") == "Дорогая Саша!"


@pytest.mark.parametrize(
    ("name", "language", "formal", "expected"),
    [
        (PersonName("Горинов", "Алексей", "Александрович"), "ru", False, "Дорогой Алексей!"),
        (PersonName("Петрова", "Анна", "Сергеевна"), "ru", False, "Дорогая Анна!"),
        (
            PersonName("Горинов", "Алексей", "Александрович"),
            "ru",
            True,
            "Здравствуйте, Алексей Александрович!",
        ),
        (PersonName("Петрова", "Анна", "Сергеевна"), "en", False, "Dear Anna,"),
    ],
)
def test_greetings(name, language, formal, expected):
    assert greeting(name, language, formal=formal) == expected


def test_english_greeting_uses_the_recorded_latin_name():
    name = PersonName("Вайс", "Томас", None, latin_first_name="Thomas", latin_last_name="Weiss")
    assert greeting(name, "en") == "Dear Thomas,"
    assert greeting(name, "en", formal=True) == "Dear Mr Weiss,"


def test_region_is_not_repeated_for_federal_cities():
    address = PostalAddress("ФКУ СИЗО-1 УФСИН России по г. Москве", "ул. Матросская Тишина, д. 18",
                            "г. Москва", "г. Москва", "107076")  # fmt: skip
    assert recipient_lines("Ким Саше", address) == [
        "Ким Саше",
        "ФКУ СИЗО-1 УФСИН России по г. Москве",
        "ул. Матросская Тишина, д. 18",
        "г. Москва",
        "107076",
    ]


def test_initials_and_transliteration():
    name = PersonName("Горинов", "Алексей", "Александрович")
    assert initials_name(name) == "Горинов А. А."
    assert transliterate("Юрьевна") == "Yuryevna"


def test_search_folds_case_and_yo():
    assert normalize_for_search("Алёна ФЁДОРОВА") == normalize_for_search("алена федорова")


def test_envelope_lines_and_country_line():
    address = PostalAddress(
        institution="ФКУ ИК-3 УФСИН России по Владимирской области",
        street="ул. Франца Штольверка, д. 100",
        locality="г. Покров",
        region="Владимирская область",
        postcode="601120",
    )
    name_line = recipient_name_line("Горинову Алексею Александровичу", 1961)
    lines = recipient_lines(name_line, address)
    assert lines == [
        "Горинову Алексею Александровичу, 1961 г.р.",
        "ФКУ ИК-3 УФСИН России по Владимирской области",
        "ул. Франца Штольверка, д. 100",
        "г. Покров",
        "Владимирская область",
        "601120",
    ]
    assert with_country_line(lines, "Россия") == lines
    assert with_country_line(lines, "") == lines
    assert with_country_line(lines, "Germany")[-1] == ABROAD_COUNTRY_LINE


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("80085292573414", None),
        ("8008 5292 5734 14", None),
        ("80085292573411", "check_digit"),  # one digit mistyped
        ("80085292573441", "check_digit"),  # two neighbours swapped
        ("RR473124829FR", None),
        ("ra 123456785 ru", None),
        ("RA123456789RU", "check_digit"),
        ("8008529257341", "format"),
        ("RA12345678RU", "format"),
        ("hello", "format"),
    ],
)
def test_tracking_numbers(number, problem):
    assert tracking_number_problem(number) == problem


def test_s10_check_digit_special_cases():
    # Remainder 1 gives 10, written 0; remainder 0 gives 11, written 5.
    assert s10_check_digit("00000001") == 11 - (7 % 11)
    assert s10_check_digit("00000000") == 5
