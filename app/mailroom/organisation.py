"""The organisation running this Konvert: one row of settings, read everywhere, changed by
admins (the admin page and `flask organisation set`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Organisation
from app.models.mailroom import (
    DEFAULT_CLAIM_MINUTES,
    DEFAULT_DAILY_INTAKE_CAP,
    DEFAULT_PRISONER_DAILY_CAP,
    DEFAULT_REPLY_WINDOW_DAYS,
)

ORGANISATION_ID = 1


def current_organisation() -> Organisation:
    """The organisation's settings; before anyone set them, the defaults (mailroom closed),
    not added to the session."""
    found = db.session.scalar(select(Organisation).where(Organisation.id == ORGANISATION_ID))
    return found if found is not None else Organisation(id=ORGANISATION_ID, **_defaults())


def organisation_for_update() -> Organisation:
    """The organisation's row, added to the session when it did not exist yet (the caller
    commits)."""
    found = db.session.get(Organisation, ORGANISATION_ID, with_for_update=True)
    if found is None:
        found = Organisation(id=ORGANISATION_ID, **_defaults())
        db.session.add(found)
    return found


def mailroom_open() -> bool:
    """True when writers may send letters through the organisation."""
    return current_organisation().can_take_letters


def _defaults() -> dict[str, object]:
    # Column defaults apply only at INSERT: a transient default object needs them spelled out.
    return {
        "name": "",
        "return_address": "",
        "postcode": "",
        "country": "RU",
        "mailroom_open": False,
        "reply_window_days": DEFAULT_REPLY_WINDOW_DAYS,
        "daily_intake_cap": DEFAULT_DAILY_INTAKE_CAP,
        "prisoner_daily_cap": DEFAULT_PRISONER_DAILY_CAP,
        "next_run_on": None,
        "translation_review": False,
        "translation_claim_minutes": DEFAULT_CLAIM_MINUTES,
    }


@dataclass(frozen=True)
class Sender:
    """The organisation as the sender on its envelopes."""

    name: str
    address: str
    country: str


def organisation_sender() -> Sender:
    """The organisation's name and return address (postcode last), as envelopes print them."""
    organisation = current_organisation()
    lines = [*organisation.return_lines, organisation.postcode.strip()]
    return Sender(
        name=organisation.name.strip(),
        address="\n".join(line for line in lines if line),
        country=organisation.country,
    )
