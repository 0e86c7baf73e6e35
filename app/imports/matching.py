"""Matching the rows of an import file to the records they refer to, and rows that repeat.

A row finds its record by ``external_id``; a row without one by ``source_url`` (when exactly one
record has it). A row with a new external id whose ``source_url`` belongs to exactly one record
without an external id adopts that record. Records that have no external id are exported as
``konvert-facility-<id>`` / ``konvert-prisoner-<id>``, which an import matches back. A prisoner
row's ``facility`` is matched the same way, to a facility (facility_refs).

The records are loaded in a few queries per file (ids in chunks), never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.imports import schema
from app.imports.cells import RowChecker, clean_text
from app.imports.parsing import SourceRow, quote
from app.models import Facility, Prisoner

_CHUNK = 500  # ids per IN (…) query

Record = Facility | Prisoner
# One index holds one kind of record: facilities or prisoners.
R = TypeVar("R", Facility, Prisoner)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class Index(Generic[R]):
    """The records a file's rows may match, loaded in a few queries."""

    def __init__(self, model: type[R], rows: Sequence[SourceRow], *options: Any) -> None:
        self.model: type[R] = model
        self.word = "facility" if model is Facility else "prisoner"
        ids = sorted({clean_text(row.cells.get("external_id")) for row in rows} - {""})
        urls = sorted({(row.cells.get("source_url") or "").strip() for row in rows} - {""})
        pks = sorted({pk for i in ids if (pk := schema.parse_synthetic_id(i, self.word))})
        self.by_external_id: dict[str, R] = {}
        self.by_url: dict[str, list[R]] = defaultdict(list)
        self.by_pk: dict[int, R] = {}
        for chunk in _chunks(ids):
            query = select(model).where(model.external_id.in_(chunk)).options(*options)
            for found in db.session.scalars(query):
                self.by_external_id[found.external_id or ""] = found
        for chunk in _chunks(urls):
            query = select(model).where(model.source_url.in_(chunk)).options(*options)
            for found in db.session.scalars(query):
                self.by_url[found.source_url or ""].append(found)
        for chunk in _chunks(pks):
            query = select(model).where(model.id.in_(chunk)).options(*options)
            for found in db.session.scalars(query):
                self.by_pk[found.id] = found

    def match(self, external_id: str | None, url: str | None) -> tuple[R | None, str | None]:
        """The record a row refers to (None: a new one), or a problem that stops the row."""
        if external_id:
            found = self.by_external_id.get(external_id)
            if found is not None:
                return found, None
            pk = schema.parse_synthetic_id(external_id, self.word)
            if pk is not None:
                found = self.by_pk.get(pk)
                if found is not None and found.external_id is None:
                    return found, None
                return None, _(
                    "external_id: %(value)s looks like an id from a Konvert export, "
                    "but no such record exists here",
                    value=quote(external_id),
                )
            if url:
                without_id = [r for r in self.by_url.get(url, []) if r.external_id is None]
                if len(without_id) == 1:
                    return without_id[0], None
            return None, None
        if url:
            candidates = self.by_url.get(url, [])
            if len(candidates) > 1:
                return None, _(
                    "source_url: %(count)d records have this address; add an external_id "
                    "to say which one is meant",
                    count=len(candidates),
                )
            return (candidates[0] if candidates else None), None
        return None, None


class Duplicates:
    """Rows that repeat an earlier row of the same file."""

    def __init__(self, where: Callable[[int], str]) -> None:
        self.where = where
        self.rows: dict[tuple[tuple[str, str], ...], int] = {}
        self.ids: dict[str, int] = {}
        self.urls: dict[str, int] = {}
        self.records: dict[int, int] = {}

    def check(self, row: SourceRow) -> str | None:
        """Why ``row`` repeats an earlier one, or None."""
        identical = tuple(sorted(row.cells.items()))
        if identical in self.rows:
            return _(
                "duplicate of %(where)s (the same row again)",
                where=self.where(self.rows[identical]),
            )
        self.rows[identical] = row.number
        external_id = clean_text(row.cells.get("external_id"))
        url = (row.cells.get("source_url") or "").strip()
        if external_id:
            if external_id in self.ids:
                return _(
                    "duplicate of %(where)s: the same external_id %(value)s",
                    where=self.where(self.ids[external_id]),
                    value=quote(external_id),
                )
            self.ids[external_id] = row.number
        elif url:
            if url in self.urls:
                return _(
                    "duplicate of %(where)s: the same source_url and no external_id",
                    where=self.where(self.urls[url]),
                )
            self.urls[url] = row.number
        return None

    def claim(self, found: Record, number: int) -> str | None:
        """Why ``found`` cannot be matched by this row too, or None."""
        earlier = self.records.setdefault(id(found), number)
        if earlier != number:
            return _("refers to the same record as %(where)s", where=self.where(earlier))
        return None


def match_row(
    index: Index[R],
    duplicates: Duplicates,
    row: RowChecker,
    number: int,
    reasons: list[str],
) -> R | None:
    """The record ``row`` refers to (None: a new one); what stops the row goes into ``reasons``."""
    external_id = row.values.get("external_id")
    url = row.values.get("source_url")
    if not external_id and not url and not row.problems:
        reasons.append(
            _(
                "needs an external_id or a source_url, so that importing the file again "
                "finds the same record"
            )
        )
    found, problem = index.match(external_id, url)
    if problem:
        reasons.append(problem)
    if found is not None and (claimed := duplicates.claim(found, number)):
        reasons.append(claimed)
    return found


def facility_refs(rows: Sequence[SourceRow]) -> dict[str, Facility]:
    """Facilities by the ids prisoner rows give (external ids or konvert-facility-<id>)."""
    refs = sorted({clean_text(row.cells.get("facility")) for row in rows} - {""})
    found: dict[str, Facility] = {}
    for chunk in _chunks(refs):
        query = select(Facility).where(Facility.external_id.in_(chunk))
        found.update((f.external_id or "", f) for f in db.session.scalars(query))
    pks = {
        pk: ref
        for ref in refs
        if ref not in found and (pk := schema.parse_synthetic_id(ref, "facility"))
    }
    for chunk in _chunks(sorted(pks)):
        query = select(Facility).where(Facility.id.in_(chunk), Facility.external_id.is_(None))
        found.update((pks[f.id], f) for f in db.session.scalars(query))
    return found
