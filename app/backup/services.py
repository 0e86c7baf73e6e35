"""Making a backup: the database, the job queue, the secrets and the manifest.

What is copied, and why it is enough: everything Konvert keeps is in the database (print packs
too: app.stored_files), the SQLite job queue holds jobs not yet run, and the instance's secrets
are what makes the data usable. A backup folder is new or empty, mode 0700, and every file in
it 0600; ``manifest.json`` is written last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import Connection, create_engine, func, inspect, select, text

from app.backup import postgres, sqlite
from app.backup.keys import collect_secrets, write_secret
from app.backup.manifest import (
    BackupError,
    BackupFile,
    Manifest,
    describe,
    konvert_version,
    now_utc,
    write_manifest,
)
from app.extensions import db
from app.models import Drive, Facility, Letter, MailEvent, Prisoner, User
from app.private_files import FOLDER_MODE, private_folder

SQLITE_DATABASE = "konvert.db"
POSTGRES_DATABASE = "konvert.pgdump"
QUEUE = "jobs.db"  # Huey's SQLite queue in the instance folder (app/jobs.py)
# What the manifest and the restore count, by the name a person reads.
COUNTED = {
    "letters": Letter,
    "events": MailEvent,
    "prisoners": Prisoner,
    "facilities": Facility,
    "users": User,
    "drives": Drive,
}


def count_rows(connection: Connection) -> dict[str, int]:
    """How many letters, events, prisoners… a database holds (0 where it has no tables)."""
    inspector = inspect(connection)
    counts = {}
    for name, model in COUNTED.items():
        table = model.__table__
        if inspector.has_table(table.name):
            counts[name] = int(connection.scalar(select(func.count()).select_from(table)) or 0)
        else:
            counts[name] = 0
    return counts


def alembic_revision(connection: Connection) -> str | None:
    """The migration the database is at (None for a database never migrated)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return str(revision) if revision is not None else None


def _read_state(connection: Connection) -> tuple[dict[str, int], str | None]:
    return count_rows(connection), alembic_revision(connection)


def queue_file() -> Path | None:
    """The SQLite job queue of this instance, unless jobs are queued in Redis."""
    if current_app.config.get("REDIS_URL"):
        return None
    return Path(current_app.instance_path) / QUEUE


def database_kind() -> str:
    """``sqlite`` or ``postgresql``: the databases Konvert runs on."""
    kind = db.engine.dialect.name
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"backups of a {kind} database are not supported")
    return kind


def pg_bin() -> str | None:
    """KONVERT_PG_BIN: the folder of pg_dump and pg_restore, when set."""
    return current_app.config.get("PG_BIN") or None


@dataclass
class Created:
    """A finished backup: its folder and manifest, and what a person should know."""

    folder: Path
    manifest: Manifest
    notes: list[str] = field(default_factory=list)


def _prepare(folder: Path) -> None:
    """A backup goes into a new or empty folder, readable by this user only."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not empty: give a new folder for each backup")
    private_folder(folder)
    folder.chmod(FOLDER_MODE)  # an empty folder that existed may have had another mode


def _sqlite_database(folder: Path) -> tuple[list[BackupFile], dict[str, int], str | None]:
    copy = folder / SQLITE_DATABASE
    sqlite.backup_to_file(sqlite.database_file(db.engine.url), copy)
    problems = sqlite.integrity_problems(copy, thorough=False)
    if problems:
        raise BackupError(f"the copy of the database is damaged: {'; '.join(problems[:5])}")
    engine = create_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            counts, revision = _read_state(connection)
    finally:
        engine.dispose()
    return [describe(folder, SQLITE_DATABASE, "database")], counts, revision


def _postgres_database(folder: Path, created: Created) -> tuple[list[BackupFile], Manifest]:
    target = folder / POSTGRES_DATABASE
    tool = postgres.find_tool("pg_dump", pg_bin())
    manifest = created.manifest
    if tool is None:
        libpq = postgres.Libpq.of(db.engine.url)
        manifest.pending_command = libpq.shown(postgres.dump_arguments("pg_dump", libpq, target))
        with db.engine.connect() as connection:
            manifest.alembic_revision = alembic_revision(connection)
        created.notes.append(
            "pg_dump was not found (on PATH, in KONVERT_PG_BIN or /usr/lib/postgresql): the "
            "secrets and the manifest are written, but the database is NOT in the backup yet. "
            f"Run, as a user who may read the database:\n  {manifest.pending_command}"
        )
        return [BackupFile(POSTGRES_DATABASE, "database", None, None)], manifest
    counts, revision = postgres.dump(db.engine, tool, target, _read_state)
    manifest.counts, manifest.alembic_revision = counts, revision
    return [describe(folder, POSTGRES_DATABASE, "database")], manifest


def create_backup(folder: Path) -> Created:
    """Make a backup of this instance in ``folder`` (new or empty).

    A backup that fails half-way leaves the folder empty again: no copy of the data or the
    secrets lies around without a manifest that says what it is."""
    kind = database_kind()
    _prepare(folder)
    try:
        return _fill(folder, kind)
    except BaseException:
        for path in folder.iterdir():
            path.unlink()
        raise


def _fill(folder: Path, kind: str) -> Created:
    instance = Path(current_app.instance_path)
    secrets = collect_secrets(instance, str(current_app.config["SECRET_KEY"]))
    queue = queue_file()
    manifest = Manifest(
        konvert_version=konvert_version(),
        alembic_revision=None,
        database=kind,
        queue="sqlite" if queue else "redis",
        created_at=now_utc(),
        secret_key_from=secrets.secret_key_from,
        counts=None,
    )
    created = Created(folder, manifest)
    if kind == "sqlite":
        files, manifest.counts, manifest.alembic_revision = _sqlite_database(folder)
    else:
        files, manifest = _postgres_database(folder, created)
    if queue is not None and queue.is_file():
        sqlite.backup_to_file(queue, folder / QUEUE)
        files.append(describe(folder, QUEUE, "queue"))
    elif queue is None:
        created.notes.append(
            "Jobs are queued in Redis: they are not in this backup (pending mail is picked up "
            "again from the outbox in the database)."
        )
    for name, content in secrets.files.items():
        write_secret(folder, name, content)
        files.append(describe(folder, name, "secret"))
    manifest.files = files
    write_manifest(folder, manifest)
    return created
