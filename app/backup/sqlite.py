"""Copying SQLite databases through SQLite's online backup API.

A plain copy of ``konvert.db`` is not a backup: in WAL mode the latest commits are in
``konvert.db-wal`` until a checkpoint moves them into the main file, and a copy of both files
taken while the server writes may not match. The backup API reads the database through a
connection, as any reader does (WAL included), in one read transaction: one consistent
snapshot, while the server goes on writing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL

from app.backup.manifest import BackupError
from app.private_files import ensure_private_file

BUSY_SECONDS = 60.0  # how long to wait for a lock (a checkpoint)
#: How long a restore waits for its target to be free: a writer's transaction takes
#: milliseconds; a process that keeps the file open never lets go, and is refused.
ALONE_SECONDS = 5.0


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


@contextmanager
def held_alone(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that has the database ``path`` (created 0600 when missing) to itself until
    the block ends: no other connection can read or write it meanwhile.

    Raises BackupError when another connection has it open. In WAL mode, which Konvert's
    database and Huey's queue use, every open connection holds a shared lock on the file for as
    long as it is open, idle or not: a web process or consumer that has used the database
    since it started is seen, even between requests.
    """
    ensure_private_file(path)
    connection = _open(path, "rw")
    connection.isolation_level = None  # the statements below manage the transaction
    connection.execute(f"PRAGMA busy_timeout = {int(ALONE_SECONDS * 1000)}")
    try:
        # In EXCLUSIVE locking mode the exclusive lock, once taken, is kept after COMMIT until
        # the connection closes.
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        try:
            connection.execute("BEGIN EXCLUSIVE")
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            raise BackupError(
                f"{path} is open in another process (a web server, a job consumer or a "
                f"`flask` command of this instance, still running): {error}. Stop every "
                "Konvert process of this instance, then restore again; nothing was restored."
            ) from error
        yield connection
    finally:
        connection.close()


def restore_from_file(source: Path, live: sqlite3.Connection) -> None:
    """Replace the database that ``live`` holds alone (`held_alone`) by the backup ``source``.

    The copy goes through that connection, so SQLite replaces its pages under its own locks,
    and a -wal left beside the target is taken into account, never mixed in."""
    with closing(_open(source, "ro")) as backup:
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
