"""The censor-risk rules: ``censor_rules.yaml`` loaded, validated and compiled once per process.

Categories with their titles, explanations and severities, the rules with their notes, regular
expressions and detectors, and the rules' lemma phrases indexed by their first word.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.russian.censor_words import Phrase, compile_phrase, fold

RULES_PATH = Path(__file__).resolve().with_name("censor_rules.yaml")

#: Every category, in the order the app lists them.
CATEGORY_IDS: tuple[str, ...] = (
    "case_and_court",
    "war_and_politics",
    "staff_and_conditions",
    "banned_organisations",
    "other_prisoners",
    "lgbt",
    "obscene",
    "codes_and_abbreviations",
    "foreign_language",
    "third_party_contacts",
    "length",
)

_LANGUAGES = ("ru", "en")
_DETECTORS = ("caps_abbreviations", "foreign_passages", "length")


class Severity(enum.StrEnum):
    """How likely a finding is to cost the letter (or the recipient) something."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class Category:
    """A kind of content censors stop, with the advice shown to the writer."""

    id: str
    title_en: str
    title_ru: str
    explanation_en: str
    explanation_ru: str

    def title(self, language: str) -> str:
        """The title in ``language`` ("ru" or anything else for English)."""
        return self.title_ru if language == "ru" else self.title_en

    def explanation(self, language: str) -> str:
        """The explanation in ``language`` ("ru" or anything else for English)."""
        return self.explanation_ru if language == "ru" else self.explanation_en


@dataclass(frozen=True)
class Rule:
    """One rule of the file, compiled: its regular expressions, detector and notes."""

    id: str
    category: str
    severity: Severity
    note_en: str
    note_ru: str
    regexes: tuple[re.Pattern[str], ...]
    detector: str | None
    languages: frozenset[str]


@dataclass(frozen=True)
class _CategoryMeta:
    category: Category
    severity: Severity
    suppressed_by: frozenset[str]


@dataclass(frozen=True)
class _RuleSet:
    settings: dict[str, Any]
    categories: dict[str, _CategoryMeta]
    rules: tuple[Rule, ...]
    rules_by_id: dict[str, Rule]
    phrase_index: dict[str, tuple[Phrase, ...]]
    allow_index: dict[str, tuple[Phrase, ...]]
    safe_abbreviations: frozenset[str]
    false_friends: frozenset[str]


def _index(phrases: Iterable[Phrase]) -> dict[str, tuple[Phrase, ...]]:
    """Phrases by each lemma their first element accepts, so a token looks up only its own."""
    index: dict[str, list[Phrase]] = {}
    for phrase in phrases:
        first = phrase.elements[0]
        assert first is not None  # compile_phrase guarantees it
        for word in first.alternatives:
            index.setdefault(word, []).append(phrase)
    return {word: tuple(items) for word, items in index.items()}


def _phrases_of(
    entry: dict[str, Any], rule: str, category: str, false_friends: frozenset[str]
) -> Iterator[Phrase]:
    for mode in ("ru", "ru_any_parse", "en"):
        for text in entry.get(mode) or ():
            yield compile_phrase(
                str(text), mode=mode, rule=rule, category=category, false_friends=false_friends
            )


def _require_text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} is missing")
    return " ".join(value.split())


@functools.cache
def load_ruleset() -> _RuleSet:
    """Load and validate ``censor_rules.yaml`` once per process."""
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    false_friends = frozenset(fold(w) for w in data.get("en_false_friends") or ())

    categories: dict[str, _CategoryMeta] = {}
    raw_categories = data["categories"]
    if tuple(raw_categories) != CATEGORY_IDS:
        raise ValueError(f"categories in {RULES_PATH.name} must be exactly {CATEGORY_IDS}")
    for cid, raw in raw_categories.items():
        where = f"category {cid}"
        suppressed_by = frozenset(raw.get("suppressed_by") or ())
        if not suppressed_by <= set(CATEGORY_IDS):
            raise ValueError(f"{where}: unknown suppressed_by {sorted(suppressed_by)}")
        categories[cid] = _CategoryMeta(
            Category(
                id=cid,
                title_en=_require_text(raw, "title_en", where),
                title_ru=_require_text(raw, "title_ru", where),
                explanation_en=_require_text(raw, "explanation_en", where),
                explanation_ru=_require_text(raw, "explanation_ru", where),
            ),
            Severity(raw["severity"]),
            suppressed_by,
        )

    rules: list[Rule] = []
    phrases: list[Phrase] = []
    for raw in data["rules"]:
        rid, cid = raw["id"], raw["category"]
        if cid not in categories:
            raise ValueError(f"rule {rid}: unknown category {cid!r}")
        detector = raw.get("detector")
        if detector is not None and detector not in _DETECTORS:
            raise ValueError(f"rule {rid}: unknown detector {detector!r}")
        flags = 0 if raw.get("case_sensitive") else re.IGNORECASE
        languages = frozenset(raw.get("languages") or _LANGUAGES)
        if not languages <= set(_LANGUAGES):
            raise ValueError(f"rule {rid}: unknown languages {sorted(languages)}")
        rules.append(
            Rule(
                id=rid,
                category=cid,
                severity=Severity(raw.get("severity") or categories[cid].severity),
                note_en=" ".join(str(raw.get("note_en") or "").split()),
                note_ru=" ".join(str(raw.get("note_ru") or "").split()),
                regexes=tuple(re.compile(p, flags) for p in raw.get("regex") or ()),
                detector=detector,
                languages=languages,
            )
        )
        phrases.extend(_phrases_of(raw, rid, cid, false_friends))
    rules_by_id = {rule.id: rule for rule in rules}
    if len(rules_by_id) != len(rules):
        raise ValueError("rule ids must be unique")

    allowed: list[Phrase] = []
    for raw in data.get("allow") or ():
        cid = raw["category"]
        if cid not in categories:
            raise ValueError(f"allow: unknown category {cid!r}")
        allowed.extend(_phrases_of(raw, f"allow.{cid}", cid, false_friends))

    return _RuleSet(
        settings=dict(data["settings"]),
        categories=categories,
        rules=tuple(rules),
        rules_by_id=rules_by_id,
        phrase_index=_index(phrases),
        allow_index=_index(allowed),
        safe_abbreviations=frozenset(str(a) for a in data.get("safe_abbreviations") or ()),
        false_friends=false_friends,
    )
