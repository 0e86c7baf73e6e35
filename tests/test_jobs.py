"""The job queue with a real Huey consumer process, as `make run` starts it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from app import create_app, jobs
from app.extensions import db
from app.mail import tasks as mail_tasks
from app.mail.services import queue_email
from app.models import OutboxMessage, OutboxStatus
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


def test_a_consumer_process_delivers_mail_committed_in_another_process(
    migrated_database: Path, tmp_path: Path
):
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "konvert.db")
    database_url = f"sqlite:///{instance / 'konvert.db'}"
    port = free_port()
    settings = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "MAIL_USE_TLS": "0",
        "HUEY_IMMEDIATE": "0",
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
                assert (instance / "jobs.db").exists()
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


def test_make_run_keeps_the_locks_of_consumers_elsewhere_and_can_leave_the_schedule(
    migrated_database: Path, tmp_path: Path
):
    """A consumer started by scripts/run.sh no longer flushes every lock (`--flush-locks`
    cleared those of consumers still running on other machines), and with
    KONVERT_JOB_SCHEDULER=0 leaves the periodic jobs to the one consumer that has them."""
    from huey import RedisHuey

    from tests.servers import redis_server, run_sh

    instance = tmp_path / "served"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "konvert.db")
    with redis_server(tmp_path) as url:
        queue = RedisHuey(jobs.QUEUE_NAME, url=url)
        key = f"{jobs.QUEUE_NAME}.lock.konvert-stats-facilities"
        # Held just now by a consumer on another machine, busy with a recount.
        holder = {"machine": "another-machine", "pid": 4242, "since": time.time()}
        queue.put(key, holder)
        settings = {"REDIS_URL": url, "JOB_SCHEDULER": "0"}
        with run_sh(instance, settings, tmp_path / "server.log") as served:
            assert wait_for(lambda: "Huey consumer started" in served.log_text())
            assert "Periodic tasks are disabled." in served.log_text()
            assert queue.get(key, peek=True) == holder
        queue.storage.close()
