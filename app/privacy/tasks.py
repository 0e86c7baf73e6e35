"""The privacy job: what was deleted must leave the disk too (see app.database.forget_freed_pages).

Deletions that remove a supporter's secret (a letter, a reminder address, a posted batch's key
copies) ask for it right after their commit; this job repeats it for the deletions made by other
jobs (sent mail pruned, packs and uploads expired) and for any attempt a busy reader foiled.
"""

from __future__ import annotations

from huey import crontab

from app.database import truncate_write_ahead_log
from app.jobs import huey, log, task_app


@huey.periodic_task(crontab(minute="*/10"))
def forget_freed_pages_periodically() -> None:
    """Every ten minutes: checkpoint and truncate SQLite's write-ahead log."""
    with task_app().app_context():
        if not truncate_write_ahead_log():
            log.debug("privacy: the write-ahead log was not truncated (busy, or not SQLite)")
