"""Reference codes of mailroom letters: 8 digits in two groups of four, the last a Damm check
digit, so that a prisoner can copy it by hand onto a reply and a volunteer can type it back.

The Damm algorithm catches every single-digit error and every swap of two adjacent digits,
the two mistakes people make most when copying numbers. Pure functions, no Flask.
"""

from __future__ import annotations

import secrets
import unicodedata

#: The quasigroup of order 10 from Damm's thesis (2004), with a zero diagonal.
_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
REFERENCE_DIGITS = 8


def damm_check_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits."""
    interim = 0
    for digit in digits:
        interim = _DAMM_TABLE[interim][int(digit)]
    return interim


def is_valid_reference(digits: str) -> bool:
    """True for 8 ASCII digits whose last is the Damm check digit of the others."""
    return (
        len(digits) == REFERENCE_DIGITS
        and digits.isascii()
        and digits.isdigit()
        and damm_check_digit(digits) == 0
    )


def new_reference() -> str:
    """A random reference: seven random digits and their check digit (the caller makes sure
    it is not in use). The first digit is never 0, so no spreadsheet eats it."""
    body = str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(6))
    return body + str(damm_check_digit(body))


def format_reference(digits: str) -> str:
    """The way a reference is shown and printed: ``4821-0937``."""
    return f"{digits[:4]}-{digits[4:]}"


def parse_reference(typed: str) -> str | None:
    """The 8 digits a person typed (any separators, spaces or dashes, and digits of any
    script), or None when there are not exactly 8 digits. The check digit is not checked
    here: `is_valid_reference` says whether they are a code at all."""
    digits = []
    for char in typed:
        if char.isdigit():
            digits.append(str(unicodedata.digit(char)))
        elif not (char.isspace() or unicodedata.category(char) in ("Pd", "Po")):
            return None
    joined = "".join(digits)
    return joined if len(joined) == REFERENCE_DIGITS else None
