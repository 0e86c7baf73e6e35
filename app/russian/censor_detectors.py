"""The censor-risk detectors: what no word list finds.

Unexplained ALL-CAPS abbreviations, passages in a foreign language, and the printed length of
a letter (:func:`estimate_pages`, also shown by the composer).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from typing import Any

from app.russian.censor_rules import load_ruleset
from app.russian.censor_words import Token, morph_analyser, script_of

# Letters of Ukrainian and Belarusian that Russian does not have.
_EAST_SLAVIC_ONLY = frozenset("іїєґўІЇЄҐЎ")
_CAPS_RE = re.compile(r"(?<![^\W_])[^\W\d_]{2,}(?![^\W_])")
_ROMAN_RE = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
# Cyrillic letters people type for Roman numerals («ХХ век»).
_ROMAN_LOOKALIKES = str.maketrans("ХІСМ", "XICM")


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
    if script_of(word) != "cyrillic" or not morph_analyser().word_is_known(lower):
        return False
    tag = morph_analyser().parse(lower)[0].tag
    return "Abbr" not in tag and (len(word) >= 4 or "INTJ" not in tag)


def caps_abbreviations(text: str, safe: frozenset[str]) -> Iterator[tuple[int, int]]:
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
        latin_run = sum(script_of(m.group()) == "latin" for m in run) >= 3
        for m in run:
            word = m.group()
            if word in safe or _is_roman_numeral(word) or _is_dictionary_word(word):
                continue
            if latin_run and script_of(word) == "latin":
                continue
            yield m.start(), m.end()


def foreign_passages(tokens: list[Token], settings: dict[str, Any]) -> Iterator[tuple[int, int]]:
    """Passages a Russian-reading censor would send for translation."""
    min_words = int(settings["foreign_min_words"])
    min_other_letters = int(settings["foreign_min_other_letters"])
    min_east_slavic = int(settings["foreign_min_east_slavic_words"])

    def passage(run: list[Token]) -> Iterator[tuple[int, int]]:
        other_letters = sum(len(t.text) for t in run if t.script == "other")
        if len(run) >= min_words or other_letters >= min_other_letters:
            yield run[0].start, run[-1].end

    # Runs of non-Cyrillic words; numbers and codes («e4», «2025») neither break nor extend
    # a run, so «Kf3 Kc6» is not a foreign passage (it is a code, found elsewhere).
    run: list[Token] = []
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
    sentence: list[Token] = []
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
    settings = load_ruleset().settings
    per_line = int(settings["chars_per_line"])
    lines = float(settings["first_page_overhead_lines"])
    for paragraph in _PARAGRAPH_BREAK_RE.split(text):
        for line in paragraph.split("\n"):
            lines += max(1, math.ceil(len(line.strip()) / per_line))
        lines += float(settings["paragraph_gap_lines"])
    return max(1, math.ceil(lines / float(settings["lines_per_page"])))
