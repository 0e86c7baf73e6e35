"""Rendered HTML kept per process, for figures that read the same to everyone.

Figures change only when their snapshot is recomputed, so HTML rendered from them is kept
under a key that includes the snapshot's ``computed_at`` and the language, and is simply not
found again once the figures change. Only HTML without anything personal (no user, no form
token, no flash message) may be kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date

from flask import render_template
from markupsafe import Markup

from app.i18n import current_language
from app.stats.services import breakdown_from, breakdown_snapshot


class RenderedCache:
    """At most ``kept`` rendered pieces of HTML, the least recently used forgotten first."""

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._pieces: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> Markup:
        """The HTML kept under ``key`` in the current language, rendered now if missing."""
        key = (key, current_language())
        with self._lock:
            html = self._pieces.get(key)
            if html is not None:
                self._pieces.move_to_end(key)
                return html
        html = Markup(render())  # noqa: S704 - the output of an autoescaping template
        with self._lock:
            self._pieces[key] = html
            while len(self._pieces) > self._kept:
                self._pieces.popitem(last=False)
        return html


# Facility figures: a summary and two tables per facility, for the facility pages.
_facility_pieces = RenderedCache(kept=1024)


@dataclass(frozen=True)
class FacilityFiguresHtml:
    """A facility page's figures, rendered: the summary and the tables by channel and month."""

    summary: Markup
    tables: Markup


def facility_figures_html(facility_id: int, as_of: date) -> FacilityFiguresHtml:
    """The facility's figures as HTML, rendered once per snapshot and language."""
    stored = breakdown_snapshot(facility_id, as_of)

    def piece(template: str) -> Markup:
        return _facility_pieces.get_or_render(
            (template, facility_id, stored.computed_at),
            lambda: render_template(template, breakdown=breakdown_from(stored)),
        )

    return FacilityFiguresHtml(
        summary=piece("stats/_facility_summary.html"), tables=piece("stats/_facility_tables.html")
    )
