"""A PostgreSQL cluster of our own on loopback, from Debian's `postgresql` package.

Used by the tests (tests/postgres.py: a throwaway cluster per test session) and by the load
benchmark (`make bench-load DB=postgres`: a cluster kept in ./instance-bench-pg/cluster, so
that the large data set is generated once). A cluster lives in one folder: ``data/`` (initdb),
``sockets/`` (its Unix socket, private) and ``server.log``. It listens on 127.0.0.1 only, on a
free port chosen at each start, with trust authentication for the ``postgres`` superuser:
anyone on this machine can connect, so it is for tests and benchmarks, never for real data.
When we run as root, the server runs as the ``postgres`` system account (initdb and postgres
refuse to run as root), which must be able to reach the folder.

Errors are raised as `ClusterError`, whose message says which step failed, why, and the end of
the server's log.

As a command (what bench/load.sh calls), with only the standard library and psycopg:

    python scripts/pg_cluster.py start FOLDER [--database NAME]   # prints the database URL
    python scripts/pg_cluster.py stop FOLDER
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

SUPERUSER = "postgres"
SERVER_USER = "postgres"  # the system account that runs the server when we run as root
INSTALL_HINT = (
    "run scripts/install-system-deps.sh (it installs Debian's `postgresql` package) "
    "so that the PostgreSQL tests can start a throwaway server"
)
# For a throwaway cluster: nothing to keep after a crash, so no waiting for the disk.
THROWAWAY_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
START_ATTEMPTS = 3


class ClusterError(RuntimeError):
    """A step of making, starting or stopping a cluster failed (the message says which)."""


def bin_dir() -> Path:
    """The newest PostgreSQL server binaries installed, Debian's layout first, then PATH."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if found:
        return max(found, key=lambda path: _version_key(path.parent.name))
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise ClusterError(f"PostgreSQL server binaries (initdb, pg_ctl) not found: {INSTALL_HINT}")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_server_user() -> list[str]:
    """The prefix that runs a server binary: initdb and postgres refuse to run as root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterError("running as root, but `runuser` is missing (Debian package util-linux)")
    server_user_ids()  # fails clearly when the account is missing
    return [runuser, "-u", SERVER_USER, "--"]


def server_user_ids() -> tuple[int, int]:
    """Uid and gid of the account that runs the server when we run as root."""
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterError(
            f"running as root, but there is no `{SERVER_USER}` user: {INSTALL_HINT}"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _attempt(command: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the server's binaries, arguments built here
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
        raise _failure(what, result, folder)


def server_log(folder: Path) -> str:
    """What the server wrote to its log in ``folder`` (empty if nothing yet)."""
    log = folder / "server.log"
    return log.read_text(errors="replace") if log.exists() else ""


def _failure(what: str, result: subprocess.CompletedProcess[str], folder: Path) -> ClusterError:
    return ClusterError(
        f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}\n"
        f"server log:\n{server_log(folder)[-3000:]}"
    )


def _ctype() -> str:
    """C.UTF-8 where the machine has it, so that lower() and upper() know Cyrillic."""
    result = subprocess.run(
        ["locale", "-a"],  # noqa: S607 - the system's locale program, wherever it is
        capture_output=True,
        text=True,
        check=False,
    )
    names = {name.lower().replace("-", "") for name in result.stdout.split()}
    return "C.UTF-8" if "c.utf8" in names else "C"


def init_cluster(folder: Path, binaries: Path, prefix: list[str], *, durable: bool) -> None:
    """initdb a cluster in ``folder`` (which the server's user owns) and make its socket folder.

    Not ``durable``: initdb does not wait for the disk (a throwaway cluster).
    """
    sockets = folder / "sockets"
    sockets.mkdir(mode=0o700)
    if prefix:
        os.chown(sockets, *server_user_ids())
    _run(
        [
            *prefix,
            str(binaries / "initdb"),
            "--pgdata",
            str(folder / "data"),
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
            *([] if durable else ["--no-sync"]),
        ],
        folder,
        "initdb",
    )


def start_cluster(
    folder: Path, binaries: Path, prefix: list[str], settings: tuple[str, ...] = ()
) -> int:
    """Start the cluster in ``folder`` on a free loopback port and wait until it accepts
    connections; returns the port. ``settings`` are extra ``name=value`` server settings."""
    # Another process may take the port between the probe and the start: try a few.
    for attempt in range(START_ATTEMPTS):
        port = free_loopback_port()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {port}",
                f"-k {folder / 'sockets'}",
                "-c unix_socket_permissions=0700",
                *(f"-c {setting}" for setting in settings),
            ]
        )
        command = [
            *prefix,
            str(binaries / "pg_ctl"),
            "start",
            "--pgdata",
            str(folder / "data"),
            "--log",
            str(folder / "server.log"),
            "--wait",
            "--options",
            options,
        ]
        result = _attempt(command, folder)
        if result.returncode == 0:
            return port
        if attempt == START_ATTEMPTS - 1 or "Address already in use" not in server_log(folder):
            raise _failure("pg_ctl start", result, folder)
    raise AssertionError("unreachable")


def stop_cluster(folder: Path, binaries: Path, prefix: list[str], *, mode: str = "fast") -> None:
    """Stop the cluster in ``folder`` if it runs: ``fast`` ends the sessions and checkpoints
    (the data is kept as it is), ``immediate`` just kills the server (throwaway clusters)."""
    if (folder / "data" / "postmaster.pid").exists():
        subprocess.run(  # noqa: S603 - the server's binaries, arguments built here
            [
                *prefix,
                str(binaries / "pg_ctl"),
                "stop",
                "--pgdata",
                str(folder / "data"),
                "--mode",
                mode,
                "--wait",
            ],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )


def restart_cluster(folder: Path, binaries: Path, prefix: list[str]) -> None:
    """Restart the cluster in ``folder`` as an administrator would (``pg_ctl restart``, fast
    mode: every open connection is closed), on the same port; returns once it accepts
    connections again."""
    command = [
        *prefix,
        str(binaries / "pg_ctl"),
        "restart",
        "--pgdata",
        str(folder / "data"),
        "--log",
        str(folder / "server.log"),
        "--mode",
        "fast",
        "--wait",
    ]
    _run(command, folder, "pg_ctl restart")


def database_url(port: int, database: str) -> str:
    """SQLAlchemy URL of ``database`` in a cluster on ``port``, over TCP on loopback."""
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{database}"


def create_database(port: int, database: str) -> None:
    """Create ``database`` in the cluster on ``port`` unless it exists."""
    import psycopg  # only here: the rest of the module needs the standard library only
    from psycopg import sql

    with psycopg.connect(
        host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _reachable_by_server(folder: Path, prefix: list[str]) -> bool:
    """Whether the server's account can reach ``folder`` (every parent must let it through)."""
    if not prefix:
        return True
    probe = [*prefix, "test", "-x", str(folder)]
    return subprocess.run(probe, check=False).returncode == 0  # noqa: S603 - built here


def start_kept_cluster(folder: Path, database: str, settings: tuple[str, ...]) -> str:
    """Start the cluster kept in ``folder``, making it the first time; returns the URL of
    ``database`` in it (created if missing). A durable cluster: fsync stays on."""
    binaries = bin_dir()
    prefix = as_server_user()
    folder = folder.resolve()
    if not (folder / "data" / "PG_VERSION").exists():
        shutil.rmtree(folder, ignore_errors=True)  # a half-made cluster from a failed initdb
        folder.mkdir(mode=0o700, parents=True)
        if prefix:
            os.chown(folder, *server_user_ids())
        if not _reachable_by_server(folder, prefix):
            shutil.rmtree(folder, ignore_errors=True)
            raise ClusterError(
                f"the `{SERVER_USER}` account cannot reach {folder}: a folder above it is "
                "private; choose a cluster folder it can reach (BENCH_PG_CLUSTER=/var/tmp/…)"
            )
        init_cluster(folder, binaries, prefix, durable=True)
    # A server left running by an interrupted run: stop it, so that it starts with our options.
    stop_cluster(folder, binaries, prefix)
    port = start_cluster(folder, binaries, prefix, settings)
    create_database(port, database)
    return database_url(port, database)


def main() -> None:
    """`start FOLDER` prints the database URL of the started cluster; `stop FOLDER` stops it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--database", default="konvert")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting for this start (repeatable), e.g. shared_buffers=512MB",
    )
    args = parser.parse_args()
    try:
        if args.action == "start":
            print(start_kept_cluster(args.folder, args.database, tuple(args.setting)))
        else:
            stop_cluster(args.folder.resolve(), bin_dir(), as_server_user())
    except ClusterError as error:
        sys.exit(f"{args.action} of the PostgreSQL cluster in {args.folder}: {error}")


if __name__ == "__main__":
    main()
