"""Computed figures kept in ``stats_snapshot``, read and written outside the ORM session.

Rows are read as plain values (never as ORM objects that a long session could hold on to) and
written on a connection of their own, so that a page view that stores a snapshot does not
commit or expire anything of the request's session.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import StatsSnapshot
from app.models.base import utcnow

OVERVIEW = "overview"
# Set in a session's info while it holds outcome changes not yet committed.
UNCOMMITTED_CHANGES = "konvert_stats_uncommitted"
_table = StatsSnapshot.__table__

# Payloads this process has decoded, by key and the time they were computed: a stored payload
# never changes without a new computed_at, so a page view reads two small columns instead of
# decoding the JSON again (the /stats overview is about 1 MB). Shared and read-only.
_decoded: OrderedDict[tuple[str, datetime], dict[str, Any]] = OrderedDict()
_decoded_lock = threading.Lock()
_DECODED_KEPT = 512
# The payload of a row claimed for recomputing (see claim_stale): figures of no day.
_CLAIMED: dict[str, Any] = {"as_of": None}


def facility_key(facility_id: int) -> str:
    """The snapshot key of one facility's figures."""
    return f"facility:{facility_id}"


@dataclass(frozen=True)
class Snapshot:
    """A stored payload, when it was computed, and whether reports came in since."""

    payload: dict[str, Any]
    computed_at: datetime
    stale: bool


def read(key: str) -> Snapshot | None:
    """The snapshot under ``key``, if any. Its payload may be shared: never change it."""
    row = db.session.execute(
        select(_table.c.computed_at, _table.c.stale).where(_table.c.key == key)
    ).first()
    if row is None:
        return None
    computed_at, stale = row.computed_at, row.stale
    payload = _remembered(key, computed_at)
    if payload is None:
        full = db.session.execute(
            select(_table.c.payload, _table.c.computed_at, _table.c.stale).where(
                _table.c.key == key
            )
        ).first()
        if full is None:  # forgotten a moment ago
            return None
        payload, computed_at, stale = full.payload, full.computed_at, full.stale
        _remember(key, computed_at, payload)
    return Snapshot(payload, computed_at, stale)


def _remembered(key: str, computed_at: datetime) -> dict[str, Any] | None:
    with _decoded_lock:
        payload = _decoded.get((key, computed_at))
        if payload is not None:
            _decoded.move_to_end((key, computed_at))
        return payload


def _remember(key: str, computed_at: datetime, payload: dict[str, Any]) -> None:
    with _decoded_lock:
        _decoded[(key, computed_at)] = payload
        while len(_decoded) > _DECODED_KEPT:
            _decoded.popitem(last=False)


def store(key: str, payload: dict[str, Any]) -> Snapshot:
    """Save a freshly computed payload under ``key`` (keeping the stale mark, if reports came
    in while it was computed)."""

    def replace_or_insert(connection: Connection, computed_at: datetime) -> bool:
        changed = connection.execute(
            update(_table)
            .where(_table.c.key == key)
            .values(payload=payload, computed_at=computed_at)
        ).rowcount
        return bool(changed) or _insert(connection, key, payload, computed_at)

    return _save(key, payload, replace_or_insert)


def store_if_unchanged(key: str, payload: dict[str, Any], seen: Snapshot | None) -> Snapshot:
    """Save figures computed from what was committed when ``seen`` was read (the row then, or
    None when there was none), unless a report marked that row out of date meanwhile; the
    figures are returned either way.

    Optimistic: the row is replaced only while it still has the ``computed_at`` it had and no
    stale mark (PostgreSQL checks the condition again after waiting for a report's lock), so
    figures computed just before a report committed never hide it. A row that did not exist
    is inserted; a report committed while it was computed has had no row to mark, which only
    happens before a facility's first figures or just after `flask stats rebuild`.
    """

    def replace_as_seen(connection: Connection, computed_at: datetime) -> bool:
        if seen is None:
            return _insert(connection, key, payload, computed_at)
        return _update_as_seen(
            connection, key, seen, marked=False, payload=payload, computed_at=computed_at
        )

    return _save(key, payload, replace_as_seen)


def _save(
    key: str, payload: dict[str, Any], write: Callable[[Connection, datetime], bool]
) -> Snapshot:
    """Run ``write`` (True when it saved the row) in a transaction of its own, and remember
    what it saved; the figures are returned whether they were saved or not.

    Figures computed inside a transaction that changed outcomes are returned but not saved:
    they could be rolled back, and on PostgreSQL this connection would wait for that
    transaction's locks.
    """
    computed_at = utcnow()
    if db.session.info.get(UNCOMMITTED_CHANGES):
        return Snapshot(payload, computed_at, False)
    with db.engine.begin() as connection:
        saved = write(connection, computed_at)
    if saved:
        _remember(key, computed_at, payload)
    return Snapshot(payload, computed_at, False)


def claim_stale(key: str, seen: Snapshot) -> Snapshot | None:
    """Clear the stale mark of the row ``seen`` before recomputing it: the row as claimed, to
    pass to `store_if_unchanged`, or None when it changed since it was read.

    The claim gives the row a new ``computed_at`` as its token, so that of two workers that
    claim the same row one after the other (a report marking it in between) only the later
    can store. The figures must be computed from a read that starts after the claim: a report
    that commits later marks the row again, and the store gives way. The out-of-date figures
    make way for a placeholder of no day, so that a worker that dies before storing leaves a
    row that is computed again, never one that passes for current.
    """
    token = utcnow()
    with db.engine.begin() as connection:
        claimed = _update_as_seen(
            connection, key, seen, marked=True, stale=False, computed_at=token, payload=_CLAIMED
        )
    return Snapshot(_CLAIMED, token, False) if claimed else None


def _insert(
    connection: Connection, key: str, payload: dict[str, Any], computed_at: datetime
) -> bool:
    """Insert a new row; False when another worker inserted one a moment ago."""
    try:
        with connection.begin_nested():
            connection.execute(
                insert(_table).values(
                    key=key, payload=payload, computed_at=computed_at, stale=False
                )
            )
    except IntegrityError:
        return False
    return True


def _update_as_seen(
    connection: Connection, key: str, seen: Snapshot, *, marked: bool, **values: Any
) -> bool:
    """Update the row if it still has the ``computed_at`` seen and is (not) marked stale."""
    return bool(
        connection.execute(
            update(_table)
            .where(
                _table.c.key == key,
                _table.c.computed_at == seen.computed_at,
                _table.c.stale == marked,
            )
            .values(**values)
        ).rowcount
    )


def claim_refresh(key: str) -> None:
    """Clear the stale mark before recomputing: a report that comes in meanwhile sets it again."""
    with db.engine.begin() as connection:
        connection.execute(update(_table).where(_table.c.key == key).values(stale=False))


def invalidate(connection: Connection, keys: Iterable[str]) -> None:
    """After outcomes changed: mark these stored figures and the overview out of date.

    Marked, not deleted: a marked row tells whoever is computing it at this moment (see
    `store_if_unchanged`) that the figures they computed are already out of date.
    """
    keys = [*keys, OVERVIEW]
    connection.execute(update(_table).where(_table.c.key.in_(keys)).values(stale=True))


def forget_all(connection: Connection) -> None:
    """After a full rebuild: every stored figure is out of date."""
    connection.execute(delete(_table))
