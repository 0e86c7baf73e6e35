"""The directory's background job: recounting the letters each prisoner got lately."""

from __future__ import annotations

from datetime import date

from huey import crontab

from app import edge
from app.directory.recent import ensure_counted
from app.job_locks import lock_task
from app.jobs import huey, log, task_app


@huey.periodic_task(crontab(minute="*/5"))
@lock_task("konvert-recent-letters")
def recount_recent_letters() -> None:
    """Every five minutes, recount unless the counts hold for today (one query when they
    do): after midnight the 90-day window has moved."""
    with edge.job(task_app()):
        recounted = ensure_counted(date.today())
    if recounted:
        log.info("directory: recent letter counts recounted")
