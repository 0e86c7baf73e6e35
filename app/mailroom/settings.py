"""Changing the organisation's settings: the same rules for the admin page and for
`flask organisation set`, every change audited.

What is kept is the organisation's own data (its name, return address and limits), never
anything about supporters; the audit entry records the fields that changed, as for facilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import cache
from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l

from app.auth.permissions import Actor, require_admin
from app.domain import DomainError
from app.mailroom.organisation import current_organisation, organisation_for_update
from app.manage.audit import plain_value, record
from app.manage.common import RU_POSTCODE, assign
from app.models import Organisation, User

MAX_NAME_LENGTH = 200
MAX_ADDRESS_LINES = 6
MAX_ADDRESS_LINE_LENGTH = 100
MAX_POSTCODE_LENGTH = 12
#: The lowest and highest value of each number: replies take weeks, and a letter's key is
#: not kept for years.
NUMBER_BOUNDS = {
    "reply_window_days": (30, 730),
    "daily_intake_cap": (1, 10_000),
    "prisoner_daily_cap": (1, 100),
    # A claim must outlast a long letter's translation, and not hold it for days.
    "translation_claim_minutes": (15, 2880),
}
# Babel's territories include groupings and private-use codes that are no country.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})


@dataclass
class OrganisationSettings:
    """The organisation's editable settings (the columns of `Organisation` of those names)."""

    name: str
    return_address: str
    postcode: str
    country: str
    mailroom_open: bool
    reply_window_days: int
    daily_intake_cap: int
    prisoner_daily_cap: int
    next_run_on: date | None
    translation_review: bool
    translation_claim_minutes: int


@cache
def country_codes() -> frozenset[str]:
    """The ISO 3166 alpha-2 codes of countries an organisation can be in."""
    return frozenset(
        code
        for code in Locale("en").territories
        if isinstance(code, str) and re.fullmatch(r"[A-Z]{2}", code) and code not in _NOT_COUNTRIES
    )


def country_names(language: str) -> list[tuple[str, str]]:
    """(code, name) of every country, by name in ``language`` (for a select box)."""
    names = Locale.parse(language).territories
    return sorted(
        ((code, str(names.get(code, code))) for code in country_codes()),
        key=lambda pair: pair[1].casefold(),
    )


def settings_of(organisation: Organisation) -> OrganisationSettings:
    """The organisation's current settings, to show or to change a few of."""
    values = {item.name: getattr(organisation, item.name) for item in fields(OrganisationSettings)}
    return OrganisationSettings(**values)


def organisation_settings(actor: Actor) -> OrganisationSettings:
    """The organisation's settings as they are now (admins only)."""
    require_admin(actor)
    return settings_of(current_organisation())


def _cleaned(settings: OrganisationSettings) -> OrganisationSettings:
    lines = (line.strip() for line in settings.return_address.splitlines())
    return replace(
        settings,
        name=settings.name.strip(),
        return_address="\n".join(line for line in lines if line),
        postcode="".join(settings.postcode.split()),
        country=settings.country.strip().upper(),
    )


def _out_of(bounds: tuple[int, int], value: int) -> bool:
    return not bounds[0] <= value <= bounds[1]


def _problems(
    settings: OrganisationSettings, stored: Organisation, today: date
) -> dict[str, object]:
    """Every problem with the settings, by field."""
    errors: dict[str, object] = {}
    lines = settings.return_address.splitlines()
    if len(settings.name) > MAX_NAME_LENGTH:
        errors["name"] = _l("Use at most %(num)d characters.", num=MAX_NAME_LENGTH)
    if len(lines) > MAX_ADDRESS_LINES:
        errors["return_address"] = _l(
            "Use at most %(num)d lines: the envelope has no room for more.", num=MAX_ADDRESS_LINES
        )
    elif any(len(line) > MAX_ADDRESS_LINE_LENGTH for line in lines):
        errors["return_address"] = _l(
            "Use at most %(num)d characters a line.", num=MAX_ADDRESS_LINE_LENGTH
        )
    if settings.country not in country_codes():
        errors["country"] = _l("Use a two-letter country code (ISO 3166), e.g. RU.")
    if settings.country == "RU" and settings.postcode and not RU_POSTCODE.match(settings.postcode):
        errors["postcode"] = _l("A Russian postcode has exactly 6 digits.")
    elif len(settings.postcode) > MAX_POSTCODE_LENGTH:
        errors["postcode"] = _l("Use at most %(num)d characters.", num=MAX_POSTCODE_LENGTH)
    for field, bounds in NUMBER_BOUNDS.items():
        if _out_of(bounds, getattr(settings, field)):
            errors[field] = _l(
                "Give a whole number from %(low)d to %(high)d.", low=bounds[0], high=bounds[1]
            )
    if (
        "prisoner_daily_cap" not in errors
        and "daily_intake_cap" not in errors
        and settings.prisoner_daily_cap > settings.daily_intake_cap
    ):
        errors["prisoner_daily_cap"] = _l(
            "Cannot be more than the letters the mailroom takes in a day."
        )
    # A date already stored may have passed; only a newly chosen one must lie ahead.
    if settings.next_run_on not in (None, stored.next_run_on) and settings.next_run_on < today:
        errors["next_run_on"] = _l("The next print run cannot be in the past.")
    if settings.mailroom_open:
        errors.update(_opening_problems(settings))
    return errors


def _opening_problems(settings: OrganisationSettings) -> dict[str, object]:
    """Why the mailroom cannot open with these settings: replies need somewhere to return."""
    missing: dict[str, object] = {}
    if not settings.name:
        missing["name"] = _l("Give the organisation's name: the mailroom cannot open without it.")
    if not settings.return_address:
        missing["return_address"] = _l(
            "Give the return address: the mailroom cannot open without it."
        )
    if missing:
        missing["mailroom_open"] = _l(
            "The mailroom cannot open without the organisation's name and return address: they "
            "are printed on every envelope, and replies come back to them."
        )
    return missing


def update_organisation(
    actor: Actor, settings: OrganisationSettings, today: date | None = None
) -> dict[str, list[Any]]:
    """Save the organisation's settings (admins only) and audit what changed; returns the
    changes ({field: [old, new]}), or raises DomainError with every problem found."""
    return _save(require_admin(actor), settings, today or date.today())


def configure_organisation(
    settings: OrganisationSettings, today: date | None = None
) -> dict[str, list[Any]]:
    """`update_organisation` for the command line, which is trusted (no actor)."""
    return _save(None, settings, today or date.today())


def _save(user: User | None, settings: OrganisationSettings, today: date) -> dict[str, list[Any]]:
    organisation = organisation_for_update()
    settings = _cleaned(settings)
    if errors := _problems(settings, organisation, today):
        raise DomainError(errors)
    # Compared with the settings as they were (the defaults before the first save), not with
    # the row's history: a first save would otherwise list every default as a change.
    before = settings_of(organisation)
    assign(organisation, settings)
    after = settings_of(organisation)
    changes = {
        item.name: [
            plain_value(getattr(before, item.name)),
            plain_value(getattr(after, item.name)),
        ]
        for item in fields(OrganisationSettings)
        if getattr(before, item.name) != getattr(after, item.name)
    }
    if changes:
        record(user, "update", "organisation", organisation.id, changes)
    return changes
