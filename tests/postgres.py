"""PostgreSQL fixtures: a throwaway cluster per test session, migrated by the real migrations.

The cluster is started only when a test asks for `pg_app` (directly or through the
"postgresql" case of `any_db_app`), so SQLite-only runs pay nothing. It listens on 127.0.0.1
only, with trust authentication, a free port and its socket in its own temporary folder, and
is stopped and removed at the end of the session, also when the session fails.

A test module that must hold on both databases asks for `any_db_app` instead of `app`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from psycopg import sql

from app import create_app
from app.extensions import db
from scripts import pg_cluster
from scripts.pg_cluster import ClusterError
from tests.isolation import isolate_requests

DATABASE = "konvert"
SUPERUSER = pg_cluster.SUPERUSER
T = TypeVar("T")


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster and how to reach its test database."""

    port: int
    folder: Path
    seconds_to_ready: float

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database, over TCP on loopback (psycopg 3)."""
        return pg_cluster.database_url(self.port, DATABASE)


def _or_fail(step: Callable[[], T]) -> T:
    """Run a cluster step; one that cannot be done fails the test, with the reason."""
    try:
        return step()
    except ClusterError as error:
        pytest.fail(str(error))


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL server binaries installed, Debian's layout first, then PATH."""
    return _or_fail(pg_cluster.bin_dir)


def _as_server_user() -> list[str]:
    """The prefix that runs a server binary: initdb and postgres refuse to run as root."""
    return _or_fail(pg_cluster.as_server_user)


def _server_user_ids() -> tuple[int, int]:
    return _or_fail(pg_cluster.server_user_ids)


def _start(folder: Path, bin_dir: Path, prefix: list[str]) -> int:
    """initdb and start a throwaway cluster in ``folder`` (owned by the server's user), which
    waits for no disk write; returns its port."""
    _or_fail(lambda: pg_cluster.init_cluster(folder, bin_dir, prefix, durable=False))
    return _or_fail(
        lambda: pg_cluster.start_cluster(folder, bin_dir, prefix, pg_cluster.THROWAWAY_SETTINGS)
    )


def _stop(folder: Path, bin_dir: Path, prefix: list[str]) -> None:
    """Kill the cluster in ``folder`` (nothing in it is kept) and remove the folder."""
    pg_cluster.stop_cluster(folder, bin_dir, prefix, mode="immediate")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for this session, with the migrated test database."""
    started = time.monotonic()
    bin_dir = postgres_bin_dir()
    prefix = _as_server_user()
    # Not under pytest's temp folder: that one is private to us, and the server may be
    # another user. A short path also keeps the socket path under its length limit.
    folder = Path(tempfile.mkdtemp(prefix="konvert-pg-"))
    if prefix:
        os.chown(folder, *_server_user_ids())
    try:
        port = _start(folder, bin_dir, prefix)
        with psycopg.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        _migrate(PostgresServer(port, folder, 0.0).url, folder)
        yield PostgresServer(port, folder, seconds_to_ready=time.monotonic() - started)
    finally:
        _stop(folder, bin_dir, prefix)


def _settings(url: str, instance: Path) -> dict[str, object]:
    return {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url}


def _migrate(url: str, folder: Path) -> None:
    """Run every real migration once, as `flask db upgrade` would."""
    instance = Path(tempfile.mkdtemp(prefix="instance-", dir=folder))
    app = create_app("testing", _settings(url, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def truncate_all_tables() -> None:
    """Empty every table but alembic_version, and restart the id sequences."""
    with db.engine.begin() as connection:
        tables = connection.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'"
        ).scalars()
        names = ", ".join(connection.dialect.identifier_preparer.quote(t) for t in tables)
        if names:
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


def postgres_app(server: PostgresServer, tmp_path: Path) -> Iterator[Flask]:
    """The application on the session's PostgreSQL database, emptied, in an app context
    (the body of `pg_app`, and of `app` in a module marked ``both_databases``)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    application = create_app("testing", _settings(server.url, instance))
    isolate_requests(application)
    with application.app_context():
        truncate_all_tables()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_app(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[Flask]:
    """The application on the session's PostgreSQL database, emptied, in an app context."""
    yield from postgres_app(postgres_server, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request: pytest.FixtureRequest) -> Flask:
    """The app on SQLite, then on PostgreSQL: a test asking for this runs once on each.

    Build clients from it (``any_db_app.test_client()``), not with the `client`, `runner`,
    `organizer` or `admin` fixtures: those are bound to the SQLite `app`.
    """
    if request.param == "sqlite":
        return request.getfixturevalue("app")
    if "app" in request.fixturenames:
        pytest.fail(
            "a test using any_db_app also asked for a fixture built on the SQLite `app` "
            "(client, runner, organizer, admin…): use any_db_app.test_client() and the "
            "factories in tests/factories.py instead"
        )
    return request.getfixturevalue("pg_app")


def restart_server(server: PostgresServer) -> None:
    """Restart the session's cluster as an administrator would (``pg_ctl restart``, fast mode:
    every open connection is closed), on the same port, and wait until it accepts connections
    again."""
    binaries, prefix = postgres_bin_dir(), _as_server_user()
    _or_fail(lambda: pg_cluster.restart_cluster(server.folder, binaries, prefix))
