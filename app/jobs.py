"""Background jobs on Huey: mail delivery from the outbox, reminders, the weekly digest.

The queue is SQLite in the instance folder (``jobs.db``) by default and Redis when
KONVERT_REDIS_URL is set; KONVERT_HUEY_IMMEDIATE runs every job in-process at once (tests).
Run the consumer with ``huey_consumer app.jobs.huey -w N`` (``make run`` does). Tasks need the
Flask app: the consumer builds it once per process, on the first task; where an app context
is already active (immediate mode, in the web app or a test) the task uses that one.

A commit that adds (or re-queues) outbox messages enqueues ``deliver_outbox`` right after it
commits, so mail goes out within moments; the same task also runs every minute and picks up
anything a failed enqueue or a crash left behind. Messages are never sent before the commit
that wrote them, and nothing is sent when that transaction rolls back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from huey import RedisHuey, SqliteHuey, crontab
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import OutboxMessage, OutboxStatus
from app.models.base import utcnow
from config import env, env_bool, instance_path

log = logging.getLogger("konvert.jobs")
QUEUE_NAME = "konvert"


class LazySqliteStorage(SqliteStorage):
    """Huey's SQLite storage, creating its file and tables on first use rather than at import.

    Importing this module (every web process does) must not create files: tests would leave
    a jobs.db in ./instance, and a process that only runs jobs immediately never needs one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["create_tables"] = False
        super().__init__(*args, **kwargs)

    def _create_connection(self) -> Any:
        Path(self.filename).parent.mkdir(parents=True, exist_ok=True)
        connection = super()._create_connection()
        for statement in self.ddl:  # all "if (not) exists": safe in every process
            connection.execute(statement)
        return connection


def _storage_settings(
    immediate: bool, redis_url: str | None, folder: Path
) -> tuple[bool, type[Any], dict[str, Any]]:
    if redis_url:
        return immediate, RedisStorage, {"url": redis_url}
    return immediate, LazySqliteStorage, {"filename": str(folder / "jobs.db")}


def _make_huey() -> SqliteHuey | RedisHuey:
    """The process's queue, configured from the environment (as the consumer sees it)."""
    immediate, storage_class, kwargs = _storage_settings(
        env_bool("HUEY_IMMEDIATE", False), env("REDIS_URL") or None, instance_path()
    )
    huey_class = RedisHuey if storage_class is RedisStorage else SqliteHuey
    return huey_class(
        QUEUE_NAME,
        immediate=immediate,
        results=False,  # nobody waits for a result; Redis would only accumulate them
        storage_class=storage_class,
        **kwargs,
    )


huey = _make_huey()
_bound: tuple[Any, ...] | None = None
_bind_lock = threading.Lock()
_in_consumer = False
_log_lock = threading.Lock()


@huey.on_startup()
def _mark_consumer() -> None:
    """Inside the consumer the queue stays as the environment configured it, and the jobs'
    own reports ("outbox: 3 sent", …) are logged where the consumer logs."""
    global _in_consumer  # one flag per process
    _in_consumer = True
    log_beside_consumer()


def log_beside_consumer() -> None:
    """Give Konvert's loggers the handlers and level of huey's.

    huey_consumer sets up logging for the ``huey`` logger only, so without this everything
    below WARNING that a job logs would be dropped. Runs once per worker thread: idempotent.
    """
    ours, consumers = logging.getLogger("konvert"), logging.getLogger("huey")
    with _log_lock:
        for handler in consumers.handlers:
            if handler not in ours.handlers:
                ours.addHandler(handler)
        ours.setLevel(consumers.level)
        ours.propagate = not consumers.handlers  # not twice, should the root log too


def bind_queue(app: Flask) -> None:
    """Point the queue at the storage this app's configuration names.

    The queue is one per process but configuration is per app: the test suite builds many
    apps (immediate mode), and a test may point one at a consumer's instance folder. In the
    web app and the consumer, configuration and environment agree and nothing changes.
    """
    if _in_consumer:
        return
    with _bind_lock:
        _bind(app)


def _bind(app: Flask) -> None:
    global _bound  # one queue per process
    settings = _storage_settings(
        bool(app.config.get("HUEY_IMMEDIATE")),
        app.config.get("REDIS_URL") or None,
        Path(app.instance_path),
    )
    key = (settings[0], settings[1], tuple(sorted(settings[2].items())))
    if key == _bound:
        return
    immediate, storage_class, kwargs = settings
    old = huey.storage
    huey.storage_class = storage_class
    huey.storage_kwargs = kwargs
    huey.immediate = immediate
    huey.storage = huey.create_storage()  # the setter only rebuilds it when the mode changes
    if old is not huey.storage and hasattr(old, "close"):
        old.close()
    _bound = key


# --- the Flask app inside the consumer ---------------------------------------------------------

_app: Flask | None = None
_app_lock = threading.Lock()


def _consumer_app() -> Flask:
    """The app for tasks in the consumer, created once per process (thread-safe)."""
    global _app  # one app per consumer process
    with _app_lock:
        if _app is None:
            from app import create_app

            _app = create_app()
        return _app


@contextmanager
def app_context() -> Iterator[Flask]:
    """The current app when there is one (immediate mode), else the consumer's app."""
    if has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        bind_queue(app)
        yield app
        return
    with _consumer_app().app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]


# --- tasks ---------------------------------------------------------------------------------------


@huey.task()
def deliver_outbox() -> None:
    """Send every due outbox message (see app.mail.delivery.deliver_due)."""
    from app.mail.delivery import deliver_due

    with app_context():
        report = deliver_due()
        if report.sent or report.retrying or report.dead:
            log.info(
                "outbox: %s sent, %s to retry, %s dead", report.sent, report.retrying, report.dead
            )


@huey.periodic_task(crontab())  # every minute: retries, and anything an enqueue missed
def deliver_outbox_periodically() -> None:
    """Run the delivery every minute."""
    deliver_outbox.call_local()


@huey.periodic_task(crontab(minute="17", hour="8"))
def send_reminders() -> None:
    """Daily: queue the reminders to report back that are due (each at most once)."""
    from app.mail.services import send_due_reminders

    with app_context():
        queued = send_due_reminders(date.today())
        db.session.commit()
        log.info("reminders: %s queued", queued)


@huey.periodic_task(crontab(minute="0", hour="7", day_of_week="1"))
def send_weekly_digest() -> None:
    """Mondays: the past week in numbers, to every active organizer and admin.

    Once per ISO week even when several consumers run the schedule: the first to store the
    week's key in the shared queue storage sends it, the others find the key taken.
    """
    from app.mail.services import send_weekly_digest as queue_digest

    with app_context():
        now = utcnow()
        year, week, _day = now.isocalendar()
        if not huey.put_if_empty(f"digest:{year}-W{week:02d}", "sent"):
            log.info("digest: already sent this week")
            return
        queued = queue_digest(now)
        db.session.commit()
        log.info("digest: %s queued", queued)


def enqueue_delivery() -> None:
    """Ask the consumer to deliver now (in immediate mode: deliver now, here).

    A failure to enqueue (Redis down) is logged, not raised: the message is safe in the
    outbox and the every-minute run will send it.
    """
    if has_app_context():
        bind_queue(current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        deliver_outbox()
    except Exception:
        log.exception("could not enqueue outbox delivery; the periodic run will send it")


# --- enqueue delivery after a commit that wrote mail ---------------------------------------------

_FLAG = "konvert_outbox_pending"


def _writes_mail(session: Session) -> bool:
    if any(isinstance(item, OutboxMessage) for item in session.new):
        return True
    return any(
        isinstance(item, OutboxMessage) and item.status is OutboxStatus.PENDING
        for item in session.dirty
    )


@event.listens_for(db.session, "before_flush")
def _note_outbox_rows(session: Session, _context: Any, _instances: Any) -> None:
    if _writes_mail(session):
        session.info[_FLAG] = True


@event.listens_for(db.session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    if session.info.pop(_FLAG, False):
        enqueue_delivery()


@event.listens_for(db.session, "after_rollback")
def _forget_outbox_rows(session: Session) -> None:
    # The rows are gone with the transaction: nothing to deliver.
    session.info.pop(_FLAG, None)


# --- `flask outbox …` ----------------------------------------------------------------------------

outbox_cli = AppGroup("outbox", help="The mail outbox.")


@outbox_cli.command("deliver")
def outbox_deliver() -> None:
    """Send every due message now, in this process (no consumer needed)."""
    from app.mail.delivery import deliver_due

    report = deliver_due()
    click.echo(f"outbox: {report.sent} sent, {report.retrying} to retry, {report.dead} dead")


# Tasks defined by features register on import; the consumer only imports this module.
from app.drives import tasks as _drive_tasks  # noqa: E402, F401
from app.stats import tasks as _stats_tasks  # noqa: E402, F401
