"""Database connection settings that depend on the dialect, ids in URLs kept within what the
database can hold, and the lock that lets one setup run at a time."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, text
from werkzeug.routing import IntegerConverter, Map

from app.domain import MAX_ID
from app.extensions import db
from app.private_files import ensure_private_file, tighten


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route, no larger than an id can be: a larger number is simply not
    found (404), instead of overflowing the database driver (500)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def bound_ids_in_urls(app: Flask) -> None:
    """Make ``<int:…>`` the bounded `IdConverter`; call before registering blueprints."""
    app.url_map.converters["int"] = IdConverter


def configure_sqlite(app: Flask) -> None:
    """Turn on WAL, foreign keys and a busy timeout on every connection of a SQLite engine,
    whose files are readable by this user only."""
    busy_timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        # Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files it
        # creates later the database file's own mode.
        ensure_private_file(Path(database))
        for suffix in ("-wal", "-shm"):
            if Path(f"{database}{suffix}").exists():
                tighten(Path(f"{database}{suffix}"))

    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows are overwritten with zeros rather than left in free pages: what a
        # supporter deleted (a reminder address, a letter's key copy) is not in the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        cursor.close()

    event.listen(engine, "connect", set_pragmas)


# Any constant number both setups agree on: the key of PostgreSQL's advisory lock.
SETUP_LOCK_KEY = 0x6B6F6E76  # "konv"


@contextmanager
def setup_lock(app: Flask) -> Iterator[None]:
    """Hold a lock while the database is set up, so that setups started at once on several
    machines (or twice on one) run one after the other: the second finds everything done.

    On PostgreSQL a session-level advisory lock on a connection of its own, outside any
    transaction (the migrations take their locks on another one); on SQLite, whose processes
    all run on this machine, a file lock in the instance folder.
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK_KEY}
                )
        return
    lock_file = Path(app.instance_path) / "setup.lock"
    ensure_private_file(lock_file)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def forget_freed_pages() -> None:
    """Make what a commit just deleted unreadable on disk as far as the database can (an
    `after_commit` callback): see `truncate_write_ahead_log`."""
    truncate_write_ahead_log()


def truncate_write_ahead_log() -> bool:
    """On SQLite, copy the write-ahead log into the database file and truncate it.

    ``secure_delete`` zeroes deleted rows in the database file, but the WAL keeps the pages as
    they were until a checkpoint and a restart of the log; a copy of a running server's folder
    would still hold them (a posted drive letter's key copy, a deleted reminder address).
    Returns False when a reader kept the log from being truncated (the periodic job tries again)
    and on other databases (PostgreSQL keeps dead rows until VACUUM; see the README).
    """
    engine = db.engine
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as connection:
        # A pragma, not a write: pysqlite opens no transaction for it, nothing to commit.
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return not busy
