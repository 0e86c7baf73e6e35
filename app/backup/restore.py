"""Restoring a backup into an instance: check, restore, check again.

Nothing is changed before every file of the backup matches its checksum, the backup is of the
same kind of database as the instance, the instance's database holds no data (unless
``force``: then it is replaced), and nothing else uses the instance. That last condition holds
with ``force`` too, which never means "overwrite a database in use": a web process or job
consumer still running would go on with a secret key, cached figures and connections of an
instance that no longer exists, and whatever it wrote during the restore would be lost.

- SQLite: the database file (and the SQLite job queue) are opened with an exclusive lock
  held for the whole restore (app.backup.sqlite.held_alone): a process that has either open
  is refused, and none can open them until the restore is done.
- PostgreSQL: the restore refuses while pg_stat_activity shows another session on the
  database. pg_restore runs in a connection of its own, so no lock can be held across it:
  a session that connects in the seconds between the check and pg_restore is not refused
  (its queries wait for pg_restore's single transaction, then see the restored data).

The database is restored first, then the job queue and the secrets; then the database is
checked (SQLite's integrity check, the migration it is at: an older one is upgraded, an
unknown one refused). Recounting the statistics is the command's last step
(app/backup/cli.py), since it commits.
"""

from __future__ import annotations

import sqlite3
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import upgrade

from app.backup import postgres, sqlite
from app.backup.keys import FROM_FILE, SECRET_KEY_FILE, secret_key_source, write_secret
from app.backup.manifest import BackupError, Manifest, read_manifest, verify_files
from app.backup.services import (
    POSTGRES_DATABASE,
    SQLITE_DATABASE,
    alembic_revision,
    count_rows,
    database_kind,
    pg_bin,
    queue_file,
)
from app.extensions import db
from app.private_files import private_folder
from config import BASE_DIR

MIGRATIONS = BASE_DIR / "migrations"


@dataclass
class Restored:
    """What a restore did, and what a person should know."""

    manifest: Manifest
    checked: int = 0  # files whose checksum matched
    restored: list[str] = field(default_factory=list)
    revision: str | None = None
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: What the instance held and the restore replaced (--force), {what: how many}.
    replaced: dict[str, int] = field(default_factory=dict)


def check_backup(folder: Path) -> Manifest:
    """The backup's manifest, once every file it names is there and unchanged."""
    manifest = read_manifest(folder)
    database = manifest.file("database")
    if manifest.pending_command and database and not (folder / database.name).is_file():
        raise BackupError(
            f"the database dump {database.name} is not in {folder}: pg_dump was missing when "
            f"the backup was made. Make it with:\n  {manifest.pending_command}"
        )
    problems = verify_files(folder, manifest)
    if problems:
        raise BackupError(
            f"{folder} does not match its manifest, nothing was restored:\n  "
            + "\n  ".join(problems)
        )
    return manifest


def holds_data() -> dict[str, int]:
    """The rows that make the instance's database not empty (letters, prisoners…)."""
    with db.engine.connect() as connection:
        return {name: count for name, count in count_rows(connection).items() if count}


def _refuse_unless_empty(force: bool) -> dict[str, int]:
    """What the database holds (empty: nothing); refused unless ``force``."""
    found = holds_data()
    if found and not force:
        held = ", ".join(f"{count} {name}" for name, count in found.items())
        raise BackupError(
            f"the database of this instance already holds data ({held}); nothing was "
            "restored. Restore into an empty instance (a new KONVERT_INSTANCE_PATH, or a new "
            "empty PostgreSQL database), or pass --force to replace everything in it, for "
            "good (stop every web process and job consumer of this instance first, and back "
            "it up with `flask backup create` if you may want it back)."
        )
    return found


def _refuse_while_connected() -> None:
    """PostgreSQL: refuse while another session is connected to the database."""
    others = postgres.other_sessions(db.engine)
    if others:
        sessions = ", ".join(f"{count} of {role}" for role, count in others.items())
        raise BackupError(
            f"the database of this instance is in use: {sum(others.values())} other "
            f"connections ({sessions}). Stop every web process and job consumer that uses it, "
            "on every machine, and close any other client (psql…), then restore again; "
            "nothing was restored."
        )


def _restore_secrets(folder: Path, manifest: Manifest, restored: Restored) -> None:
    instance = private_folder(Path(current_app.instance_path))
    key_was = secret_key_source(instance, str(current_app.config["SECRET_KEY"]))
    for item in manifest.with_role("secret"):
        write_secret(instance, item.name, (folder / item.name).read_bytes())
        restored.restored.append(item.name)
    backed_up_key = (folder / SECRET_KEY_FILE).read_text().strip()
    if key_was != FROM_FILE and current_app.config["SECRET_KEY"] != backed_up_key:
        restored.notes.append(
            "KONVERT_SECRET_KEY is set and differs from the backup's secret key: sessions, "
            "login links and every keyed hash would not match. Set KONVERT_SECRET_KEY to the "
            f"key in {folder / SECRET_KEY_FILE} (also restored to "
            f"{instance / SECRET_KEY_FILE}), or unset it to use that file."
        )


def _restore_database(
    folder: Path, manifest: Manifest, restored: Restored, held: sqlite3.Connection | None
) -> None:
    if manifest.database == "sqlite":
        assert held is not None  # the instance's database, held alone
        sqlite.restore_from_file(folder / SQLITE_DATABASE, held)
        restored.restored.append(f"{SQLITE_DATABASE} (database)")
    else:
        tool = postgres.find_tool("pg_restore", pg_bin())
        source = folder / POSTGRES_DATABASE
        if tool is None:
            libpq = postgres.Libpq.of(db.engine.url)
            command = libpq.shown(postgres.restore_arguments("pg_restore", libpq, source))
            raise BackupError(
                "pg_restore was not found (on PATH, in KONVERT_PG_BIN or /usr/lib/postgresql). "
                f"Restore the database by hand:\n  {command}\nthen run this command again "
                "with --database-restored to restore the rest and check it."
            )
        postgres.check_archive(tool, source)
        restored.checks.append(f"pg_restore can read {POSTGRES_DATABASE}")
        postgres.restore(db.engine, tool, source)
        restored.restored.append(f"{POSTGRES_DATABASE} (database)")


def _restore_queue(
    folder: Path, manifest: Manifest, restored: Restored, held: sqlite3.Connection | None
) -> None:
    backed_up = manifest.file("queue")
    if backed_up is None:
        return
    if held is None:
        restored.notes.append(
            f"The backup's job queue ({backed_up.name}) was not restored: this instance "
            "queues jobs in Redis. Pending mail is sent from the outbox anyway."
        )
        return
    sqlite.restore_from_file(folder / backed_up.name, held)
    restored.restored.append(f"{backed_up.name} (job queue)")


def _check_database(restored: Restored) -> None:
    if database_kind() == "sqlite":
        problems = sqlite.integrity_problems(sqlite.database_file(db.engine.url))
        if problems:
            raise BackupError(f"the restored database is damaged: {'; '.join(problems[:5])}")
        restored.checks.append("PRAGMA integrity_check: ok")
    with db.engine.connect() as connection:
        revision = alembic_revision(connection)
    script = ScriptDirectory(str(MIGRATIONS))
    heads = set(script.get_heads())
    known = {item.revision for item in script.walk_revisions()}
    if revision not in heads:
        if revision not in known:
            raise BackupError(
                f"the restored database is at migration {revision!r}, which this Konvert "
                f"({', '.join(sorted(heads))} at most) does not know: restore it with the "
                f"Konvert version that made the backup ({restored.manifest.konvert_version})"
            )
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as connection:
            upgraded = alembic_revision(connection)
        restored.checks.append(f"migrated from {revision} to {upgraded} (the latest)")
        revision = upgraded
    else:
        restored.checks.append(f"at migration {revision} (the latest)")
    restored.revision = revision


def _restore_alone(
    folder: Path, manifest: Manifest, restored: Restored, *, restore_database: bool
) -> None:
    """Restore the database (unless ``restore_database`` is false) and the SQLite queue, with
    the instance to ourselves; refused, before anything changes, while anything else uses it."""
    # No pooled connection of ours may count as another's, nor outlive the database it was
    # opened on.
    db.session.remove()
    db.engine.dispose()
    with ExitStack() as alone:
        held_database = held_queue = None
        if manifest.database == "sqlite":
            database_file = sqlite.database_file(db.engine.url)
            held_database = alone.enter_context(sqlite.held_alone(database_file))
        else:
            _refuse_while_connected()
            db.engine.dispose()
        queue = queue_file()
        if manifest.file("queue") is not None and queue is not None:
            held_queue = alone.enter_context(sqlite.held_alone(queue))
        if restore_database:
            _restore_database(folder, manifest, restored, held_database)
        _restore_queue(folder, manifest, restored, held_queue)
    db.engine.dispose()


def restore_backup(
    folder: Path, *, force: bool = False, database_restored: bool = False
) -> Restored:
    """Restore the backup in ``folder`` into this instance, then check the database.

    With ``database_restored`` the database was restored by hand (pg_restore was missing):
    only the secrets and the queue are restored, and the database is checked."""
    manifest = check_backup(folder)
    kind = database_kind()
    if manifest.database != kind:
        raise BackupError(
            f"this is a backup of a {manifest.database} database, and this instance runs on "
            f"{kind}: restore it into an instance on {manifest.database}"
        )
    restored = Restored(manifest, checked=sum(1 for item in manifest.files if item.sha256))
    for item in manifest.files:
        if item.sha256 is None:
            restored.notes.append(
                f"{item.name} was made by hand after the backup: the manifest holds no "
                "checksum of it to check."
            )
    if not database_restored:
        restored.replaced = _refuse_unless_empty(force)
    _restore_alone(folder, manifest, restored, restore_database=not database_restored)
    # Last: should the database fail to restore, the instance keeps the key it had.
    _restore_secrets(folder, manifest, restored)
    _check_database(restored)
    return restored
