"""What the organizers' services share: the small checks and steps that prisoners,
facilities and officials all go through.

Every service takes the acting user and checks that they are an organizer first. Changes are
added to the session together with their audit entries; the caller commits once.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

LIST_PER_PAGE = 100
RU_POSTCODE = re.compile(r"^\d{6}$")


def url_problem(url: str | None) -> object | None:
    """Why ``url`` cannot be a source link (None when it can, or when there is none)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        return _l("Give a web address starting with http:// or https://.")
    return None


def assign(instance: object, data: DataclassInstance) -> None:
    """Copy every field of the dataclass ``data`` onto the record of the same field names."""
    for item in fields(data):
        setattr(instance, item.name, getattr(data, item.name))
