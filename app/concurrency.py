"""Writes that stay right when requests race, on SQLite and on PostgreSQL alike.

Some writes decide on what they read first: whether a letter was already reported sent,
which prisoner of a drive has the fewest assignments. Two requests doing that at the same
moment would both read "not yet" and both write. `lock` makes the second wait until the
first has committed, and then read what the first wrote:

- On PostgreSQL it is ``SELECT … FOR UPDATE`` of the row: held until the transaction ends,
  and every later statement of the transaction reads what was committed before it (READ
  COMMITTED, the default).
- On SQLite one writer at a time holds the whole database. Python's sqlite3 opens the
  transaction only at the first write, so the reads before it hold nothing; a no-op
  ``UPDATE`` of the row takes the write lock at once (waiting up to the busy timeout) and
  every read after it sees the last commit. That is what ``BEGIN IMMEDIATE`` would do,
  without changing how every other transaction (a page view, say) begins.

Where a unique index decides (one outcome row per letter, one active print pack per drive),
`dialect_insert` gives the ``INSERT … ON CONFLICT`` of the database in use instead.
"""

from __future__ import annotations

from sqlalchemy import Table, and_, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def lock(instance: object) -> None:
    """Hold the row of ``instance`` until the transaction ends, and read it again.

    Everything of the instance (its collections too) is loaded afresh after the lock, so
    that what the caller decides next rests on what is committed now. Call it before
    changing the instance: changes not yet flushed would be forgotten. Taking the same lock
    again in the same transaction costs little and waits for nothing.
    """
    state = inspect(instance)
    mapper = state.mapper
    identity = state.identity
    assert identity is not None, "only a row already in the database can be locked"
    keys = mapper.primary_key
    is_this_row = and_(*(column == value for column, value in zip(keys, identity, strict=True)))
    if db.session.get_bind().dialect.name == "sqlite":
        table = mapper.local_table
        assert isinstance(table, Table)
        first = keys[0]
        db.session.execute(update(table).where(is_this_row).values({first.name: first}))
    else:
        db.session.execute(select(*keys).where(is_this_row).with_for_update())
    db.session.expire(instance)


def dialect_insert(dialect_name: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    """``INSERT`` for this database with its ``ON CONFLICT`` clauses (SQLite and PostgreSQL
    spell them alike)."""
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"no INSERT … ON CONFLICT for {dialect_name}")
