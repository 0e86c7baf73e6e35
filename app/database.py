"""Database connection settings that depend on the dialect."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event

from app.extensions import db


def configure_sqlite(app: Flask) -> None:
    """Turn on WAL, foreign keys and a busy timeout on every connection of a SQLite engine."""
    busy_timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        cursor.close()

    event.listen(engine, "connect", set_pragmas)
