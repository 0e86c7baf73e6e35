"""One cell's text ↔ a typed "domain value": the checks every column of a file is built from.

A domain value is a str, None, a date, an enum member, a bool, an int or a tuple of language
codes. RowChecker turns the cells of one row into domain values, collecting every problem with
its column; app.imports.schema says which column gets which check. as_text and as_json write
domain values back into a file (an export) and into reports.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _

from app.imports.parsing import quote
from app.models import Facility, Prisoner

ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
YEAR = re.compile(r"^\d{4}$")
_SPACES = re.compile(r"[ \t\u00a0]+")
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "да", "д"})
FALSE_WORDS = frozenset({"no", "n", "false", "0", "нет", "н"})
EARLIEST_BIRTH_YEAR = 1900


def clean_text(value: str | None, multiline: bool = False) -> str:
    """Stray whitespace removed: around the value, and runs of spaces inside one-line values."""
    if not value:
        return ""
    if multiline:
        lines = [line.rstrip() for line in value.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip()
    return _SPACES.sub(" ", " ".join(value.split())).strip()


def _fold(value: str) -> str:
    """A choice as typed, folded for lookup: case, ё, spaces and hyphens do not matter."""
    return re.sub(r"[\s\-]+", "_", value.strip().casefold().replace("ё", "е"))


def choice_table(pairs: Mapping[str, Any]) -> dict[str, Any]:
    """A lookup table of choices: the names as typed, folded (see RowChecker.choice)."""
    return {_fold(key): value for key, value in pairs.items()}


def max_length(model: type[Facility] | type[Prisoner], attribute: str) -> int | None:
    """The length limit of a string column, from the model."""
    column = model.__table__.columns[attribute]
    return getattr(column.type, "length", None)


class CellRejected(Exception):
    """One cell's value cannot be used; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class RowChecker:
    """Turns one row's cells into domain values, collecting every problem with its column.

    ``values`` gets an entry only for the columns the row has.
    """

    cells: Mapping[str, str]
    today: date

    def __post_init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.problems: list[str] = []

    def fail(self, column: str, message: str) -> None:
        """Record a problem with one column."""
        self.problems.append(f"{column}: {message}")

    def has(self, column: str) -> bool:
        """Whether the row has the column at all (it may still be empty)."""
        return column in self.cells

    def take(
        self,
        column: str,
        convert: Callable[[str], Any],
        *,
        required: bool = False,
        empty: Any = None,
    ) -> None:
        """Convert the cell when present; an empty cell gives ``empty`` unless required."""
        if column not in self.cells:
            if required:
                self.fail(column, _("is required"))
            return
        raw = self.cells[column].strip()
        if not raw:
            if required:
                self.fail(column, _("is required"))
            else:
                self.values[column] = empty
            return
        try:
            self.values[column] = convert(raw)
        except CellRejected as error:
            self.fail(column, error.message)

    def text(
        self,
        column: str,
        limit: int | None,
        *,
        required: bool = False,
        multiline: bool = False,
        empty: str | None = "",
    ) -> None:
        """Free text, whitespace cleaned, at most ``limit`` characters."""

        def convert(raw: str) -> str:
            value = clean_text(raw, multiline)
            if limit is not None and len(value) > limit:
                raise CellRejected(
                    _(
                        "is too long: %(length)d characters, at most %(limit)d",
                        length=len(value),
                        limit=limit,
                    )
                )
            return value

        self.take(column, convert, required=required, empty=empty)

    def choice(self, column: str, choices: Mapping[str, Any], *, required: bool = False) -> None:
        """One of a fixed set of values (aliases allowed)."""
        names = sorted({member.value for member in choices.values()})

        def convert(raw: str) -> Any:
            try:
                return choices[_fold(raw)]
            except KeyError:
                raise CellRejected(
                    _(
                        "%(value)s is not one of: %(choices)s",
                        value=quote(raw),
                        choices=", ".join(names),
                    )
                ) from None

        self.take(column, convert, required=required)

    def date(self, column: str) -> None:
        """A date that exists and is not in the future."""
        self.take(column, self._date)

    # dt.date: inside the class, after the date() method, "date" names that method.
    def _date(self, raw: str) -> dt.date:
        found = parse_date(raw)
        if found > self.today:
            raise CellRejected(_("%(value)s is in the future", value=quote(raw)))
        return found

    def birth(self, column: str) -> None:
        """A full date of birth or a year alone."""

        def convert(raw: str) -> dt.date | int:
            if YEAR.match(raw):
                year = int(raw)
                if not EARLIEST_BIRTH_YEAR <= year <= self.today.year:
                    raise CellRejected(
                        _(
                            "%(value)s is not a possible year of birth",
                            value=quote(raw),
                        )
                    )
                return year
            found = self._date(raw)
            if found.year < EARLIEST_BIRTH_YEAR:
                raise CellRejected(
                    _("%(value)s is not a possible date of birth", value=quote(raw))
                )
            return found

        self.take(column, convert)

    def boolean(self, column: str, empty: bool) -> None:
        """yes/no, true/false, 1/0, да/нет."""

        def convert(raw: str) -> bool:
            word = raw.casefold()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise CellRejected(_("%(value)s is not yes or no", value=quote(raw)))

        self.take(column, convert, empty=empty)

    def url(self, column: str, limit: int | None) -> None:
        """An http or https address."""

        def convert(raw: str) -> str:
            parts = urlsplit(raw)
            if parts.scheme not in ("http", "https") or not parts.netloc or " " in raw:
                raise CellRejected(
                    _("%(value)s is not a web address (http:// or https://)", value=quote(raw))
                )
            if limit is not None and len(raw) > limit:
                raise CellRejected(_("is too long: at most %(limit)d characters", limit=limit))
            return raw

        self.take(column, convert)

    def integer(self, column: str, low: int, high: int) -> None:
        """A whole number between ``low`` and ``high``."""

        def convert(raw: str) -> int:
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise CellRejected(
                    _(
                        "%(value)s is not a whole number from %(low)d to %(high)d",
                        value=quote(raw),
                        low=low,
                        high=high,
                    )
                )
            return int(raw)

        self.take(column, convert)

    def external_id(self, model: type[Facility] | type[Prisoner]) -> None:
        """The id a row is matched on; never cleared by an empty cell."""
        self.text("external_id", max_length(model, "external_id"), empty=None)
        if self.values.get("external_id") is None:
            self.values.pop("external_id", None)


def parse_date(raw: str) -> date:
    """YYYY-MM-DD (or DD.MM.YYYY); CellRejected for text that is not a date or a day that is
    not."""
    if match := ISO_DATE.match(raw):
        year, month, day = (int(part) for part in match.groups())
    elif match := DOTTED_DATE.match(raw):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise CellRejected(_("%(value)s is not a date; write it as YYYY-MM-DD", value=quote(raw)))
    try:
        return date(year, month, day)
    except ValueError:
        raise CellRejected(_("%(value)s is not a real date", value=quote(raw))) from None


def as_text(value: Any) -> str:
    """A domain value as a CSV cell (and as shown in reports)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        # What spreadsheets and other programs read as a boolean; the import reads it back.
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def as_json(value: Any) -> Any:
    """A domain value as a JSON value: booleans and numbers stay typed, the rest is text."""
    if isinstance(value, bool | int) or value is None:
        return value
    return as_text(value)
