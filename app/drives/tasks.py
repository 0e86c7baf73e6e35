"""The print-pack jobs, run by the Huey consumer (or at once, in immediate mode): building a
pack, and deleting packs kept longer than KONVERT_PACK_KEEP_DAYS."""

from __future__ import annotations

import atexit
import threading

from huey import crontab

from app import edge
from app.drives.printing import purge_old_packs, run_print_job
from app.jobs import enqueue, huey, log, task_app
from app.models.base import utcnow
from app.pdf.pool import PackPool

_pool: PackPool | None = None
_pool_lock = threading.Lock()


def _consumer_pool() -> PackPool | None:
    """One long-lived pool of rendering processes per consumer; none in immediate mode."""
    global _pool  # one pool per consumer process, reused by every pack
    if huey.immediate:
        return None  # render_pack starts and stops a pool for the one call
    with _pool_lock:
        if _pool is None:
            _pool = PackPool()
            atexit.register(_pool.close)
        return _pool


@huey.task()
def build_print_pack(job_id: int, envelope_size: str, sender_country: str) -> None:
    """Render a drive's print pack and record its progress, file or failure."""
    with edge.job(task_app()):
        run_print_job(job_id, envelope_size, sender_country, pool=_consumer_pool())


def enqueue_print_job(job_id: int, envelope_size: str, sender_country: str) -> None:
    """Queue the job on the queue this app is configured for (runs now in immediate mode)."""
    enqueue(build_print_pack, job_id, envelope_size, sender_country)


@huey.periodic_task(crontab(minute="41"))  # hourly: a pack outlives its days by an hour at most
def purge_print_packs() -> None:
    """Delete the print packs finished more than KONVERT_PACK_KEEP_DAYS ago."""
    with edge.job(task_app()) as app:
        deleted = purge_old_packs(utcnow(), int(app.config["PACK_KEEP_DAYS"]))
    if deleted:
        log.info("print packs: %s old files deleted", deleted)
