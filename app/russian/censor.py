"""Censor risk: what in a letter is likely to make a prison censor delay or withhold it.

Pure language knowledge with no Flask in it. The rules live in ``censor_rules.yaml`` next to
this module (read once per process); this module tokenises the letter with character offsets,
lemmatises Russian words with pymorphy3 and stems English words with Snowball, matches the
rules' lemma phrases, regular expressions and detectors, and returns :class:`Finding` objects
pointing into the original text.

The checker warns, it does not judge: a finding says "a censor may stop this", with a
practical explanation, and the supporter decides. It errs towards precision, because a
checker that flags every second sentence teaches people to ignore it.
"""

from __future__ import annotations

import bisect
import enum
import functools
import math
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymorphy3
import snowballstemmer
import yaml

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
_GAP = ".."
_GAP_MAX_WORDS = 2


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
class Finding:
    """One risky passage: ``text[start:end]`` in the original text."""

    start: int
    end: int
    category: str
    severity: Severity
    rule: str

    def reason(self, language: str) -> str:
        """Why a censor may stop this, in "ru" or "en" (any other language gets English)."""
        ruleset = _ruleset()
        meta = ruleset.categories.get(self.category)
        explanation = meta.category.explanation(language) if meta else ""
        rule = ruleset.rules_by_id.get(self.rule)
        note = (rule.note_ru if language == "ru" else rule.note_en) if rule else ""
        return f"{note} {explanation}".strip() if note else explanation


# --- loading the rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Element:
    """One position of a phrase: the lemmas (or stems) any of which may stand there."""

    alternatives: frozenset[str]
    any_parse: bool

    def matches(self, token: _Token) -> bool:
        pool = token.any_forms if self.any_parse else token.primary
        return not self.alternatives.isdisjoint(pool)


@dataclass(frozen=True)
class _Phrase:
    """A compiled lemma/stem phrase; ``None`` elements are gaps of up to two words."""

    elements: tuple[_Element | None, ...]
    rule: str
    category: str


@dataclass(frozen=True)
class _Rule:
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
    rules: tuple[_Rule, ...]
    rules_by_id: dict[str, _Rule]
    phrase_index: dict[str, tuple[_Phrase, ...]]
    allow_index: dict[str, tuple[_Phrase, ...]]
    safe_abbreviations: frozenset[str]
    false_friends: frozenset[str]


def _fold(word: str) -> str:
    """Lower-case and fold ё to е: «Ёлка» and «елка» are the same word to us."""
    return word.lower().replace("ё", "е")


@functools.cache
def _morph() -> pymorphy3.MorphAnalyzer:
    """The morphological analyser: loading its dictionaries takes ~0.1 s, so once a process."""
    return pymorphy3.MorphAnalyzer()


_stemmers = threading.local()


def _stem(word: str) -> str:
    """Snowball English stem. Stemmer objects keep state, hence one per thread."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def _compile_phrase(
    text: str, *, mode: str, rule: str, category: str, false_friends: frozenset[str]
) -> _Phrase:
    """Turn "начальник .. колония|сизо" into elements; ``mode`` is ru, ru_any_parse or en."""
    elements: list[_Element | None] = []
    for part in text.split():
        if part == _GAP:
            if not elements or elements[-1] is None:
                raise ValueError(f"rule {rule}: misplaced gap in {text!r}")
            elements.append(None)
            continue
        words = [_fold(alt) for alt in part.split("|") if alt]
        if mode == "en":
            words = [_stem(w) for w in words if w not in false_friends]
        elements.append(_Element(frozenset(words), any_parse=mode == "ru_any_parse"))
    if not elements or elements[-1] is None:
        raise ValueError(f"rule {rule}: empty phrase or trailing gap in {text!r}")
    return _Phrase(tuple(elements), rule, category)


def _index(phrases: Iterable[_Phrase]) -> dict[str, tuple[_Phrase, ...]]:
    """Phrases by each lemma their first element accepts, so a token looks up only its own."""
    index: dict[str, list[_Phrase]] = {}
    for phrase in phrases:
        first = phrase.elements[0]
        assert first is not None  # _compile_phrase guarantees it
        for word in first.alternatives:
            index.setdefault(word, []).append(phrase)
    return {word: tuple(items) for word, items in index.items()}


def _phrases_of(
    entry: dict[str, Any], rule: str, category: str, false_friends: frozenset[str]
) -> Iterator[_Phrase]:
    for mode in ("ru", "ru_any_parse", "en"):
        for text in entry.get(mode) or ():
            yield _compile_phrase(
                str(text), mode=mode, rule=rule, category=category, false_friends=false_friends
            )


def _require_text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} is missing")
    return " ".join(value.split())


@functools.cache
def _ruleset() -> _RuleSet:
    """Load and validate ``censor_rules.yaml`` once per process."""
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    false_friends = frozenset(_fold(w) for w in data.get("en_false_friends") or ())

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

    rules: list[_Rule] = []
    phrases: list[_Phrase] = []
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
            _Rule(
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

    allowed: list[_Phrase] = []
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


@functools.cache
def _categories() -> tuple[Category, ...]:
    categories = _ruleset().categories
    return tuple(categories[cid].category for cid in CATEGORY_IDS)


def categories() -> list[Category]:
    """Every category with its titles and explanations, in :data:`CATEGORY_IDS` order."""
    return list(_categories())


def category(category_id: str) -> Category:
    """One category by id; ``KeyError`` for an unknown id."""
    return _ruleset().categories[category_id].category


# --- tokens ---------------------------------------------------------------------------------

# Letters/digits, joined by hyphens and apostrophes inside a word («кто-то», «don't»,
# «ЛГБТ-сообщество», «ИК-3») and by a dot or comma between digits («207.3», «12.05.2025»).
_TOKEN_RE = re.compile(r"[^\W_]+(?:(?:[-‐'’]|(?<=\d)[.,](?=\d))[^\W_]+)*")
_PART_SPLIT_RE = re.compile(r"[-‐'’]")
# Punctuation that ends a sentence: phrases do not run across it.
_BREAK_RE = re.compile(r"[.!?;…\n]")
_DIGIT_RE = re.compile(r"\d")
_LETTER_RE = re.compile(r"[^\W\d_]")
_EAST_SLAVIC_ONLY = frozenset("іїєґўІЇЄҐЎ")
# Longer "words" (hyphenated ones included) are not looked up in the dictionaries.
_MAX_WORD_LENGTH = 64


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str
    kind: str  # "word", "number" or "mixed" (letters and digits)
    script: str  # "cyrillic", "latin", "other" or "none"
    primary: frozenset[str]  # the most likely lemma (Russian) or the stem (English)
    any_forms: frozenset[str]  # every parse's lemma and the spelling itself
    sentence_break: bool  # a sentence ends between the previous token and this one


def _script(word: str) -> str:
    """The script of a word's letters: a word with any Cyrillic letter counts as Cyrillic."""
    latin = other = False
    for char in word:
        if not char.isalpha():
            continue
        code = ord(char)
        if 0x0400 <= code <= 0x052F:
            return "cyrillic"
        if char.isascii() or 0x00C0 <= code <= 0x024F or 0x1E00 <= code <= 0x1EFF:
            latin = True
        else:
            other = True
    if latin:
        return "latin"
    return "other" if other else "none"


@functools.lru_cache(maxsize=65536)
def _russian_forms(word: str) -> tuple[frozenset[str], frozenset[str]]:
    """(most likely lemmas, all lemmas) of a lower-cased Russian word, parts of «a-b» included.

    Cached per word: a letter repeats most of its words, and parsing is the expensive step.
    """
    morph = _morph()
    parts = [word, *(p for p in _PART_SPLIT_RE.split(word) if p)] if "-" in word else [word]
    primary: set[str] = set()
    every: set[str] = {_fold(word)}
    for part in parts:
        parses = morph.parse(part)
        if not parses:
            continue
        primary.add(_fold(parses[0].normal_form))
        every.update(_fold(p.normal_form) for p in parses)
        every.add(_fold(part))
        # pymorphy normalises participles to the verb («обвиняемого» → обвинять), but the
        # prison vocabulary uses them as nouns: «обвиняемый», «заключённый».
        for parse in parses:
            if parse.tag.POS == "PRTF":
                noun_like = parse.inflect({"nomn", "sing", "masc"})
                if noun_like is not None:
                    every.add(_fold(noun_like.word))
    return frozenset(primary or {_fold(word)}), frozenset(every)


@functools.lru_cache(maxsize=65536)
def _english_forms(
    word: str, false_friends: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """(stems, stems + spelling) of a lower-cased Latin word; false friends get no stem."""
    if word in false_friends:
        return frozenset(), frozenset({word})
    parts = [word, *(p for p in _PART_SPLIT_RE.split(word) if p)] if "-" in word else [word]
    stems = frozenset(_stem(part) for part in parts if part not in false_friends)
    return stems, stems | {word}


def _tokens(text: str, false_friends: frozenset[str]) -> list[_Token]:
    """Every word and number of ``text`` with offsets and lemmas/stems."""
    tokens: list[_Token] = []
    previous_end = 0
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        lower = raw.lower()
        has_digit = bool(_DIGIT_RE.search(raw))
        has_letter = bool(_LETTER_RE.search(raw))
        kind = "mixed" if has_digit and has_letter else ("number" if has_digit else "word")
        script = _script(raw)
        if kind == "number":
            primary = any_forms = frozenset({"<num>"})
        elif len(raw) > _MAX_WORD_LENGTH:
            # No word is this long; don't let pasted garbage reach the analyser (or its cache).
            primary = any_forms = frozenset({_fold(lower)})
        elif script == "cyrillic":
            primary, any_forms = _russian_forms(lower)
        elif script == "latin":
            primary, any_forms = _english_forms(lower, false_friends)
        else:
            primary = any_forms = frozenset({_fold(lower)})
        tokens.append(
            _Token(
                start=match.start(),
                end=match.end(),
                text=raw,
                kind=kind,
                script=script,
                primary=primary,
                any_forms=any_forms,
                sentence_break=bool(_BREAK_RE.search(text, previous_end, match.start())),
            )
        )
        previous_end = match.end()
    return tokens


# --- phrase matching ------------------------------------------------------------------------


def _match_from(elements: tuple[_Element | None, ...], tokens: list[_Token], i: int) -> int | None:
    """Index of the last token of ``elements`` matched starting at token ``i``, or None."""
    element = elements[0]
    assert element is not None  # phrases never start with a gap
    if not element.matches(tokens[i]):
        return None
    if len(elements) == 1:
        return i
    gap, rest = 0, elements[1:]
    if rest[0] is None:
        gap, rest = _GAP_MAX_WORDS, rest[1:]
    for skip in range(gap + 1):
        j = i + 1 + skip
        # Phrases (and the words a gap skips) stay inside one sentence.
        if j >= len(tokens) or tokens[j].sentence_break:
            return None
        found = _match_from(rest, tokens, j)
        if found is not None:
            return found
    return None


def _phrase_spans(
    tokens: list[_Token], index: dict[str, tuple[_Phrase, ...]]
) -> Iterator[tuple[int, int, _Phrase]]:
    """(start, end, phrase) for every phrase of ``index`` found among ``tokens``."""
    for i, token in enumerate(tokens):
        seen: set[int] = set()
        for form in token.any_forms:
            for phrase in index.get(form, ()):
                if id(phrase) in seen:
                    continue
                seen.add(id(phrase))
                last = _match_from(phrase.elements, tokens, i)
                if last is not None:
                    yield token.start, tokens[last].end, phrase


# --- detectors ------------------------------------------------------------------------------

_CAPS_RE = re.compile(r"(?<![^\W_])[^\W\d_]{2,}(?![^\W_])")
_ROMAN_RE = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
# Cyrillic letters people type for Roman numerals («ХХ век»).
_ROMAN_LOOKALIKES = str.maketrans("ХІСМ", "XICM")
_TRAILING_PUNCTUATION = ".,;:!?)»\"'…"


def _is_roman_numeral(word: str) -> bool:
    latin = word.translate(_ROMAN_LOOKALIKES)
    return latin.isascii() and bool(_ROMAN_RE.fullmatch(latin))


@functools.lru_cache(maxsize=4096)
def _is_dictionary_word(word: str) -> bool:
    """A capitalised Russian dictionary word («ОЧЕНЬ», «ЖДУ») is emphasis, not a code.

    Interjections of two or three letters are the exception: «ГМ» or «ЫЫ» in capitals are
    far more often initials than a hum.
    """
    lower = word.lower()
    if _script(word) != "cyrillic" or not _morph().word_is_known(lower):
        return False
    tag = _morph().parse(lower)[0].tag
    return "Abbr" not in tag and (len(word) >= 4 or "INTJ" not in tag)


def _caps_abbreviations(text: str, safe: frozenset[str]) -> Iterator[tuple[int, int]]:
    """Spans of unexplained ALL-CAPS abbreviations («ДК», «ПВР», «VPN»)."""
    words = [m for m in _CAPS_RE.finditer(text) if m.group().isupper()]
    # Runs of capitalised words with nothing lower-case between them: three Latin ones in a
    # row are an English sentence in capitals («I MISS YOU»), which we cannot look up.
    runs: list[list[re.Match[str]]] = []
    for m in words:
        if runs and not any(c.islower() for c in text[runs[-1][-1].end() : m.start()]):
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in runs:
        latin_run = sum(_script(m.group()) == "latin" for m in run) >= 3
        for m in run:
            word = m.group()
            if word in safe or _is_roman_numeral(word) or _is_dictionary_word(word):
                continue
            if latin_run and _script(word) == "latin":
                continue
            yield m.start(), m.end()


def _foreign_passages(tokens: list[_Token], settings: dict[str, Any]) -> Iterator[tuple[int, int]]:
    """Passages a Russian-reading censor would send for translation."""
    min_words = int(settings["foreign_min_words"])
    min_other_letters = int(settings["foreign_min_other_letters"])
    min_east_slavic = int(settings["foreign_min_east_slavic_words"])

    def passage(run: list[_Token]) -> Iterator[tuple[int, int]]:
        other_letters = sum(len(t.text) for t in run if t.script == "other")
        if len(run) >= min_words or other_letters >= min_other_letters:
            yield run[0].start, run[-1].end

    # Runs of non-Cyrillic words; numbers and codes («e4», «2025») neither break nor extend
    # a run, so «Kf3 Kc6» is not a foreign passage (it is a code, found elsewhere).
    run: list[_Token] = []
    for token in tokens:
        if token.kind != "word":
            continue
        if token.script in ("latin", "other"):
            run.append(token)
        elif run:
            yield from passage(run)
            run = []
    if run:
        yield from passage(run)

    # Ukrainian and Belarusian are Cyrillic: recognise them by their own letters, per sentence.
    sentence: list[_Token] = []
    for item in [*tokens, None]:  # None: the end of the text closes the last sentence
        if item is None or item.sentence_break:
            if len(sentence) >= min_east_slavic:
                yield sentence[0].start, sentence[-1].end
            sentence = []
        if item is not None and not _EAST_SLAVIC_ONLY.isdisjoint(item.text):
            sentence.append(item)


# --- pages ----------------------------------------------------------------------------------

_PARAGRAPH_BREAK_RE = re.compile(r"\n[ \t]*\n\s*")


def estimate_pages(text: str) -> int:
    """Printed A4 pages of ``text`` as a letter in our layout (PT Serif 12pt, ~25 mm margins).

    Counts lines the way the PDF lays them out — every paragraph and line break starts a new
    line, a paragraph break adds half a line, the date and signature take about four lines —
    with constants measured by rendering letters (see ``settings`` in the rules file). A full
    page holds about 2,500 characters of ordinary paragraphs. 0 for empty or blank text,
    otherwise at least 1.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return 0
    settings = _ruleset().settings
    per_line = int(settings["chars_per_line"])
    lines = float(settings["first_page_overhead_lines"])
    for paragraph in _PARAGRAPH_BREAK_RE.split(text):
        for line in paragraph.split("\n"):
            lines += max(1, math.ceil(len(line.strip()) / per_line))
        lines += float(settings["paragraph_gap_lines"])
    return max(1, math.ceil(lines / float(settings["lines_per_page"])))


# --- checking -------------------------------------------------------------------------------


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
    ruleset = _ruleset()
    tokens = _tokens(text, ruleset.false_friends)

    findings: list[Finding] = []

    def add(start: int, end: int, rule: _Rule) -> None:
        if end > start:
            findings.append(Finding(start, end, rule.category, rule.severity, rule.id))

    for start, end, phrase in _phrase_spans(tokens, ruleset.phrase_index):
        add(start, end, ruleset.rules_by_id[phrase.rule])

    for rule in ruleset.rules:
        if lang not in rule.languages:
            continue
        for pattern in rule.regexes:
            for match in pattern.finditer(text):
                add(*_strip_span(text, match.start(), match.end()), rule)
        if rule.detector == "caps_abbreviations":
            for start, end in _caps_abbreviations(text, ruleset.safe_abbreviations):
                add(start, end, rule)
        elif rule.detector == "foreign_passages":
            for start, end in _foreign_passages(tokens, ruleset.settings):
                add(start, end, rule)
        elif rule.detector == "length":
            limit = max_pages if max_pages is not None else ruleset.settings["default_max_pages"]
            if estimate_pages(text) > int(limit):
                add(0, len(text), rule)

    # Known harmless phrases («Война и мир») silence their category inside them.
    allowed: dict[str, list[tuple[int, int]]] = {}
    for start, end, phrase in _phrase_spans(tokens, ruleset.allow_index):
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
