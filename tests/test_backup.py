"""`flask backup create` and `flask backup restore`: what a backup holds, how a restore checks
it, and what it refuses. The backups under load, taken from served apps by separate
processes, are in tests/test_backup_load.py."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select

from app import create_app
from app.backup.postgres import Libpq, dump_arguments
from app.extensions import db
from app.models import EventKind, Letter, MailEvent
from tests.conftest import page_text
from tests.factories import add_event, make_facility, make_letter, make_prisoner, make_user
from tests.isolation import isolate_requests

MIGRATIONS = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations"))
HEAD = MIGRATIONS.get_current_head()  # the latest migration, whichever it is
OLDER = "c3feab0ff39d"  # an older one (mail double opt-in), with later ones after it


def _target_app(tmp_path: Path, name: str = "restored", **settings: object) -> Flask:
    """A second instance, empty: what a restore goes into."""
    instance = tmp_path / name
    overrides: dict[str, object] = {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'konvert.db'}",
        **settings,
    }
    application = create_app("testing", overrides)
    isolate_requests(application)
    return application


def _letters_with_events() -> list[Letter]:
    prisoner = make_prisoner(make_facility())
    letters = [make_letter(prisoner, written=date.today() - timedelta(days=30)) for _ in range(3)]
    for number, letter in enumerate(letters):
        add_event(letter, EventKind.SENT, date.today() - timedelta(days=20), note=f"note {number}")
    return letters


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _rewrite_checksum(folder: Path, name: str) -> None:
    """Make the manifest agree with a file changed on purpose."""
    from app.backup.manifest import sha256_of

    manifest = _manifest(folder)
    for item in manifest["files"]:
        if item["name"] == name:
            item["sha256"] = sha256_of(folder / name)
            item["size"] = (folder / name).stat().st_size
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_backup_is_private_and_restores_into_an_empty_instance(app, runner, tmp_path):
    tokens = [letter.token for letter in _letters_with_events()]
    make_user("admin@example.org")
    (Path(app.instance_path) / "master_key").write_bytes(b"\x01" * 32)
    folder = tmp_path / "backups" / "monday"

    created = runner.invoke(args=["backup", "create", str(folder)])

    assert created.exit_code == 0, created.output
    assert "3 letters, 3 events, 1 prisoners, 1 facilities, 1 users" in created.output
    assert "keep it as safe as the server itself" in created.output
    assert _mode(folder) == 0o700
    names = {path.name for path in folder.iterdir()}
    assert names == {"konvert.db", "secret_key", "master_key", "manifest.json"}
    assert all(_mode(path) == 0o600 for path in folder.iterdir())
    manifest = _manifest(folder)
    assert manifest["database"] == "sqlite"
    assert manifest["alembic_revision"] == HEAD
    assert manifest["counts"]["letters"] == 3
    assert {item["name"]: item["role"] for item in manifest["files"]} == {
        "konvert.db": "database",
        "secret_key": "secret",
        "master_key": "secret",
    }
    assert all(len(item["sha256"]) == 64 for item in manifest["files"])
    assert not (folder / "konvert.db-wal").exists()  # one self-contained file

    target = _target_app(tmp_path)
    restored = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])

    assert restored.exit_code == 0, restored.output
    assert "3 of 3 files matched their checksums" in restored.output
    assert "PRAGMA integrity_check: ok" in restored.output
    assert f"at migration {HEAD} (the latest)" in restored.output
    assert (
        "3 letters, 3 events, 1 prisoners, 1 facilities, 1 users, 0 drives (as in the backup)"
        in (restored.output)
    )
    instance = Path(target.instance_path)
    assert (instance / "secret_key").read_text() == app.config["SECRET_KEY"]
    assert (instance / "master_key").read_bytes() == b"\x01" * 32
    assert _mode(instance / "master_key") == 0o600
    assert _mode(instance / "konvert.db") == 0o600
    with target.app_context():
        client = target.test_client()
        for number, token in enumerate(tokens):
            page = client.get(f"/t/{token}")
            assert page.status_code == 200
            assert f"note {number}" in page_text(page)
            assert 'id="letter-status">Sent' in page.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()


def test_the_backup_copies_the_sqlite_job_queue(app, runner, tmp_path):
    queue = Path(app.instance_path) / "jobs.db"
    with closing(sqlite3.connect(queue)) as connection:
        connection.execute("CREATE TABLE task (id INTEGER PRIMARY KEY, data BLOB)")
        connection.execute("INSERT INTO task (data) VALUES (x'0102')")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.commit()
        folder = tmp_path / "backup"
        # The queue's connection stays open: its last write may still be in its WAL.
        created = runner.invoke(args=["backup", "create", str(folder)])
    assert created.exit_code == 0, created.output
    assert {item["name"]: item["role"] for item in _manifest(folder)["files"]}[
        "jobs.db"
    ] == "queue"
    target = _target_app(tmp_path)
    restored = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert restored.exit_code == 0, restored.output
    assert "jobs.db (job queue)" in restored.output
    with closing(sqlite3.connect(Path(target.instance_path) / "jobs.db")) as connection:
        assert connection.execute("SELECT data FROM task").fetchall() == [(b"\x01\x02",)]


def test_a_backup_goes_into_a_new_or_empty_folder(app, runner, tmp_path):
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "something").write_text("old")
    result = runner.invoke(args=["backup", "create", str(folder)])
    assert result.exit_code != 0
    assert "is not empty: give a new folder for each backup" in result.output
    assert [path.name for path in folder.iterdir()] == ["something"]


def test_a_changed_file_is_refused_before_anything_is_restored(app, runner, tmp_path):
    _letters_with_events()
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "create", str(folder)]).exit_code == 0
    with (folder / "konvert.db").open("r+b") as handle:
        handle.seek(5000)
        handle.write(b"\x00\xff")
    target = _target_app(tmp_path)
    (Path(target.instance_path) / "secret_key").write_text("the target's own key")

    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])

    assert result.exit_code != 0
    assert "does not match its manifest, nothing was restored" in result.output
    assert "konvert.db has changed since the backup (checksum differs)" in result.output
    assert (Path(target.instance_path) / "secret_key").read_text() == "the target's own key"
    assert (Path(target.instance_path) / "konvert.db").stat().st_size == 0  # still empty


def test_a_folder_without_a_manifest_is_not_a_backup(app, tmp_path):
    folder = tmp_path / "half"
    folder.mkdir()
    target = _target_app(tmp_path)
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code != 0
    assert "not a Konvert backup, or one that did not finish" in result.output


def test_restore_refuses_an_instance_with_data_unless_forced(app, runner, tmp_path):
    _letters_with_events()
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "create", str(folder)]).exit_code == 0
    # The instance goes on: one more letter after the backup.
    add_event(make_letter(make_prisoner()), EventKind.SENT, date.today(), note="after")

    refused = runner.invoke(args=["backup", "restore", str(folder)])

    assert refused.exit_code != 0
    assert "already holds data (4 letters, 4 events, 2 prisoners, 1 facilities)" in refused.output
    assert "pass --force to replace everything in it" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 4

    db.session.remove()
    db.engine.dispose()
    forced = runner.invoke(args=["backup", "restore", "--force", str(folder)])

    assert forced.exit_code == 0, forced.output
    assert "3 letters, 3 events, 1 prisoners" in forced.output
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Letter)) == 3
    assert db.session.scalar(select(MailEvent).where(MailEvent.note == "after")) is None


def test_a_backup_of_an_older_migration_is_upgraded_on_restore(tmp_path):
    old = _target_app(tmp_path, "old")
    folder = tmp_path / "backup"
    with old.app_context():
        upgrade(revision=OLDER)
        created = old.test_cli_runner().invoke(args=["backup", "create", str(folder)])
        db.engine.dispose()
    assert created.exit_code == 0, created.output
    assert _manifest(folder)["alembic_revision"] == OLDER

    target = _target_app(tmp_path)
    with target.app_context():
        restored = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
        db.engine.dispose()

    assert restored.exit_code == 0, restored.output
    assert f"migrated from {OLDER} to {HEAD} (the latest)" in restored.output


def test_a_backup_from_a_newer_konvert_is_refused(app, runner, tmp_path):
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "create", str(folder)]).exit_code == 0
    with closing(sqlite3.connect(folder / "konvert.db")) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeed0000'")
        connection.commit()
    _rewrite_checksum(folder, "konvert.db")
    target = _target_app(tmp_path)
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code != 0
    assert "at migration 'f00dfeed0000', which this Konvert" in result.output
    assert "restore it with the Konvert version that made the backup (" in result.output


def test_a_sqlite_backup_is_not_restored_into_postgresql(pg_app, tmp_path):
    source = _target_app(tmp_path, "sqlite")
    folder = tmp_path / "backup"
    with source.app_context():
        upgrade()
        created = source.test_cli_runner().invoke(args=["backup", "create", str(folder)])
        db.engine.dispose()
    assert created.exit_code == 0, created.output
    result = pg_app.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code != 0
    assert "a backup of a sqlite database, and this instance runs on postgresql" in result.output


def test_the_database_password_is_never_on_a_command_line():
    from sqlalchemy.engine import make_url

    libpq = Libpq.of(make_url("postgresql+psycopg://konvert:s3cr%40t@db.example:5433/konvert"))
    arguments = dump_arguments("pg_dump", libpq, Path("/b/konvert.pgdump"))
    assert arguments == [
        "pg_dump",
        "--format=custom",
        "--file=/b/konvert.pgdump",
        "--dbname=postgresql://konvert@db.example:5433/konvert",
    ]
    assert libpq.environment()["PGPASSWORD"] == "s3cr@t"
    shown = libpq.shown(arguments)
    assert "s3cr" not in shown
    assert shown.startswith("PGPASSWORD='<the database password>' pg_dump --format=custom")


def test_on_postgresql_without_pg_dump_the_command_to_run_is_printed(pg_app, tmp_path):
    """No pg_dump where KONVERT_PG_BIN points: the secrets and manifest are written and the
    exact pg_dump command printed; run by hand, it completes the backup, which restores
    (and with pg_restore missing too, the pg_restore command, then --database-restored)."""
    token = _letters_with_events()[2].token
    nothing = tmp_path / "no-binaries"
    nothing.mkdir()
    pg_app.config["PG_BIN"] = str(nothing)
    folder = tmp_path / "backup"

    created = pg_app.test_cli_runner().invoke(args=["backup", "create", str(folder)])

    assert created.exit_code == 1, created.output
    assert "the database is NOT in the backup yet" in created.output
    command = _manifest(folder)["pending_command"]
    assert command.startswith("pg_dump --format=custom --file=")
    assert command in created.output
    assert {path.name for path in folder.iterdir()} == {"secret_key", "manifest.json"}
    made = subprocess.run(command, shell=True, capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr

    database = _new_postgres_database(pg_app, "restored_by_hand")
    target = _target_app(tmp_path, SQLALCHEMY_DATABASE_URI=database, PG_BIN=str(nothing))
    runner = target.test_cli_runner()
    missing = runner.invoke(args=["backup", "restore", str(folder)])
    assert missing.exit_code != 0
    assert "pg_restore was not found" in missing.output
    restore_command = missing.output.split("by hand:\n  ")[1].splitlines()[0]
    assert restore_command.startswith("pg_restore --dbname=postgresql://postgres@127.0.0.1:")
    done = subprocess.run(restore_command, shell=True, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr

    restored = runner.invoke(args=["backup", "restore", "--database-restored", str(folder)])

    assert restored.exit_code == 0, restored.output
    assert "restored database: 3 letters, 3 events, 1 prisoners" in restored.output
    assert "konvert.pgdump was made by hand after the backup" in restored.output
    with target.app_context():
        client = target.test_client()
        assert "note 2" in page_text(client.get(f"/t/{token}"))
        db.session.remove()
        db.engine.dispose()


def _new_postgres_database(pg_app: Flask, name: str) -> str:
    """An empty database on the test cluster; its SQLAlchemy URL."""
    import psycopg
    from psycopg import sql

    url = db.engine.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(database=name).render_as_string(hide_password=False)


def test_a_different_konvert_secret_key_on_the_target_is_pointed_out(app, runner, tmp_path):
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "create", str(folder)]).exit_code == 0
    assert _manifest(folder)["secret_key_from"] == "setting"
    target = _target_app(tmp_path, SECRET_KEY="another key set by KONVERT_SECRET_KEY")
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 0, result.output
    assert "KONVERT_SECRET_KEY is set and differs from the backup's secret key" in result.output
    restored_key = (Path(target.instance_path) / "secret_key").read_text()
    assert restored_key == app.config["SECRET_KEY"]
    assert restored_key not in result.output  # a secret is never printed


def test_a_failed_backup_leaves_no_copy_behind(app, runner, tmp_path):
    Path(app.instance_path, "jobs.db").write_bytes(b"not a database at all, " * 100)
    folder = tmp_path / "backup"
    result = runner.invoke(args=["backup", "create", str(folder)])
    assert result.exit_code != 0
    assert list(folder.iterdir()) == []


def test_on_postgresql_a_backup_replaces_a_migrated_database(pg_app, tmp_path):
    """pg_dump and pg_restore from Debian's package: into a migrated, still empty database
    (as `make run` leaves one, templates loaded), and with --force over one with data."""
    token = _letters_with_events()[0].token
    folder = tmp_path / "backup"
    created = pg_app.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert created.exit_code == 0, created.output
    assert {path.name for path in folder.iterdir()} == {
        "konvert.pgdump",
        "secret_key",
        "manifest.json",
    }
    assert _mode(folder / "konvert.pgdump") == 0o600
    assert _manifest(folder)["counts"]["letters"] == 3

    database = _new_postgres_database(pg_app, "restored_over_migrated")
    target = _target_app(tmp_path, SQLALCHEMY_DATABASE_URI=database)
    with target.app_context():
        upgrade()
        runner = target.test_cli_runner()
        assert runner.invoke(args=["letters", "sync"]).exit_code == 0
        restored = runner.invoke(args=["backup", "restore", str(folder)])
        assert restored.exit_code == 0, restored.output
        assert "pg_restore can read konvert.pgdump" in restored.output
        assert "3 letters, 3 events, 1 prisoners" in restored.output
        add_event(make_letter(make_prisoner()), EventKind.SENT, date.today(), note="later")
        refused = runner.invoke(args=["backup", "restore", str(folder)])
        assert "already holds data (4 letters" in refused.output
        db.session.remove()
        forced = runner.invoke(args=["backup", "restore", "--force", str(folder)])
        assert forced.exit_code == 0, forced.output
        assert "(as in the backup)" in forced.output
        page = target.test_client().get(f"/t/{token}")
        assert "note 0" in page_text(page)
        db.session.remove()
        db.engine.dispose()
