"""The background-job queue (Huey), and nothing else.

The queue is SQLite in the instance folder (``jobs.db``) by default and Redis when
KONVERT_REDIS_URL is set; KONVERT_HUEY_IMMEDIATE runs every job in-process at once (tests).
Each feature defines its jobs in its own ``tasks.py``; the consumer runs
``huey_consumer app.worker.huey``, and `app.worker` imports every task module.

Tasks need the Flask app: `task_app` gives the current one where an app context is active
(immediate mode, in the web app or a test) and otherwise the consumer's, built once per
process by the factory `app.worker` registers. Tasks run their body in `app.edge.job`, which
commits at their end.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.storage import BaseStorage, RedisStorage, SqliteStorage

from app.private_files import ensure_private_file
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

    def _create_connection(self) -> sqlite3.Connection:
        # Job arguments can be private: the queue's file is this user's only (see the database).
        ensure_private_file(Path(self.filename))
        connection = super()._create_connection()
        for statement in self.ddl:  # all "if (not) exists": safe in every process
            connection.execute(statement)
        return connection


def _storage_settings(
    immediate: bool, redis_url: str | None, folder: Path
) -> tuple[bool, type[BaseStorage], dict[str, Any]]:
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


def mark_in_consumer() -> None:
    """Inside the consumer the queue stays as the environment configured it (`app.worker`)."""
    global _in_consumer  # one flag per process
    _in_consumer = True


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


# --- the Flask app of a task ------------------------------------------------------------------

_app_factory: Callable[[], Flask] | None = None
_app: Flask | None = None
_app_lock = threading.Lock()


def use_app_factory(factory: Callable[[], Flask]) -> None:
    """Name how the consumer builds its app (`app.worker` passes `create_app`)."""
    global _app_factory  # one factory per process
    _app_factory = factory


def task_app() -> Flask:
    """The app a task runs in: the current one (immediate mode), else the consumer's.

    The consumer's app is built once per process, on the first task (thread-safe).
    """
    global _app  # one app per consumer process
    if has_app_context():
        # Flask types current_app as the app itself, hiding the proxy's method.
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        bind_queue(app)
        return app
    with _app_lock:
        if _app is None:
            if _app_factory is None:
                raise RuntimeError("no app for tasks: run the consumer on app.worker.huey")
            _app = _app_factory()
        return _app


def queue_reachable() -> bool:
    """Whether a job queued now would reach the queue: False when Redis does not answer.

    The SQLite queue is a file of this machine, and immediate mode needs no queue at all.
    """
    if has_app_context():
        # Flask types current_app as the app itself, hiding the proxy's method.
        bind_queue(current_app._get_current_object())  # type: ignore[attr-defined]
    storage = huey.storage
    if huey.immediate or not isinstance(storage, RedisStorage):
        return True
    try:
        storage.conn.ping()
    except Exception:  # any failure to answer (refused, timed out, protocol) is the same here
        log.warning("the job queue (Redis) does not answer", exc_info=True)
        return False
    return True


def enqueue(task: TaskWrapper, *args: Any) -> bool:
    """Queue ``task`` on the queue the current app is configured for (in immediate mode it
    runs now, here); False when the queue cannot be reached.

    A failure to enqueue (Redis down) is logged, not raised: callers keep what they need in
    the database, and the periodic jobs pick it up.
    """
    if has_app_context():
        # Flask types current_app as the app itself, hiding the proxy's method.
        bind_queue(current_app._get_current_object())  # type: ignore[attr-defined]
    if huey.immediate:
        task(*args)  # runs here and now: its failure is the caller's to see
        return True
    try:
        task(*args)
    except Exception:
        log.exception("could not enqueue %s", task.func.__name__)
        return False
    return True
