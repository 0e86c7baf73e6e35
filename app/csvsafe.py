"""The one guard against formula injection, for every CSV file Konvert writes.

A spreadsheet opening a CSV file runs a cell as a formula when it starts with ``=``, ``+``,
``-`` or ``@``, and Excel also when a tab or a carriage return comes first (OWASP's list);
a line feed or a NUL first is treated the same way here, since some spreadsheets drop them
before looking. ``=HYPERLINK(…)`` in a facility's name would then send whoever opens the
open-data export to another site. Such text cells are written with a ``'`` in front, which
spreadsheets take as "this is text" and do not show.

Numbers are not guarded: ``-3`` is a number in a spreadsheet either way, and a formula cannot
hide in one. So delays and counts stay numbers, and only text is touched.

Organizer exports are imported back (`unguard_cell`), and the pair is exact:
``unguard_cell(guard_cell(text)) == text`` for every text, including text that itself
starts with ``'``.
"""

from __future__ import annotations

import re

# What makes a spreadsheet read a cell as a formula when it comes first.
FORMULA_STARTS = frozenset("=+-@\t\r\n\0")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def needs_guard(text: str) -> bool:
    """Whether ``text`` must be written as ``'text`` so that a spreadsheet shows it as text.

    Text already starting with ``'`` before such a character is guarded too (``'=x`` becomes
    ``''=x``), so that `unguard_cell` can tell a guard it must remove from a quote that
    belongs to the text.
    """
    bare = text.lstrip("'")
    return bare[:1] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(bare)


def guard_cell(value: object) -> object:
    """The value to hand to ``csv.writer``: text that could run as a formula gets a ``'``.

    Numbers (and booleans, None) pass through unchanged, as does text that is a plain number.
    """
    if isinstance(value, str) and needs_guard(value):
        return "'" + value
    return value


def guard_text(text: str) -> str:
    """`guard_cell` for a cell known to be text."""
    return "'" + text if needs_guard(text) else text


def unguard_cell(text: str) -> str:
    """Undo `guard_cell` on a cell read back from a CSV file this module guarded."""
    if text.startswith("'") and needs_guard(text[1:]):
        return text[1:]
    return text
