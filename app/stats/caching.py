"""HTTP caching for public statistics: the same answer for everyone, cacheable for minutes."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from flask import request
from werkzeug.wrappers import Response

R = TypeVar("R", bound=Response)  # Flask's Response or Werkzeug's: the caller's own class

PUBLIC_MAX_AGE = 300  # seconds: reports arrive a few at a time; five minutes stale is fine


def cache_publicly(
    response: R,
    last_modified: datetime | None = None,
    *,
    per_language: bool = False,
    max_age: int = PUBLIC_MAX_AGE,
) -> R:
    """Mark a statistics response cacheable, with a validator, and answer 304 when unchanged.

    With ``max_age=0`` caches must ask every time (cheap: a 304 when nothing changed), which
    pages need: a writer who just reported a letter expects to see it counted. A response
    that sets a cookie stays private: a shared cache must never hand one person's cookie to
    another.
    """
    freshness = f"max-age={max_age}" if max_age else "no-cache"
    scope = "private" if "Set-Cookie" in response.headers else "public"
    response.headers["Cache-Control"] = f"{scope}, {freshness}"
    if per_language:
        response.vary.update(("Accept-Language", "Cookie"))
    if last_modified is not None:
        response.last_modified = last_modified
    if not response.is_streamed:
        response.add_etag()
        response.make_conditional(request)
    return response
