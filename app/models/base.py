"""Helpers shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum


def utcnow() -> datetime:
    """The current time in UTC, naive, as stored in the database (called per row, not once)."""
    return datetime.now(UTC).replace(tzinfo=None)


def this_hour() -> datetime:
    """The current UTC hour (minutes and below cut off): when a supporter did something,
    stored no more precisely than needed, so that the database cannot be matched against a
    visit in a server or network log."""
    return utcnow().replace(minute=0, second=0, microsecond=0)


def enum_column(enum_class: type[enum.Enum], length: int = 20) -> Enum:
    """A portable enum column storing the members' values as short strings."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
