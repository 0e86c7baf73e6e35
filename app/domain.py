"""What every feature's services share: the error a form field can show, a page of a list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

Row = TypeVar("Row")


class FieldError(ValueError):
    """Input a service refuses; ``field`` names the form field (or API field) it belongs to.

    The message may be a lazy translation: it is rendered once, in the language of the
    request that caused it, and kept as plain (escaped-on-output) text.
    """

    def __init__(self, field: str, message: object) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = str(message)


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
