"""Numbers as the reader writes them: «27,4» and «9,7 %» in Russian, "27.4" and "9.7%" in
English (Babel's locale data, through the page's locale)."""

from __future__ import annotations

from babel import Locale
from babel.numbers import format_decimal, format_percent
from flask import Flask
from flask_babel import get_locale


def _locale() -> Locale:
    return get_locale() or Locale("en")


def format_days(value: float) -> str:
    """A number of days (a median, a percentile) with at most one decimal."""
    return format_decimal(value, format="#,##0.#", locale=_locale())


def format_share(share: float) -> str:
    """A share (0.097) as a percentage with one decimal, spaced as the locale spaces it."""
    locale = _locale()
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
    return format_percent(share, format=pattern, locale=locale)


def register_number_filters(app: Flask) -> None:
    """The template filters ``days`` and ``share``."""
    app.jinja_env.filters["days"] = format_days
    app.jinja_env.filters["share"] = format_share
