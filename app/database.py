"""Database connection settings that depend on the dialect, and ids in URLs kept within what
the database can hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
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
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        cursor.close()

    event.listen(engine, "connect", set_pragmas)
