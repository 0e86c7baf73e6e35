"""Postal addresses as they are written on Russian envelopes."""

from __future__ import annotations

from dataclasses import dataclass

ABROAD_COUNTRY_LINE = "РОССИЯ / RUSSIA"
RUSSIA_NAMES = frozenset({"", "ru", "rus", "russia", "россия", "рф", "российская федерация"})


@dataclass(frozen=True)
class PostalAddress:
    """An institution's address: full name, street, locality, region, postcode."""

    institution: str
    street: str
    locality: str
    region: str
    postcode: str


def recipient_name_line(dative_full_name: str, year_of_birth: int | None) -> str:
    """«Горинову Алексею Александровичу, 1961 г.р.»: the «Кому» line."""
    if year_of_birth:
        return f"{dative_full_name}, {year_of_birth} г.р."
    return dative_full_name


def recipient_lines(name_line: str, address: PostalAddress) -> list[str]:
    """The recipient block of an envelope, line by line, without the country line.

    The region is left out where it repeats the locality («г. Москва», «г. Москва»).
    """
    lines = [name_line, address.institution, address.street, address.locality]
    if address.region.strip().casefold() != address.locality.strip().casefold():
        lines.append(address.region)
    lines.append(address.postcode)
    return [line.strip() for line in lines if line and line.strip()]


def sends_from_abroad(sender_country: str | None) -> bool:
    """True when the sender's country (as typed) is not Russia."""
    return (sender_country or "").strip().casefold() not in RUSSIA_NAMES


def with_country_line(lines: list[str], sender_country: str | None) -> list[str]:
    """Add «РОССИЯ / RUSSIA» as the last line for mail sent from abroad."""
    return [*lines, ABROAD_COUNTRY_LINE] if sends_from_abroad(sender_country) else list(lines)
