from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO, overload

class Page:
    width: float
    height: float

class Document:
    pages: list[Page]
    def copy(self, pages: Iterable[Page] | str = "all") -> Document: ...
    @overload
    def write_pdf(
        self, target: None = None, zoom: float = 1, finisher: Any = None, **options: Any
    ) -> bytes: ...
    @overload
    def write_pdf(
        self,
        target: str | Path | BinaryIO,
        zoom: float = 1,
        finisher: Any = None,
        **options: Any,
    ) -> None: ...
