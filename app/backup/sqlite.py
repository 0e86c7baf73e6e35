"""Copying SQLite databases through SQLite's online backup API.

A plain copy of ``konvert.db`` is not a backup: in WAL mode the latest commits are in
``konvert.db-wal`` until a checkpoint moves them into the main file, and a copy of both files
taken while the server writes may not match. The backup API reads the database through a
connection, as any reader does (WAL included), in one read transaction: one consistent
snapshot, while the server goes on writing.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL

from app.backup.manifest import BackupError
from app.private_files import ensure_private_file

BUSY_SECONDS = 60.0  # how long to wait for a lock (a checkpoint, a restore's target)


def database_file(url: URL) -> Path:
    """The file of a SQLite database URL; an in-memory database cannot be backed up."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"the SQLite database {url.render_as_string()} is not a file")
    return Path(database)


def _open(path: Path, mode: str) -> sqlite3.Connection:
    """A connection that never creates the file (``mode`` is ``ro`` or ``rw``)."""
    uri = f"file:{quote(str(path.resolve()))}?mode={mode}"
    return sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS)


def backup_to_file(source: Path, target: Path) -> None:
    """Copy the live database ``source`` into the new file ``target`` (mode 0600), as one
    self-contained file (rollback journal mode: no -wal beside it)."""
    if target.exists():
        raise BackupError(f"{target} exists already")
    ensure_private_file(target)
    with closing(_open(source, "rw")) as live, closing(_open(target, "rw")) as copy:
        # pages=-1: the whole database in one step, so in one read transaction of the
        # source. In steps, another process's commit between them would restart the copy.
        live.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode=DELETE")


def restore_from_file(source: Path, target: Path) -> None:
    """Replace the database ``target`` (created 0600 when missing) by the backup ``source``.

    The copy goes through a connection to the target, so SQLite replaces its pages under its
    own locks, and a -wal left beside the target is taken into account, never mixed in."""
    ensure_private_file(target)
    with closing(_open(source, "ro")) as backup, closing(_open(target, "rw")) as live:
        backup.backup(live, pages=-1)
        live.execute("PRAGMA journal_mode=WAL")  # as the app runs it (app/database.py)


def integrity_problems(path: Path, *, thorough: bool = True) -> list[str]:
    """What SQLite's check finds wrong in a database file (none: it is sound).

    ``PRAGMA integrity_check`` also checks every index against its table: on the 450 MB load
    test data set it takes about ten times as long as ``quick_check``, which checks every page
    and the structure of every tree, and suffices for a fresh copy of a live database."""
    pragma = "integrity_check" if thorough else "quick_check"
    with closing(_open(path, "rw")) as connection:  # a WAL database needs its -shm
        rows = [str(row[0]) for row in connection.execute(f"PRAGMA {pragma}")]
    return [] if rows == ["ok"] else rows
