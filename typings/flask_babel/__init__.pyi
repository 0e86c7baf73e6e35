"""Flask-Babel 4.0: the part Konvert uses (see typings/README.md)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from functools import cached_property
from typing import Any

from babel import Locale
from babel.support import NullTranslations
from flask import Flask

class Babel:
    def __init__(
        self,
        app: Flask | None = None,
        date_formats: dict[str, str | None] | None = None,
        configure_jinja: bool = True,
        *args: Any,
        **kwargs: Any,
    ) -> None: ...
    def init_app(
        self,
        app: Flask,
        default_locale: str = "en",
        default_domain: str = "messages",
        default_translation_directories: str = "translations",
        default_timezone: str = "UTC",
        locale_selector: Callable[[], str | Locale | None] | None = None,
        timezone_selector: Callable[[], str | None] | None = None,
    ) -> None: ...
    @property
    def default_locale(self) -> Locale: ...
    @property
    def domain(self) -> str: ...
    @cached_property
    def domain_instance(self) -> Domain: ...

class Domain:
    domain: list[str]
    def __init__(
        self, translation_directories: str | list[str] | None = None, domain: str = "messages"
    ) -> None: ...
    @property
    def translation_directories(self) -> list[str]: ...
    def as_default(self) -> None: ...
    # Translations (a subclass) for a known locale, NullTranslations outside a request.
    def get_translations(self) -> NullTranslations: ...
    def gettext(self, string: str, **variables: Any) -> str: ...
    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str: ...

def get_locale() -> Locale | None: ...
def get_translations() -> NullTranslations: ...
def force_locale(locale: str | Locale) -> AbstractContextManager[None]: ...
def format_date(
    date: date | datetime | None = None, format: str | None = None, rebase: bool = True
) -> str: ...
def format_datetime(
    datetime: datetime | None = None, format: str | None = None, rebase: bool = True
) -> str: ...
def gettext(string: str, **variables: Any) -> str: ...
def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str: ...

# At run time this returns a flask_babel.speaklater.LazyString, which is not a str subclass
# but behaves as one wherever text is used (str(), %, +, ==, hashing, __html__). It is typed
# as str so that it can go where WTForms and Konvert's own code expect text (form labels and
# messages are defined at import time and must stay lazy). What the type hides: isinstance(x,
# str) is False for it and json cannot serialise it, so str() a lazy string before either.
def lazy_gettext(string: str, **variables: Any) -> str: ...
