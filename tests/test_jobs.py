"""The job queue with a real Huey consumer process, as `make run` starts it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app, jobs
from app.extensions import db
from app.mail import tasks as mail_tasks
from app.mail.services import queue_email
from app.models import OutboxMessage, OutboxStatus
from config import TestConfig
from tests.postgres import truncate_all_tables
from tests.servers import redis_server
from tests.test_mail import free_port, reminder_context, smtp_server

REPO = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 60  # the consumer imports the whole app before its first task


def wait_for(condition, seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@contextmanager
def database_and_queue(
    request: pytest.FixtureRequest, instance: Path, setup: str
) -> Iterator[tuple[str, str | None]]:
    """The database URL and Redis URL (None: the SQLite queue in the instance folder) of a
    set-up: "embedded" is what `make run` uses, "scaled" what several machines use."""
    if setup == "embedded":
        shutil.copy(request.getfixturevalue("migrated_database"), instance / "konvert.db")
        yield f"sqlite:///{instance / 'konvert.db'}", None
        return
    server = request.getfixturevalue("postgres_server")
    emptying = create_app("testing", {"SQLALCHEMY_DATABASE_URI": server.url,
                                      "INSTANCE_PATH": str(instance)})  # fmt: skip
    with emptying.app_context():
        truncate_all_tables()
        db.engine.dispose()
    with redis_server(instance.parent) as redis_url:
        yield server.url, redis_url


@pytest.mark.parametrize("setup", ["embedded", "scaled"])
def test_a_consumer_process_delivers_mail_committed_in_another_process(
    request: pytest.FixtureRequest, tmp_path: Path, setup: str
):
    """Embedded: SQLite and the SQLite queue. Scaled: PostgreSQL and Huey on a real Redis."""
    instance = tmp_path / "instance"
    instance.mkdir()
    with database_and_queue(request, instance, setup) as (database_url, redis_url):
        _deliver_through_a_consumer(instance, tmp_path, database_url, redis_url)


def _deliver_through_a_consumer(
    instance: Path, tmp_path: Path, database_url: str, redis_url: str | None
) -> None:
    port = free_port()
    settings = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        # The web app's and the consumer's master key must be the same: the consumer
        # decrypts the queued mail the test's app encrypted.
        "MASTER_KEY": str(TestConfig.MASTER_KEY),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "MAIL_USE_TLS": "0",
        "HUEY_IMMEDIATE": "0",
        **({"REDIS_URL": redis_url} if redis_url else {}),
    }
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KONVERT_")}
    environment.update({f"KONVERT_{key}": value for key, value in settings.items()})
    consumer_bin = Path(sys.executable).parent / "huey_consumer"
    log_file = tmp_path / "consumer.log"

    app = create_app(
        "testing",
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "HUEY_IMMEDIATE": False,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_USE_TLS": False,
            "REDIS_URL": redis_url,
        },
    )
    with smtp_server(port) as inbox, log_file.open("wb") as log:
        consumer = subprocess.Popen(
            [str(consumer_bin), "app.worker.huey", "-w", "1", "-d", "0.1", "-m", "0.5"],
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            with app.app_context():

                def statuses() -> list[OutboxStatus]:
                    db.session.expire_all()
                    db.session.rollback()
                    return list(
                        db.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id))
                    )

                # The commit enqueues delivery into the queue in the instance folder.
                queue_email("first@example.org", "reminder", reminder_context())
                db.session.commit()
                # The queue is where the set-up says: a file here, or Redis and no file.
                assert (instance / "jobs.db").exists() is (redis_url is None)
                assert wait_for(lambda: len(inbox.messages) >= 1), log_file.read_text()
                assert wait_for(lambda: statuses() == [OutboxStatus.SENT]), log_file.read_text()
                # What the job reports is in the consumer's log, beside huey's own lines.
                assert wait_for(lambda: "konvert.jobs" in log_file.read_text())
                assert "outbox: 1 sent, 0 to retry, 0 dead" in log_file.read_text()

                # A second message, and delivery enqueued once more by hand: each goes once.
                queue_email("second@example.org", "reminder", reminder_context())
                db.session.commit()
                mail_tasks.deliver_outbox()
                assert wait_for(lambda: statuses() == [OutboxStatus.SENT] * 2), (
                    log_file.read_text()
                )
                assert wait_for(lambda: jobs.huey.pending_count() == 0), log_file.read_text()
                time.sleep(1)  # time for a duplicate to arrive, if there were one

                assert consumer.poll() is None, log_file.read_text()
                assert [m["To"] for m in inbox.messages] == [
                    "first@example.org",
                    "second@example.org",
                ]
                assert len({m["Message-ID"] for m in inbox.messages}) == 2
                db.session.remove()
                db.engine.dispose()
        finally:
            consumer.send_signal(signal.SIGINT)  # graceful: finish the task at hand, then stop
            try:
                consumer.wait(timeout=20)
            except subprocess.TimeoutExpired:
                consumer.kill()
                consumer.wait()
            jobs.huey.storage.close()
    assert consumer.returncode == 0  # a clean, graceful stop


def test_a_consumer_started_by_run_sh_keeps_the_locks_of_consumers_elsewhere(
    migrated_database: Path, tmp_path: Path
):
    """A consumer started by scripts/run.sh no longer flushes the locks at start
    (`--flush-locks` cleared those of consumers still running on other machines)."""
    from huey import RedisHuey

    from tests.servers import consumer_sh, redis_server

    instance = tmp_path / "worker"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "konvert.db")
    with redis_server(tmp_path) as url:
        queue = RedisHuey(jobs.QUEUE_NAME, url=url)
        key = f"{jobs.QUEUE_NAME}.lock.konvert-stats-facilities"
        # Held just now by a consumer on another machine, busy with a recount.
        holder = {"machine": "another-machine", "pid": 4242, "since": time.time()}
        queue.put(key, holder)
        with consumer_sh(instance, {"REDIS_URL": url}, tmp_path / "worker.log"):
            assert queue.get(key, peek=True) == holder
        queue.storage.close()
