"""Censor risk: what in a letter is likely to make a prison censor delay or withhold it.

Pure language knowledge with no Flask in it. The rules live in ``censor_rules.yaml`` next to
this module (read once per process by :mod:`app.russian.censor_rules`); the check tokenises
the letter with character offsets, lemmatises Russian words with pymorphy3 and stems English
words with Snowball (:mod:`app.russian.censor_words`), matches the rules' lemma phrases,
regular expressions and detectors (:mod:`app.russian.censor_detectors`), and returns
:class:`Finding` objects pointing into the original text. This module is the one the rest of
the app imports.

The checker warns, it does not judge: a finding says "a censor may stop this", with a
practical explanation, and the supporter decides. It errs towards precision, because a
checker that flags every second sentence teaches people to ignore it.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from app.russian.censor_detectors import caps_abbreviations, estimate_pages, foreign_passages
from app.russian.censor_rules import CATEGORY_IDS, Category, Rule, Severity, load_ruleset
from app.russian.censor_words import phrase_spans, tokenise

__all__ = [
    "Category",
    "Finding",
    "Severity",
    "categories",
    "category",
    "check_text",
    "estimate_pages",
]


@dataclass(frozen=True)
class Finding:
    """One risky passage: ``text[start:end]`` in the original text."""

    start: int
    end: int
    category: str
    severity: Severity
    rule: str

    def reason(self, language: str) -> str:
        """Why a censor may stop this, in "ru" or "en" (any other language gets English)."""
        ruleset = load_ruleset()
        meta = ruleset.categories.get(self.category)
        explanation = meta.category.explanation(language) if meta else ""
        rule = ruleset.rules_by_id.get(self.rule)
        note = (rule.note_ru if language == "ru" else rule.note_en) if rule else ""
        return f"{note} {explanation}".strip() if note else explanation


@functools.cache
def _categories() -> tuple[Category, ...]:
    categories = load_ruleset().categories
    return tuple(categories[cid].category for cid in CATEGORY_IDS)


def categories() -> list[Category]:
    """Every category with its titles and explanations, in :data:`CATEGORY_IDS` order."""
    return list(_categories())


def category(category_id: str) -> Category:
    """One category by id; ``KeyError`` for an unknown id."""
    return load_ruleset().categories[category_id].category


# --- checking -------------------------------------------------------------------------------

_TRAILING_PUNCTUATION = ".,;:!?)»\"'…"


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop trailing punctuation a greedy pattern took along («…mail.ru.» → «…mail.ru»)."""
    while end - start > 1 and text[end - 1] in _TRAILING_PUNCTUATION:
        end -= 1
    return start, end


class _Cover:
    """Answers "does any of these spans contain [start, end)?" in O(log n) per question."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._max_ends: list[int] = []
        running = -1
        for _, end in ordered:
            running = max(running, end)
            self._max_ends.append(running)

    def covers(self, start: int, end: int) -> bool:
        position = bisect.bisect_right(self._starts, start)
        return position > 0 and self._max_ends[position - 1] >= end


def _deduplicate(findings: list[Finding]) -> list[Finding]:
    """Per category, keep the longest of overlapping findings."""
    kept: list[Finding] = []
    # Per category: sorted starts and the matching ends of the (non-overlapping) kept spans.
    starts: dict[str, list[int]] = {}
    ends: dict[str, list[int]] = {}
    for finding in sorted(findings, key=lambda f: (f.start - f.end, f.start, f.rule)):
        cat_starts = starts.setdefault(finding.category, [])
        cat_ends = ends.setdefault(finding.category, [])
        position = bisect.bisect_left(cat_starts, finding.end)
        # Kept spans do not overlap each other, so only the one starting just before
        # finding.end can overlap it.
        if position > 0 and cat_ends[position - 1] > finding.start:
            continue
        cat_starts.insert(position, finding.start)
        cat_ends.insert(position, finding.end)
        kept.append(finding)
    return kept


def check_text(text: str, language: str = "ru", max_pages: int | None = None) -> list[Finding]:
    """Passages of ``text`` a censor is likely to stop, sorted by position.

    ``language`` is the letter's language ("ru" or "en"; anything starting with "en" counts
    as English, anything else as Russian). ``max_pages`` is the page budget for the "length"
    finding; without it letters over the rules' default (4 pages) get one. Offsets index the
    original ``text``. Works on any string: empty, huge, emoji, mixed scripts.
    """
    if not text or not text.strip():
        return []
    lang = "en" if str(language).lower().startswith("en") else "ru"
    ruleset = load_ruleset()
    tokens = tokenise(text, ruleset.false_friends)

    findings: list[Finding] = []

    def add(start: int, end: int, rule: Rule) -> None:
        if end > start:
            findings.append(Finding(start, end, rule.category, rule.severity, rule.id))

    for start, end, phrase in phrase_spans(tokens, ruleset.phrase_index):
        add(start, end, ruleset.rules_by_id[phrase.rule])

    for rule in ruleset.rules:
        if lang not in rule.languages:
            continue
        for pattern in rule.regexes:
            for match in pattern.finditer(text):
                add(*_strip_span(text, match.start(), match.end()), rule)
        if rule.detector == "caps_abbreviations":
            for start, end in caps_abbreviations(text, ruleset.safe_abbreviations):
                add(start, end, rule)
        elif rule.detector == "foreign_passages":
            for start, end in foreign_passages(tokens, ruleset.settings):
                add(start, end, rule)
        elif rule.detector == "length":
            limit = max_pages if max_pages is not None else ruleset.settings["default_max_pages"]
            if estimate_pages(text) > int(limit):
                add(0, len(text), rule)

    # Known harmless phrases («Война и мир») silence their category inside them.
    allowed: dict[str, list[tuple[int, int]]] = {}
    for start, end, phrase in phrase_spans(tokens, ruleset.allow_index):
        allowed.setdefault(phrase.category, []).append((start, end))
    allow_covers = {cid: _Cover(spans) for cid, spans in allowed.items()}
    findings = [
        f
        for f in findings
        if f.category not in allow_covers or not allow_covers[f.category].covers(f.start, f.end)
    ]

    # A finding inside a more specific category's finding adds nothing but noise.
    category_covers = {
        cid: _Cover((f.start, f.end) for f in findings if f.category == cid)
        for cid in {f.category for f in findings}
    }
    findings = [
        f
        for f in findings
        if not any(
            cid in category_covers and category_covers[cid].covers(f.start, f.end)
            for cid in ruleset.categories[f.category].suppressed_by
        )
    ]

    return sorted(_deduplicate(findings), key=lambda f: (f.start, f.end, f.category, f.rule))
