"""The print-pack job, run by the Huey consumer (or at once, in immediate mode)."""

from __future__ import annotations

import atexit
import threading

from app import edge
from app.drives.printing import run_print_job
from app.jobs import enqueue, huey, task_app
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
