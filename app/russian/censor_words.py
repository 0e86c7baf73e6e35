"""Words and phrases for the censor-risk check: tokens, word forms and phrase matching.

Tokenises a letter with character offsets, gives every Russian word its lemmas (pymorphy3) and
every English word its Snowball stem, compiles the rules' lemma phrases («начальник ..
колония|сизо») and finds them among the tokens. Pure language code with no Flask in it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pymorphy3
import snowballstemmer


def fold(word: str) -> str:
    """Lower-case and fold ё to е: «Ёлка» and «елка» are the same word to us."""
    return word.lower().replace("ё", "е")


@functools.cache
def morph_analyser() -> pymorphy3.MorphAnalyzer:
    """The morphological analyser: loading its dictionaries takes ~0.1 s, so once a process."""
    return pymorphy3.MorphAnalyzer()


_stemmers = threading.local()


def _stem(word: str) -> str:
    """Snowball English stem. Stemmer objects keep state, hence one per thread."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


# --- tokens ---------------------------------------------------------------------------------

# Letters/digits, joined by hyphens and apostrophes inside a word («кто-то», «don't»,
# «ЛГБТ-сообщество», «ИК-3») and by a dot or comma between digits («207.3», «12.05.2025»).
_TOKEN_RE = re.compile(r"[^\W_]+(?:(?:[-‐'’]|(?<=\d)[.,](?=\d))[^\W_]+)*")
_PART_SPLIT_RE = re.compile(r"[-‐'’]")
# Punctuation that ends a sentence: phrases do not run across it.
_BREAK_RE = re.compile(r"[.!?;…\n]")
_DIGIT_RE = re.compile(r"\d")
_LETTER_RE = re.compile(r"[^\W\d_]")
# Longer "words" (hyphenated ones included) are not looked up in the dictionaries.
_MAX_WORD_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Token:
    """A word or number of the letter: its offsets, script and lemmas (or stems)."""

    start: int
    end: int
    text: str
    kind: str  # "word", "number" or "mixed" (letters and digits)
    script: str  # "cyrillic", "latin", "other" or "none"
    primary: frozenset[str]  # the most likely lemma (Russian) or the stem (English)
    any_forms: frozenset[str]  # every parse's lemma and the spelling itself
    sentence_break: bool  # a sentence ends between the previous token and this one


def script_of(word: str) -> str:
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
def russian_forms(word: str) -> tuple[frozenset[str], frozenset[str]]:
    """(most likely lemmas, all lemmas) of a lower-cased Russian word, parts of «a-b» included.

    Cached per word: a letter repeats most of its words, and parsing is the expensive step.
    """
    morph = morph_analyser()
    parts = [word, *(p for p in _PART_SPLIT_RE.split(word) if p)] if "-" in word else [word]
    primary: set[str] = set()
    every: set[str] = {fold(word)}
    for part in parts:
        parses = morph.parse(part)
        if not parses:
            continue
        primary.add(fold(parses[0].normal_form))
        every.update(fold(p.normal_form) for p in parses)
        every.add(fold(part))
        # pymorphy normalises participles to the verb («обвиняемого» → обвинять), but the
        # prison vocabulary uses them as nouns: «обвиняемый», «заключённый».
        for parse in parses:
            if parse.tag.POS == "PRTF":
                noun_like = parse.inflect({"nomn", "sing", "masc"})
                if noun_like is not None:
                    every.add(fold(noun_like.word))
    return frozenset(primary or {fold(word)}), frozenset(every)


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


def tokenise(text: str, false_friends: frozenset[str]) -> list[Token]:
    """Every word and number of ``text`` with offsets and lemmas/stems."""
    tokens: list[Token] = []
    previous_end = 0
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        lower = raw.lower()
        has_digit = bool(_DIGIT_RE.search(raw))
        has_letter = bool(_LETTER_RE.search(raw))
        kind = "mixed" if has_digit and has_letter else ("number" if has_digit else "word")
        script = script_of(raw)
        if kind == "number":
            primary = any_forms = frozenset({"<num>"})
        elif len(raw) > _MAX_WORD_LENGTH:
            # No word is this long; don't let pasted garbage reach the analyser (or its cache).
            primary = any_forms = frozenset({fold(lower)})
        elif script == "cyrillic":
            primary, any_forms = russian_forms(lower)
        elif script == "latin":
            primary, any_forms = _english_forms(lower, false_friends)
        else:
            primary = any_forms = frozenset({fold(lower)})
        tokens.append(
            Token(
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


# --- phrases --------------------------------------------------------------------------------

_GAP = ".."
_GAP_MAX_WORDS = 2


@dataclass(frozen=True)
class _Element:
    """One position of a phrase: the lemmas (or stems) any of which may stand there."""

    alternatives: frozenset[str]
    any_parse: bool

    def matches(self, token: Token) -> bool:
        pool = token.any_forms if self.any_parse else token.primary
        return not self.alternatives.isdisjoint(pool)


@dataclass(frozen=True)
class Phrase:
    """A compiled lemma/stem phrase; ``None`` elements are gaps of up to two words."""

    elements: tuple[_Element | None, ...]
    rule: str
    category: str


def compile_phrase(
    text: str, *, mode: str, rule: str, category: str, false_friends: frozenset[str]
) -> Phrase:
    """Turn "начальник .. колония|сизо" into elements; ``mode`` is ru, ru_any_parse or en."""
    elements: list[_Element | None] = []
    for part in text.split():
        if part == _GAP:
            if not elements or elements[-1] is None:
                raise ValueError(f"rule {rule}: misplaced gap in {text!r}")
            elements.append(None)
            continue
        words = [fold(alt) for alt in part.split("|") if alt]
        if mode == "en":
            words = [_stem(w) for w in words if w not in false_friends]
        elements.append(_Element(frozenset(words), any_parse=mode == "ru_any_parse"))
    if not elements or elements[-1] is None:
        raise ValueError(f"rule {rule}: empty phrase or trailing gap in {text!r}")
    return Phrase(tuple(elements), rule, category)


def _match_from(elements: tuple[_Element | None, ...], tokens: list[Token], i: int) -> int | None:
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


def phrase_spans(
    tokens: list[Token], index: dict[str, tuple[Phrase, ...]]
) -> Iterator[tuple[int, int, Phrase]]:
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
