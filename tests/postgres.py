"""PostgreSQL fixtures: a throwaway cluster per test session, migrated by the real migrations.

The cluster is started only when a test asks for `pg_app` (directly or through the
"postgresql" case of `any_db_app`), so SQLite-only runs pay nothing. It listens on 127.0.0.1
only, with trust authentication, a free port and its socket in its own temporary folder, and
is stopped and removed at the end of the session, also when the session fails.

A test module that must hold on both databases asks for `any_db_app` instead of `app`.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from psycopg import sql

from app import create_app
from app.extensions import db
from tests.isolation import isolate_requests

DATABASE = "konvert"
SUPERUSER = "postgres"
SERVER_USER = "postgres"  # the system account that runs the server when tests run as root
INSTALL_HINT = (
    "run scripts/install-system-deps.sh (it installs Debian's `postgresql` package) "
    "so that the PostgreSQL tests can start a throwaway server"
)


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster and how to reach its test database."""

    port: int
    folder: Path
    seconds_to_ready: float

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database, over TCP on loopback (psycopg 3)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL server binaries installed, Debian's layout first, then PATH."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if found:
        return max(found, key=lambda path: _version_key(path.parent.name))
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    pytest.fail(f"PostgreSQL server binaries (initdb, pg_ctl) not found: {INSTALL_HINT}")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> list[str]:
    """The prefix that runs a server binary: initdb and postgres refuse to run as root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("tests run as root but `runuser` is missing (Debian package util-linux)")
    _server_user_ids()  # fails clearly when the account is missing
    return [runuser, "-u", SERVER_USER, "--"]


def _server_user_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.fail(f"tests run as root but there is no `{SERVER_USER}` user: {INSTALL_HINT}")
    return entry.pw_uid, entry.pw_gid


def _attempt(command: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def _run(command: list[str], folder: Path, what: str) -> None:
    result = _attempt(command, folder)
    if result.returncode != 0:
        _fail(what, result, folder)


def _server_log(folder: Path) -> str:
    log = folder / "server.log"
    return log.read_text(errors="replace") if log.exists() else ""


def _fail(what: str, result: subprocess.CompletedProcess[str], folder: Path) -> NoReturn:
    pytest.fail(
        f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}\n"
        f"server log:\n{_server_log(folder)[-3000:]}"
    )


def _ctype() -> str:
    """C.UTF-8 where the machine has it, so that lower() and upper() know Cyrillic."""
    result = subprocess.run(
        ["locale", "-a"],
        capture_output=True,
        text=True,
        check=False,
    )
    names = {name.lower().replace("-", "") for name in result.stdout.split()}
    return "C.UTF-8" if "c.utf8" in names else "C"


def _start(folder: Path, bin_dir: Path, prefix: list[str]) -> int:
    """initdb and start a cluster in ``folder`` (owned by the server's user); returns its port."""
    data = folder / "data"
    sockets = folder / "sockets"
    sockets.mkdir(mode=0o700)
    if prefix:
        os.chown(sockets, *_server_user_ids())
    _run(
        [
            *prefix,
            str(bin_dir / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            _ctype(),
            "--lc-collate",
            "C",  # text sorts by code point, as on SQLite
            "--no-sync",  # a throwaway cluster: nothing to keep after a crash
        ],
        folder,
        "initdb",
    )
    # Another process may take the port between the probe and the start: try a few.
    for attempt in range(3):
        port = _free_loopback_port()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {port}",
                f"-k {sockets}",
                "-c unix_socket_permissions=0700",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        command = [
            *prefix,
            str(bin_dir / "pg_ctl"),
            "start",
            "--pgdata",
            str(data),
            "--log",
            str(folder / "server.log"),
            "--wait",
            "--options",
            options,
        ]
        result = _attempt(command, folder)
        if result.returncode == 0:
            return port
        if attempt == 2 or "Address already in use" not in _server_log(folder):
            _fail("pg_ctl start", result, folder)
    raise AssertionError("unreachable")


def _stop(folder: Path, bin_dir: Path, prefix: list[str]) -> None:
    if (folder / "data" / "postmaster.pid").exists():
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "stop",
                "--pgdata",
                str(folder / "data"),
                "--mode",
                "immediate",
                "--wait",
            ],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
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
    command = [
        *_as_server_user(),
        str(postgres_bin_dir() / "pg_ctl"),
        "restart",
        "--pgdata",
        str(server.folder / "data"),
        "--log",
        str(server.folder / "server.log"),
        "--mode",
        "fast",
        "--wait",
    ]
    _run(command, server.folder, "pg_ctl restart")
