"""Language selection: a chosen language (cookie) first, then the browser's preference."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from babel.support import NullTranslations
from flask import current_app, g, has_request_context, request
from flask_babel import Babel, Domain, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

LANGUAGE_COOKIE = "konvert_lang"
#: How long the browser remembers the chosen language (the cookie's max-age).
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
LANGUAGE_NAMES = {"en": "English", "ru": "Русский"}
# Where a domain remembers its translations: beside the locale Flask-Babel keeps in ``g``.
_REMEMBERED = "konvert_translations"


class RememberingDomain(Domain):
    """Flask-Babel's message domain, looking the translations up once per context.

    Flask-Babel finds them afresh for every string, about 40 µs each, and a page translates
    dozens. They are remembered only while the very locale object Flask-Babel chose stays
    current: ``force_locale`` (emails in the recipient's language) replaces it, and so
    switches the translations too.
    """

    def get_translations(self) -> NullTranslations:
        """The translations for the current locale."""
        state = g.get("_flask_babel") if g else None
        locale = getattr(state, "babel_locale", None)
        if locale is None:  # no locale chosen yet in this context: Flask-Babel chooses it now
            return super().get_translations()
        remembered = getattr(state, _REMEMBERED, None)
        if remembered is None or remembered[0] is not self or remembered[1] is not locale:
            remembered = (self, locale, super().get_translations())
            setattr(state, _REMEMBERED, remembered)
        return remembered[2]


class KonvertBabel(Babel):
    """Flask-Babel with the remembering domain."""

    @cached_property
    def domain_instance(self) -> Domain:
        """The default message domain (Flask-Babel's own, remembering its translations)."""
        return RememberingDomain(domain=self.domain)


def select_locale() -> str:
    """Flask-Babel's locale selector; outside a request (CLI, jobs) the default language."""
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen is not None and chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages)
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def current_language() -> str:
    """The two-letter code of the language pages are shown in."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def inject_language_context() -> dict[str, Any]:
    """Template variables: the language switcher's, and the page's translation functions."""
    return {
        "current_language": current_language(),
        "language_names": LANGUAGE_NAMES,
        **_bound_gettext(get_translations()),
    }


def _bound_gettext(translations: NullTranslations) -> dict[str, Any]:
    """``gettext`` and ``ngettext`` for one rendering, bound to its translations.

    Flask-Babel's template functions look the translations up again for every string, through
    several context-local proxies: a page translates a hundred strings, and that was a tenth of
    its time. Bound once per render (in the context, where ``_`` and ``{% trans %}`` find them
    before the environment's globals), they behave as Jinja's newstyle gettext does: the
    translation is marked safe under autoescape and always %-formatted with its variables.
    Macros imported without context keep using Flask-Babel's globals, which give the same text.
    """

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = translations.ugettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 (our own catalogue, as Jinja's gettext does)
        return text % variables

    @pass_context
    def ngettext(
        context: Context, singular: str, plural: str, count: int, **variables: Any
    ) -> str:
        variables.setdefault("num", count)
        text = translations.ungettext(singular, plural, count)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 (our own catalogue, as Jinja's gettext does)
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext}
