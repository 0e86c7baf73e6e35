"""Backing up and restoring PostgreSQL with pg_dump and pg_restore.

The client programs come from KONVERT_PG_BIN when it is set (a folder), else from PATH, else
from Debian's ``/usr/lib/postgresql/<version>/bin`` (the newest). The database URL is the
app's, without its driver (``postgresql+psycopg://`` becomes libpq's ``postgresql://``); the
password never goes on a command line, where other users could read it, but into PGPASSWORD.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from app.backup.manifest import BackupError

DEBIAN_FOLDER = Path("/usr/lib/postgresql")
T = TypeVar("T")


def find_tool(name: str, pg_bin: str | None) -> Path | None:
    """Where the client program ``name`` (pg_dump, pg_restore) is, if anywhere."""
    if pg_bin:
        candidate = Path(pg_bin) / name
        return candidate if os.access(candidate, os.X_OK) else None
    found = shutil.which(name)
    if found:
        return Path(found)
    installed = [path for path in DEBIAN_FOLDER.glob(f"*/bin/{name}") if os.access(path, os.X_OK)]
    return max(installed, key=_version_of, default=None)


def _version_of(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))


@dataclass(frozen=True)
class Libpq:
    """How libpq's programs reach the app's database: a URL without the password, and the
    password for the PGPASSWORD environment variable (None when the URL has none)."""

    url: str
    password: str | None

    @classmethod
    def of(cls, url: URL) -> Libpq:
        """Turn the app's SQLAlchemy URL into libpq's form."""
        plain = URL.create(
            "postgresql",
            username=url.username,
            host=url.host,
            port=url.port,
            database=url.database,
            query=url.query,
        )
        return cls(plain.render_as_string(hide_password=False), url.password or None)

    def environment(self) -> dict[str, str]:
        """The environment of a client program: this process's, plus the password."""
        environment = dict(os.environ)
        if self.password is not None:
            environment["PGPASSWORD"] = self.password
        return environment

    def shown(self, arguments: list[str]) -> str:
        """A command as a person can type it; the password is named, never shown."""
        command = shlex.join(arguments)
        if self.password is not None:
            return f"PGPASSWORD='<the database password>' {command}"
        return command


def dump_arguments(
    tool: str, libpq: Libpq, target: Path, snapshot: str | None = None
) -> list[str]:
    """The pg_dump command that writes the custom-format archive ``target``."""
    arguments = [tool, "--format=custom", f"--file={target}", f"--dbname={libpq.url}"]
    if snapshot:
        arguments.insert(2, f"--snapshot={snapshot}")
    return arguments


def restore_arguments(tool: str, libpq: Libpq, source: Path) -> list[str]:
    """The pg_restore command that restores ``source`` into the app's database.

    In one transaction (all or nothing); ``--clean --if-exists`` first drops the tables that
    a migrated but empty database already has; owners and grants are the restoring user's,
    who may not be the one who made the backup."""
    return [
        tool,
        f"--dbname={libpq.url}",
        "--single-transaction",
        "--exit-on-error",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        str(source),
    ]


def _run(arguments: list[str], libpq: Libpq, what: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own arguments, no shell
        arguments,
        env=libpq.environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        umask=0o077,  # whatever it writes is this user's only
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed ({result.returncode}): {output}")


def dump(engine: Engine, tool: Path, target: Path, read: Callable[[Connection], T]) -> T:
    """Run pg_dump into ``target`` (mode 0600); return what ``read`` found in the database in
    the very snapshot that pg_dump copied (counts, revision).

    The snapshot is exported from a repeatable-read transaction that stays open while pg_dump
    runs, and pg_dump reads in it, so both see the same committed writes."""
    libpq = Libpq.of(engine.url)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = read(connection)
            try:
                _run(dump_arguments(str(tool), libpq, target, snapshot), libpq, "pg_dump")
            except BackupError:
                target.unlink(missing_ok=True)
                raise
    return found


def other_sessions(engine: Engine) -> dict[str, int]:
    """The other sessions connected to the app's database now, by role: {role: sessions}.

    pg_stat_activity shows every session's database and role to any user; the kind of
    process only for one's own role (NULL for others'), so the server's own workers
    (autovacuum, which has no role) are told apart by their missing role."""
    query = text(
        "SELECT usename, count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND usename IS NOT NULL AND coalesce(backend_type, 'client backend') = 'client backend' "
        "GROUP BY usename ORDER BY usename"
    )
    with engine.connect() as connection:
        return {str(role): int(count) for role, count in connection.execute(query)}


def check_archive(tool: Path, source: Path) -> None:
    """Refuse a file pg_restore cannot read (its table of contents is read, nothing else)."""
    _run([str(tool), "--list", str(source)], Libpq("", None), f"pg_restore --list {source}")


def restore(engine: Engine, tool: Path, source: Path) -> None:
    """Restore the archive ``source`` into the app's database with pg_restore."""
    libpq = Libpq.of(engine.url)
    _run(restore_arguments(str(tool), libpq, source), libpq, "pg_restore")
