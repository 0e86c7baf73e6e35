"""Translators' own settings: the languages they translate from and into, and the digest.

Admins set any translator's languages; a translator sets their own (and the digest choice).
Services only: the views commit.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from app.auth.permissions import Actor, require_admin, require_translator
from app.domain import DomainError
from app.extensions import db
from app.manage.audit import record
from app.models import Role, User

#: A language code as the letters carry it: two or three lowercase letters.
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
MAX_LANGUAGES_LENGTH = 100


def parse_languages(field: str, typed: str) -> str:
    """Typed codes ("en, de") as stored ("en,de"), or DomainError naming ``field``."""
    codes = [code.strip().lower() for code in re.split(r"[,\s]+", typed) if code.strip()]
    if any(not LANGUAGE_CODE.match(code) for code in codes):
        raise DomainError(field, _l("Give language codes separated by commas, e.g. en, de."))
    stored = ",".join(dict.fromkeys(codes))
    if len(stored) > MAX_LANGUAGES_LENGTH:
        raise DomainError(field, _l("Too many languages."))
    return stored


def _set_languages(user: User, translates_from: str, translates_into: str) -> None:
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for field, typed in (
        ("translates_from", translates_from),
        ("translates_into", translates_into),
    ):
        try:
            values[field] = parse_languages(field, typed)
        except DomainError as error:
            errors.update(error.errors)
    if errors:
        raise DomainError(errors)
    user.translates_from = values["translates_from"]
    user.translates_into = values["translates_into"]


def set_translator_languages(
    actor: Actor, user_id: int, translates_from: str, translates_into: str
) -> User:
    """An admin sets a translator's languages (audited)."""
    admin = require_admin(actor)
    user = db.session.get(User, user_id)
    if user is None or user.role is not Role.TRANSLATOR:
        raise DomainError("user", _l("This account is not a translator's."))
    before = [user.translates_from, user.translates_into]
    _set_languages(user, translates_from, translates_into)
    after = [user.translates_from, user.translates_into]
    if before != after:
        record(admin, "update", "user", user.id, {"languages": [before, after]})
    return user


def set_own_translation_settings(
    actor: Actor, translates_from: str, translates_into: str, wants_digest: bool
) -> User:
    """A translator (or an organizer or admin who translates) sets their own languages and
    whether they get the daily digest."""
    user = require_translator(actor)
    _set_languages(user, translates_from, translates_into)
    user.wants_digest = wants_digest
    return user
