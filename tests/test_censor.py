"""The censor-risk checker: per-category behaviour, a measured labelled set, robustness."""

from __future__ import annotations

import csv
import itertools
import random
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from app.russian import censor
from app.russian.censor import (
    Category,
    Finding,
    Severity,
    categories,
    check_text,
    estimate_pages,
)
from app.russian.censor_rules import CATEGORY_IDS, RULES_PATH
from app.russian.censor_words import fold, russian_forms

DATA = Path(__file__).resolve().parent / "data" / "censor_sentences.tsv"

# Measured when the floors were set, over 265 sentences (175 expected (sentence, category)
# pairs): precision 0.976, recall 0.937. The first 196 sentences were written before the
# rules (0.985 / 0.977 on them, but the rules were written knowing them); the last 69 were
# written afterwards and appended without changing any rule: 0.947 / 0.818 on those alone,
# the fairer estimate of what to expect on real letters.
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.91


def categories_of(text: str, language: str = "ru") -> set[str]:
    return {f.category for f in check_text(text, language)}


def spans(text: str, category: str, language: str = "ru") -> list[str]:
    return [text[f.start : f.end] for f in check_text(text, language) if f.category == category]


# --- per category: a clear positive with its exact span, and near misses ---------------------

POSITIVES = [
    # (language, text, category, the flagged passage)
    ("ru", "Как прошло заседание суда?", "case_and_court", "суда"),
    ("ru", "Уголовное дело против тебя сфабриковано.", "case_and_court", "Уголовное дело"),
    ("ru", "Тебя обвиняют по статье 207.3 УК РФ?", "case_and_court", "статье 207.3"),
    ("ru", "Говорят, адвокатом у тебя опять новый человек.", "case_and_court", "адвокатом"),
    ("en", "Your lawyer says the appeal is in March.", "case_and_court", "lawyer"),
    ("ru", "Соседа мобилизовали осенью.", "war_and_politics", "мобилизовали"),
    (
        "ru",
        "Все говорят о специальной военной операции.",
        "war_and_politics",
        "специальной военной операции",
    ),
    ("ru", "Путина опять показывали по телевизору.", "war_and_politics", "Путина"),
    ("en", "Everyone hopes the war ends soon.", "war_and_politics", "war"),
    ("ru", "Начальник нашей колонии опять придирается?", "staff_and_conditions", None),
    ("ru", "Тебя снова отправили в ШИЗО?", "staff_and_conditions", "ШИЗО"),
    ("en", "Are the guards kind to you?", "staff_and_conditions", "guards"),
    (
        "ru",
        "Смотрела расследование Фонда борьбы с коррупцией.",
        "banned_organisations",
        "Фонда борьбы с коррупцией",
    ),
    ("ru", "Соседи — Свидетели Иеговы.", "banned_organisations", "Свидетели Иеговы"),
    ("ru", "Читаю новости на «Медузе».", "banned_organisations", "Медузе"),
    ("en", "My neighbours are Jehovah's Witnesses.", "banned_organisations", None),
    ("ru", "Недавно писала Алексею Горинову.", "other_prisoners", "Горинову"),
    ("ru", "В России тысячи политзаключённых.", "other_prisoners", "политзаключённых"),
    ("en", "We write to other political prisoners too.", "other_prisoners", None),
    ("ru", "Мы ходили на прайд в Берлине.", "lgbt", "прайд"),
    ("ru", "ЛГБТ-сообщество передаёт привет.", "lgbt", None),
    ("en", "My friend is gay and sends his love.", "lgbt", "gay"),
    ("ru", "Всё это полная хуйня, не переживай.", "obscene", "хуйня"),
    ("ru", "Эти бюрократы заебали всех.", "obscene", "заебали"),
    ("en", "This winter is fucking cold.", "obscene", "fucking"),
    ("ru", "Встретимся у ДК в ПН.", "codes_and_abbreviations", "ДК"),
    ("ru", "Передай ему: 7-4-1-9, он поймёт.", "codes_and_abbreviations", "7-4-1-9"),
    ("ru", "Наш шифр прежний — А7Б3К9.", "codes_and_abbreviations", "А7Б3К9"),
    (
        "ru",
        "Друзья написали: we are with you, stay strong!",
        "foreign_language",
        "we are with you, stay strong",
    ),
    ("ru", "Я учу грузинский: გამარჯობა, როგორ ხარ?", "foreign_language", "გამარჯობა, როგორ ხარ"),
    ("ru", "Бабуся каже: «Ми всі чекаємо на тебе».", "foreign_language", "всі чекаємо"),
    (
        "ru",
        "Мой телефон: +7 912 345-67-89, звони.",
        "third_party_contacts",
        "+7 912 345-67-89",
    ),
    ("ru", "Пиши на anna.petrova@mail.ru.", "third_party_contacts", "anna.petrova@mail.ru"),
    (
        "ru",
        "Наш новый адрес: ул. Садовая, д. 15, кв. 4.",
        "third_party_contacts",
        "ул. Садовая, д. 15, кв. 4",
    ),
    ("en", "See https://example.org/letters, it is new.", "third_party_contacts", None),
]


@pytest.mark.parametrize(("language", "text", "category", "passage"), POSITIVES)
def test_positive_with_offsets(language, text, category, passage):
    found = spans(text, category, language)
    assert found, f"{category} not found in {text!r}: {check_text(text, language)}"
    if passage is not None:
        assert passage in found


NEAR_MISSES = [
    # (language, text, category that must NOT be reported)
    ("ru", "Судя по погоде, весна близко.", "case_and_court"),
    ("ru", "На кухне много посуды.", "case_and_court"),
    ("ru", "По реке проплыло большое судно.", "case_and_court"),
    ("ru", "Как твои дела? В чём дело?", "case_and_court"),
    ("ru", "Прочитала интересную статью о птицах, перечитала статью 5 раз.", "case_and_court"),
    ("ru", "Брат был свидетелем на свадьбе.", "case_and_court"),
    ("en", "Just in case, I am sending two books.", "case_and_court"),
    ("ru", "Я прочитала «Войну и мир» за одно лето.", "war_and_politics"),
    ("ru", "Маме сделали операцию на колене.", "war_and_politics"),
    ("ru", "В армии служил мой дедушка.", "war_and_politics"),
    ("ru", "Дедушка воевал в Великую Отечественную войну.", "war_and_politics"),
    ("en", "My daughter is very polite.", "war_and_politics"),
    ("en", "My mobile phone is broken.", "war_and_politics"),
    ("ru", "Колония, говорят, стоит рядом с лесом.", "staff_and_conditions"),
    ("ru", "Мой начальник на работе отпустил меня пораньше.", "staff_and_conditions"),
    ("ru", "Я пыталась испечь хлеб.", "staff_and_conditions"),
    ("ru", "В море плавали огромные медузы.", "banned_organisations"),
    ("ru", "Из-за дождя сидели дома.", "banned_organisations"),
    ("ru", "Купила новую газету с кроссвордами.", "banned_organisations"),
    ("ru", "Заключённые в вашей колонии могут получать посылки?", "other_prisoners"),
    ("ru", "В зоопарке видели прайд львов.", "lgbt"),
    ("ru", "Мы застрахуем машину, на небе ни облачка, вебинар был полезный.", "obscene"),
    ("ru", "Нашла старую бляшку от ремня, а сосед — художник.", "obscene"),
    (
        "ru",
        "Мы живём в США, а бабушка жила в СССР; посылка ушла в ИК-3.",
        "codes_and_abbreviations",
    ),
    (
        "ru",
        "Поезд приходит 12.05.2025 в 10:30, в 1995 году всё было иначе.",
        "codes_and_abbreviations",
    ),
    ("ru", "ОЧЕНЬ ЖДУ ТВОЕГО ПИСЬМА! В XX веке и в ХХ веке.", "codes_and_abbreviations"),
    ("en", "He served in the army in the 1960s, on the 21st of May.", "codes_and_abbreviations"),
    ("ru", "Мы ходили в Starbucks, купила новый iPhone.", "foreign_language"),
    ("ru", "Письмо шло 3 недели, живём в г. Тверь, т. е. далеко.", "third_party_contacts"),
]


@pytest.mark.parametrize(("language", "text", "category"), NEAR_MISSES)
def test_near_miss_is_not_reported(language, text, category):
    assert category not in categories_of(text, language), check_text(text, language)


def test_phrase_spans_first_to_last_token():
    text = "Как думаешь, уголовное дело закроют?"
    (finding,) = check_text(text)
    assert (finding.start, finding.end) == (13, 27)
    assert text[finding.start : finding.end] == "уголовное дело"
    assert finding.rule == "case.investigation"
    assert finding.severity is Severity.HIGH


def test_gap_phrase_spans_the_words_in_between():
    text = "Начальник нашей колонии строгий."
    assert spans(text, "staff_and_conditions") == ["Начальник нашей колонии"]


def test_phrases_do_not_cross_sentences():
    assert "case_and_court" not in categories_of("Это уголовный. Дело было вечером.")


def test_offsets_index_the_original_string_after_emoji_and_yo():
    text = "🌷🌷 Привет! 👩‍👩‍👧 Ёлки, опять эта ВОЙНА…"
    (finding,) = check_text(text)
    assert text[finding.start : finding.end] == "ВОЙНА"
    assert finding.category == "war_and_politics"


def test_allow_list_silences_only_inside_the_phrase():
    text = "Читаю «Войну и мир», а по телевизору опять про войну."
    assert spans(text, "war_and_politics") == ["войну"]


def test_overlapping_findings_of_one_category_keep_the_longest():
    text = "Уголовное дело против него развалится."
    assert spans(text, "case_and_court") == ["Уголовное дело"]


def test_more_specific_category_suppresses_the_generic_one():
    text = "Соседи — Свидетели Иеговы, а брат смотрит ФБК."
    assert categories_of(text) == {"banned_organisations"}


def test_findings_of_different_categories_may_overlap():
    text = "После суда начальник СИЗО не пустил адвоката."
    assert categories_of(text) == {"case_and_court", "staff_and_conditions"}


def test_english_letters_get_no_foreign_language_findings():
    text = "Dear Alexei, we think of you every single day and we miss you."
    assert check_text(text, "en") == []
    assert "foreign_language" in categories_of(text, "ru")


def test_language_variants_fall_back_sensibly():
    assert categories_of("The guards are rude.", "en-GB") == {"staff_and_conditions"}
    assert "foreign_language" in categories_of("we are with you always", "uk")


# --- the measurement --------------------------------------------------------------------------


def load_labelled() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_labelled_set_is_what_it_claims():
    rows = load_labelled()
    assert len(rows) >= 120
    per_category: Counter[str] = Counter()
    for row in rows:
        assert row["language"] in ("ru", "en")
        assert row["text"].strip()
        expected = [c for c in row["expected_categories"].split(",") if c]
        assert set(expected) <= set(CATEGORY_IDS), row
        per_category.update(expected)
    for category_id in CATEGORY_IDS:
        if category_id != "length":
            assert per_category[category_id] >= 6, category_id
    assert sum(1 for row in rows if not row["expected_categories"]) >= 40
    assert sum(1 for row in rows if row["language"] == "en") >= 20


def test_precision_and_recall_on_labelled_sentences():
    true_positive = false_positive = false_negative = 0
    misses: list[str] = []
    for row in load_labelled():
        expected = {c for c in row["expected_categories"].split(",") if c}
        found = categories_of(row["text"], row["language"])
        true_positive += len(expected & found)
        false_positive += len(found - expected)
        false_negative += len(expected - found)
        if expected != found:
            misses.append(f"{row['text']!r}: expected {sorted(expected)}, got {sorted(found)}")
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    print(f"precision={precision:.3f} recall={recall:.3f}")
    print("\n".join(misses))
    assert precision >= PRECISION_FLOOR
    assert recall >= RECALL_FLOOR


# --- robustness ------------------------------------------------------------------------------


def assert_well_formed(text: str, findings: list[Finding]) -> None:
    assert findings == sorted(findings, key=lambda f: f.start)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.category in CATEGORY_IDS
        assert isinstance(finding.severity, Severity)


@pytest.mark.parametrize(
    "text", ["", " ", "\n\n\t", "🙂", "🙂🙂🙂 ❤️ 👍🏽", "123", "—", "\x00\x01"]
)
def test_trivial_texts(text):
    findings = check_text(text)
    assert_well_formed(text, findings)
    assert all(f.category == "codes_and_abbreviations" for f in findings)


def test_emoji_only_codes_are_ignored():
    assert check_text("Привет! 🐱🐱🌧️☀️ 😘") == []


def test_only_latin_text_in_a_russian_letter_is_one_passage():
    text = "Hello my dear friend, I hope you are well. We all miss you very much!"
    findings = check_text(text, "ru")
    assert [(f.category, f.start, f.end) for f in findings] == [
        ("foreign_language", 0, len(text) - 1)
    ]


def test_fifty_thousand_characters():
    paragraph = (
        "Дорогой друг! Судя по погоде, весна близко. Твой адвокат говорит, что суд будет "
        "в марте, а война всё идёт. 🌷 Пиши на anna@mail.ru, ОЧЕНЬ ЖДУ. "
        "Keep calm and carry on.\n\n"
    )
    text = (paragraph * (50_000 // len(paragraph) + 1))[:50_000]
    findings = check_text(text)
    assert_well_formed(text, findings)
    assert {f.category for f in findings} >= {
        "case_and_court",
        "war_and_politics",
        "third_party_contacts",
        "foreign_language",
        "length",
    }
    for category_id in CATEGORY_IDS:
        same = sorted((f for f in findings if f.category == category_id), key=lambda f: f.start)
        assert all(a.end <= b.start for a, b in itertools.pairwise(same))


@pytest.mark.parametrize(
    "unit",
    ["1-", "1 ", "а", "a", "a@b.", "a.", "страху", "аб-", "АБВ ", "a1 ", "+1 ", "8 ", "www."],
)
def test_pathological_fifty_thousand_characters(unit):
    """Repetitive input must not send a pattern into quadratic backtracking (it did once)."""
    text = (unit * (50_000 // len(unit) + 1))[:50_000]
    assert_well_formed(text, check_text(text))


def test_random_unicode_never_raises():
    rng = random.Random(20240601)
    alphabet = (
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        "іїєґў ... ,,,;;:!?--–—«»\"'’@#№+()/\\\n\t_ \u0301\u200d\ufeff\ud800"
        "ΩЖ中文字ქართულიעברית🙂👩‍👩‍👧"
    )
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        for language in ("ru", "en"):
            assert_well_formed(text, check_text(text, language, max_pages=rng.choice([None, 1])))


# --- the rules file ---------------------------------------------------------------------------


def raw_rules() -> dict:
    return yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))


def test_every_category_has_titles_and_explanations_in_both_languages():
    loaded = categories()
    assert [c.id for c in loaded] == list(CATEGORY_IDS)
    for item in loaded:
        assert isinstance(item, Category)
        for text in (item.title_en, item.title_ru, item.explanation_en, item.explanation_ru):
            assert text.strip()
        assert re.search("[а-яё]", item.explanation_ru, re.IGNORECASE)
        assert not re.search("[а-яё]", item.explanation_en, re.IGNORECASE)
        # One or two practical sentences, not an essay.
        assert 1 <= len(re.findall(r"[.!?](?:\s|$)", item.explanation_ru)) <= 3


def test_every_rule_points_at_a_known_category_and_has_a_way_to_match():
    data = raw_rules()
    ids = [rule["id"] for rule in data["rules"]]
    assert len(ids) == len(set(ids))
    for rule in data["rules"]:
        assert rule["category"] in CATEGORY_IDS, rule["id"]
        assert any(rule.get(key) for key in ("ru", "ru_any_parse", "en", "regex", "detector"))
    for entry in data["allow"]:
        assert entry["category"] in CATEGORY_IDS
    covered = {rule["category"] for rule in data["rules"]}
    assert covered == set(CATEGORY_IDS)


def test_severities_follow_the_documented_policy():
    data = raw_rules()["categories"]
    high = {
        "case_and_court",
        "war_and_politics",
        "banned_organisations",
        "lgbt",
        "obscene",
        "third_party_contacts",
    }
    for category_id, meta in data.items():
        expected = (
            "high" if category_id in high else "low" if category_id == "length" else "medium"
        )
        assert meta["severity"] == expected, category_id


def test_russian_rule_words_are_lemmas():
    """A typo or an inflected form in the YAML ("заключённые") would silently never match."""
    data = raw_rules()
    for entry in [*data["rules"], *data["allow"]]:
        for mode in ("ru", "ru_any_parse"):
            for phrase in entry.get(mode) or ():
                for position in phrase.split():
                    if position == "..":
                        continue
                    for word in position.split("|"):
                        primary, every = russian_forms(word.lower())
                        pool = primary if mode == "ru" else every
                        assert fold(word) in pool, (entry.get("id"), phrase, word)


def test_reason_in_both_languages_with_fallback():
    (finding,) = check_text("Тебя снова отправили в ШИЗО?")
    assert finding.reason("ru") == censor.category("staff_and_conditions").explanation_ru
    assert finding.reason("en") == censor.category("staff_and_conditions").explanation_en
    assert finding.reason("de") == finding.reason("en")
    (meta,) = check_text("Видела твои фото в инстаграме.")
    assert meta.severity is Severity.MEDIUM
    assert "Meta" in meta.reason("ru")
    assert meta.reason("ru").endswith(censor.category("banned_organisations").explanation_ru)


# --- pages and length -------------------------------------------------------------------------

SENTENCE = "Сегодня было тепло, мы гуляли в парке и кормили уток хлебом. "


def test_estimate_pages():
    assert estimate_pages("") == 0
    assert estimate_pages("   \n ") == 0
    assert estimate_pages("Привет!") == 1
    assert estimate_pages(SENTENCE * 10) == 1
    five_thousand = "\n\n".join([SENTENCE * 6] * 14)
    assert 4_900 <= len(five_thousand) <= 5_300
    assert estimate_pages(five_thousand) >= 2
    # Each line break starts a new printed line: a list of short lines takes room.
    assert estimate_pages("строка\n" * 120) >= 3


def test_length_finding_with_max_pages():
    text = "\n\n".join([SENTENCE * 6] * 14)  # about 5,000 characters: 2–3 pages
    assert "length" not in categories_of(text)  # within the default four pages
    findings = [f for f in check_text(text, max_pages=1) if f.category == "length"]
    assert [(f.start, f.end, f.severity) for f in findings] == [(0, len(text), Severity.LOW)]
    exact_budget = check_text(text, max_pages=estimate_pages(text))
    assert "length" not in {f.category for f in exact_budget}


def test_long_letter_gets_length_finding_by_default():
    text = "\n\n".join([SENTENCE * 6] * 40)
    assert estimate_pages(text) > 4
    assert "length" in categories_of(text)
    assert "length" not in categories_of(SENTENCE)
