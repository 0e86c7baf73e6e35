"""Helpers shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy import Enum


def utcnow() -> datetime:
    """The current time in UTC, naive, as stored in the database (called per row, not once)."""
    return datetime.now(UTC).replace(tzinfo=None)


#: Times of a supporter's actions (writing, reporting, joining) are cut to this unit before
#: they are stored, so that the database cannot be matched against a visit in a server or
#: network log; the "What Konvert keeps" page shows it (app/privacy/kept.py).
SUPPORTER_TIME_UNIT = timedelta(hours=1)


def kept_time(moment: datetime) -> datetime:
    """A moment as it is stored: cut to `SUPPORTER_TIME_UNIT` (a divisor of a day)."""
    unit = int(SUPPORTER_TIME_UNIT.total_seconds())
    since_midnight = moment.hour * 3600 + moment.minute * 60 + moment.second
    cut = since_midnight - since_midnight % unit
    return moment.replace(hour=cut // 3600, minute=cut % 3600 // 60, second=0, microsecond=0)


def this_hour() -> datetime:
    """Now, as a supporter's action is stored: cut to `SUPPORTER_TIME_UNIT`."""
    return kept_time(utcnow())


def enum_column(enum_class: type[enum.Enum], length: int = 20) -> Enum:
    """A portable enum column storing the members' values as short strings."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
