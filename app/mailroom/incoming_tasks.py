"""The mailroom's periodic jobs for what it keeps of letters and incoming post: ending the
organisation's access to letters whose reply window closed, and deleting the replies nobody
matched once their time is up."""

from __future__ import annotations

from datetime import date

from huey import crontab

from app import edge
from app.database import forget_freed_pages
from app.jobs import huey, log, task_app
from app.mailroom.retention import end_expired_access, purge_unmatched


@huey.periodic_task(crontab(minute="23"))  # hourly: a window closes at most an hour late
def end_closed_reply_windows() -> None:
    """Destroy the organisers' key copies of mailroom letters past their reply window, and
    of rejected letters."""
    with edge.job(task_app()):
        ended = end_expired_access(date.today())
        if ended:
            edge.after_commit(forget_freed_pages)
    if ended:
        log.info("mailroom: the organisation's access to %s letters ended", ended)


@huey.periodic_task(crontab(minute="53"))  # hourly: a reply outlives its days by an hour at most
def purge_unmatched_replies() -> None:
    """Delete the replies held or given up on whose holding period is over, with their scans."""
    with edge.job(task_app()):
        deleted = purge_unmatched(date.today())
        if deleted:
            edge.after_commit(forget_freed_pages)
    if deleted:
        log.info("mailroom: %s unmatched replies deleted", deleted)
