"""WeasyPrint 70: the part Konvert uses (see typings/README.md)."""

from pathlib import Path
from typing import Any, BinaryIO, overload

from weasyprint.document import Document as Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

__version__: str

class HTML:
    def __init__(
        self,
        guess: Any = None,
        filename: str | Path | None = None,
        url: str | None = None,
        file_obj: BinaryIO | None = None,
        string: str | None = None,
        encoding: str | None = None,
        base_url: str | Path | None = None,
        url_fetcher: URLFetcher | None = None,
        media_type: str = "print",
    ) -> None: ...
    def render(
        self,
        font_config: FontConfiguration | None = None,
        counter_style: Any = None,
        color_profiles: Any = None,
        *,
        stylesheets: list[CSS] | None = None,
        **options: Any,
    ) -> Document: ...
    @overload
    def write_pdf(
        self,
        target: None = None,
        zoom: float = 1,
        finisher: Any = None,
        font_config: FontConfiguration | None = None,
        counter_style: Any = None,
        color_profiles: Any = None,
        **options: Any,
    ) -> bytes: ...
    @overload
    def write_pdf(
        self,
        target: str | Path | BinaryIO,
        zoom: float = 1,
        finisher: Any = None,
        font_config: FontConfiguration | None = None,
        counter_style: Any = None,
        color_profiles: Any = None,
        **options: Any,
    ) -> None: ...

class CSS:
    def __init__(
        self,
        guess: Any = None,
        filename: str | Path | None = None,
        url: str | None = None,
        file_obj: BinaryIO | None = None,
        string: str | None = None,
        encoding: str | None = None,
        base_url: str | Path | None = None,
        url_fetcher: URLFetcher | None = None,
        _check_mime_type: bool = False,
        media_type: str = "print",
        font_config: FontConfiguration | None = None,
        counter_style: Any = None,
        color_profiles: Any = None,
        matcher: Any = None,
        page_rules: Any = None,
        layers: Any = None,
        layer: Any = None,
    ) -> None: ...
