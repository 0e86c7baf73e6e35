"""The translation desk's jobs: the daily digest to translators."""

from __future__ import annotations

from huey import crontab

from app import edge
from app.jobs import huey, log, task_app
from app.models.base import utcnow
from app.translation.digest import send_translator_digest


@huey.periodic_task(crontab(minute="23", hour="7"))
def send_translator_digest_daily() -> None:
    """Daily: open work in each translator's languages, counts only.

    Once a day even when several consumers run the schedule (the first to store the day's
    key in the shared queue storage sends it)."""
    with edge.job(task_app()):
        now = utcnow()
        if not huey.put_if_empty(f"translation-digest:{now.date().isoformat()}", "sent"):
            log.info("translation digest: already sent today")
            return
        queued = send_translator_digest(now)
    log.info("translation digest: %s queued", queued)
