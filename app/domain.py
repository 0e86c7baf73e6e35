"""What every feature's services share: the one error they raise (`DomainError`), a page of
a list, and the two query helpers lists are built with (`paginate`, `contains_pattern`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeAlias, TypeVar, TypeVarTuple, overload

from sqlalchemy import Row as ResultRow
from sqlalchemy import Select, func, select

from app.extensions import db

Row = TypeVar("Row")
Other = TypeVar("Other")
Entity = TypeVar("Entity")
Columns = TypeVarTuple("Columns")
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

# Ids are 32-bit integers on PostgreSQL (and SQLite refuses larger numbers outright): a larger
# id, page or filter from a URL is refused before it reaches the database.
MAX_ID = 2**31 - 1


def as_id(text: str) -> int:
    """An id from a query string; ValueError when it is not a number an id can be.

    Pass it as ``request.args.get(name, type=as_id)``, which then gives None for such text.
    """
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"{number} is not an id")
    return number


def id_choice(value: object) -> int:
    """WTForms' ``coerce`` for a choice among ids: a ValueError (the form's "not a valid
    choice") for what no id can be, instead of a number the database refuses."""
    return as_id(str(value))


def optional_id_choice(value: object) -> int | None:
    """`id_choice` for a choice that may be left empty ("", "None": no choice)."""
    if value in (None, "", "None"):
        return None
    return id_choice(value)


# The escape character of every LIKE pattern built by `contains_pattern`; pass it as
# ``column.like(pattern, escape=LIKE_ESCAPE)``.
LIKE_ESCAPE = "\\"


class DomainError(ValueError):
    """Input or an action a service refuses, as ``{field: message}``: every problem found.

    A field names the form field (or API field) the message belongs to; messages about no
    particular field use a name no form has (e.g. "submit"), and forms show them above
    their fields. Raise it with one field, ``DomainError("email", message)``, or with
    several, ``DomainError({"name": ..., "postcode": ...})``. Messages may be lazy
    translations: each is rendered once, in the language of the request that caused it, and
    kept as plain (escaped-on-output) text. How it reaches people is `app.refusals`' job.
    """

    def __init__(self, errors: str | Mapping[str, object], message: object = None) -> None:
        found = {errors: message} if isinstance(errors, str) else dict(errors)
        if not found or any(text is None for text in found.values()):
            raise TypeError("a DomainError needs at least one field and its message")
        self.errors: dict[str, str] = {field: str(text) for field, text in found.items()}
        super().__init__("; ".join(f"{field}: {text}" for field, text in self.errors.items()))

    @property
    def field(self) -> str:
        """The first field refused (the API reports one)."""
        return next(iter(self.errors))

    @property
    def message(self) -> str:
        """The first field's message."""
        return self.errors[self.field]


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list: its rows, which page, and how many rows there are in all."""

    rows: list[Row]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Number of pages, at least one."""
        return max(1, math.ceil(self.total / self.per_page))

    def with_rows(self, rows: list[Other]) -> Page[Other]:
        """The same page holding other rows: the fetched rows turned into what the list shows."""
        return Page(rows=rows, page=self.page, per_page=self.per_page, total=self.total)


@overload
def paginate(
    statement: Select[Entity],
    page: int,
    per_page: int,
    *,
    count: AnySelect | None = None,
    scalars: Literal[True],
) -> Page[Entity]: ...


@overload
def paginate(
    statement: Select[*Columns],
    page: int,
    per_page: int,
    *,
    count: AnySelect | None = None,
    scalars: Literal[False] = False,
) -> Page[ResultRow[*Columns]]: ...


def paginate(
    statement: AnySelect,
    page: int,
    per_page: int,
    *,
    count: AnySelect | None = None,
    scalars: bool = False,
) -> Page[Any]:
    """One page of an ordered ``statement`` and the number of rows it has in all.

    Two queries: the count, then the page. A page number below 1 is read as 1; one past the
    end gives an empty page with the right total. ``count``, when given, is counted instead
    of ``statement``: a cheaper statement with the same rows (e.g. without the joins that only
    fetch what is shown). With ``scalars`` the rows are the first column (one entity per
    row); otherwise they are result rows, to unpack.
    """
    page = max(page, 1)
    counted = statement if count is None else count
    # The order matters only for the page; counting an ordered subquery sorts for nothing.
    total = db.session.scalar(select(func.count()).select_from(counted.order_by(None).subquery()))
    result = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page))
    rows = list(result.scalars()) if scalars else list(result)
    return Page(rows=rows, page=page, per_page=per_page, total=total or 0)


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own %, _ and backslash taken literally.

    Use it with ``escape=LIKE_ESCAPE``.
    """
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"
