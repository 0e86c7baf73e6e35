"""Language selection: a chosen language (cookie) first, then the browser's preference."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import get_locale

LANGUAGE_COOKIE = "konvert_lang"
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}


def select_locale() -> str:
    """Flask-Babel's locale selector; outside a request (CLI, jobs) the default language."""
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_language() -> str:
    """The two-letter code of the language pages are shown in."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def inject_language_context() -> dict[str, Any]:
    """Template variables for the language switcher."""
    return {"current_language": current_language(), "language_names": LANGUAGE_NAMES}
