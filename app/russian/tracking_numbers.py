"""Postal tracking numbers: Russian domestic (14 digits) and UPU S10 (RA123456789RU)."""

from __future__ import annotations

import re

DOMESTIC_PATTERN = re.compile(r"^\d{14}$")
S10_PATTERN = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial number."""
    remainder = sum(int(digit) * weight for digit, weight in zip(serial, S10_WEIGHTS, strict=True))
    check = 11 - remainder % 11
    if check == 10:
        return 0
    if check == 11:
        return 5
    return check


def domestic_check_digit(first_13: str) -> int:
    """The check digit of a Russian domestic tracking number (ШПИ) from its first 13 digits:
    the digits in odd places (1st, 3rd, …) count three times, those in even places once, and
    the check digit tops the sum up to a multiple of ten."""
    odd = sum(int(digit) for digit in first_13[0::2])
    even = sum(int(digit) for digit in first_13[1::2])
    return (10 - (3 * odd + even) % 10) % 10


def russian_post_tracking_url(number: str) -> str:
    """The page on Russian Post's site that follows ``number`` (a link the writer may open:
    nothing is loaded from it)."""
    return f"https://www.pochta.ru/tracking?barcode={normalize_tracking_number(number)}"


def normalize_tracking_number(raw: str) -> str:
    """Upper-case and drop spaces and dashes people type between groups."""
    return re.sub(r"[\s-]", "", raw).upper()


def tracking_number_problem(raw: str) -> str | None:
    """None when the number is valid, else a short code: 'format' or 'check_digit'."""
    number = normalize_tracking_number(raw)
    if DOMESTIC_PATTERN.match(number):
        return None if int(number[13]) == domestic_check_digit(number[:13]) else "check_digit"
    match = S10_PATTERN.match(number)
    if not match:
        return "format"
    if int(match.group(3)) != s10_check_digit(match.group(2)):
        return "check_digit"
    return None
