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


def normalize_tracking_number(raw: str) -> str:
    """Upper-case and drop spaces and dashes people type between groups."""
    return re.sub(r"[\s-]", "", raw).upper()


def tracking_number_problem(raw: str) -> str | None:
    """None when the number is valid, else a short code: 'format' or 'check_digit'."""
    number = normalize_tracking_number(raw)
    if DOMESTIC_PATTERN.match(number):
        return None
    match = S10_PATTERN.match(number)
    if not match:
        return "format"
    if int(match.group(3)) != s10_check_digit(match.group(2)):
        return "check_digit"
    return None
