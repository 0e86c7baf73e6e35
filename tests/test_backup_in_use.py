"""`flask backup restore` into an instance that other processes use: refused, with or without
--force, on SQLite and on PostgreSQL; allowed with --force once they are stopped, and then it
says what it replaced. Real processes: Konvert served by scripts/run.sh, a job consumer, and
the restore run as its own `flask` command.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

from flask import Flask

from app.extensions import db
from app.models import EventKind
from tests.factories import add_event, make_letter, make_prisoner
from tests.servers import REPO, VENV_BIN, consumer_sh, konvert_environment, run_sh
from tests.test_backup import _letters_with_events


def _settings(app: Flask) -> dict[str, str]:
    return {"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}


def _flask(
    instance: Path, settings: dict[str, str], *arguments: str
) -> subprocess.CompletedProcess[str]:
    """`flask …` in a process of its own, configured as the served instance is."""
    environment = konvert_environment(instance, settings)
    environment["FLASK_APP"] = "app:create_app"
    return subprocess.run(
        [str(VENV_BIN / "flask"), *arguments],
        cwd=REPO,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _let_go(app: Flask) -> None:
    """This test process closes its own connections: it is not one of the users tested."""
    db.session.remove()
    db.engine.dispose()


def test_a_restore_never_replaces_a_database_a_running_server_uses(any_db_app, tmp_path):
    _letters_with_events()
    folder = tmp_path / "backup"
    created = any_db_app.test_cli_runner().invoke(args=["backup", "create", str(folder)])
    assert created.exit_code == 0, created.output
    after = make_letter(make_prisoner())  # written after the backup
    add_event(after, EventKind.SENT, date.today(), note="after the backup")
    written_after = after.token
    instance = Path(any_db_app.instance_path)
    settings = _settings(any_db_app)
    _let_go(any_db_app)

    with run_sh(instance, settings, tmp_path / "web.log", role="web") as served:
        assert (
            _status(f"{served.url}/t/{written_after}") == 200
        )  # the server has the database open
        for arguments in (["--force"], []):
            refused = _flask(instance, settings, "backup", "restore", *arguments, str(folder))
            assert refused.returncode != 0
            output = refused.stdout + refused.stderr
            if arguments:
                in_use = ("is open in another process", "is in use: ")
                assert any(text in output for text in in_use), output
                assert "nothing was restored" in output
            else:  # without --force, the data is what it refuses for first
                assert "already holds data (4 letters, 4 events, 2 prisoners" in output
        # Nothing changed: the letter written after the backup is still there.
        assert _status(f"{served.url}/t/{written_after}") == 200

    forced = _flask(instance, settings, "backup", "restore", "--force", str(folder))
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "replaced (--force): what the instance held, 4 letters, 4 events" in forced.stdout
    assert "restored database: 3 letters, 3 events, 1 prisoners" in forced.stdout
    with run_sh(instance, settings, tmp_path / "web-after.log", role="web") as served:
        assert _status(f"{served.url}/t/{written_after}") == 404


def test_a_restore_refuses_while_a_job_consumer_has_the_sqlite_queue_open(app, tmp_path):
    """A consumer that has not touched the database yet polls the queue: it is seen there."""
    instance = Path(app.instance_path)
    settings = _settings(app)
    folder = tmp_path / "backup"
    _let_go(app)
    with consumer_sh(instance, settings, tmp_path / "worker.log") as worker:
        # The consumer says it started just before its first poll opens the queue file.
        deadline = time.monotonic() + 30
        while not (instance / "jobs.db").is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (instance / "jobs.db").is_file()
        created = _flask(instance, settings, "backup", "create", str(folder))
        assert created.returncode == 0, created.stdout + created.stderr
        refused = _flask(instance, settings, "backup", "restore", str(folder))
        assert refused.returncode != 0
        assert f"{instance / 'jobs.db'} is open in another process" in refused.stderr
        assert worker.process.poll() is None
    restored = _flask(instance, settings, "backup", "restore", str(folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "jobs.db (job queue)" in restored.stdout
