"""The job consumer's entry point: ``huey_consumer app.worker.huey`` (``make run`` does).

It imports every feature's task module explicitly, so that the consumer knows every task
and periodic job, and tells the queue how to build the Flask app the tasks run in (once per
process, on the first task; `create_app` installs the session hooks jobs rely on).
"""

from __future__ import annotations

import logging
import threading

from app import create_app, logredact
from app.directory import tasks as directory_tasks
from app.drives import tasks as drive_tasks
from app.imports import tasks as import_tasks
from app.jobs import huey, mark_in_consumer, use_app_factory
from app.mail import tasks as mail_tasks
from app.mailroom import incoming_tasks as mailroom_incoming_tasks
from app.mailroom import tasks as mailroom_tasks
from app.privacy import tasks as privacy_tasks
from app.stats import tasks as stats_tasks
from app.translation import tasks as translation_tasks
from config import missing_shared_secret_in_environment

TASK_MODULES = (
    directory_tasks,
    drive_tasks,
    import_tasks,
    mail_tasks,
    mailroom_incoming_tasks,
    mailroom_tasks,
    privacy_tasks,
    stats_tasks,
    translation_tasks,
)
__all__ = ["TASK_MODULES", "huey"]

# Refused here, at start, rather than on the first task: a consumer on a shared database with
# a key of its own would write private links that no web server can open.
_refusal = missing_shared_secret_in_environment()
if _refusal is not None:
    raise SystemExit(_refusal)
use_app_factory(create_app)
_log_lock = threading.Lock()


@huey.on_startup()
def _start_worker_thread() -> None:
    """Inside the consumer the queue stays as the environment configured it, and the jobs'
    own reports ("outbox: 3 sent", …) are logged where the consumer logs."""
    mark_in_consumer()
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
        # No token in the consumer's log either (its handlers exist only now); the app, built
        # on the first task, teaches the redactor its token routes.
        logredact.install()
