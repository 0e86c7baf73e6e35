"""The print-pack jobs, run by the Huey consumer (or at once, in immediate mode): building a
pack, ending jobs that lost their consumer or queue, and deleting packs kept longer than
KONVERT_PACK_KEEP_DAYS.

A consumer stopped before a pack is done (TERM after the graceful wait, or INT) tells huey
which tasks it interrupted; the pack's job is then released at once, as interrupted, and its
renders still queued are dropped, so the organizer can build it again without waiting for the
lease to run out. A consumer that is killed outright cannot say so: its lease runs out, and
the sweeper ends the job within a minute after that.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from huey import crontab
from huey.api import Task
from huey.signals import SIGNAL_INTERRUPTED

from app import edge
from app.drives import print_jobs
from app.drives.printing import run_print_job
from app.jobs import enqueue, huey, log, task_app
from app.models.base import utcnow
from app.pdf.pool import PackPool

_pool: PackPool | None = None
_pool_lock = threading.Lock()
#: Set when this consumer is shutting down: packs (and mailroom print runs, which share the
#: pool: app.mailroom.tasks) being built stop at their next group.
stopping = threading.Event()


def consumer_pool() -> PackPool | None:
    """One long-lived pool of rendering processes per consumer, shared by drive packs and
    mailroom print runs; none in immediate mode."""
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
        run_print_job(
            job_id, envelope_size, sender_country, pool=consumer_pool(), stopping=stopping.is_set
        )


def enqueue_print_job(job_id: int, envelope_size: str, sender_country: str) -> None:
    """Queue the job on the queue this app is configured for (runs now in immediate mode).

    Called after the job is committed; when the queue cannot be reached the job is failed at
    once, saying so, rather than left queued.
    """
    if not enqueue(build_print_pack, job_id, envelope_size, sender_country):
        print_jobs.release(job_id, print_jobs.QUEUE_UNREACHABLE)


@huey.signal(SIGNAL_INTERRUPTED)
def release_interrupted_pack(signal: str, task: Task, *args: Any, **kwargs: Any) -> None:
    """The consumer is stopping and could not finish this task: if it builds a pack, release
    its job now (failed as interrupted) and drop its renders not yet started."""
    if not isinstance(task, build_print_pack.task_class):
        return
    stopping.set()
    job_id = int(task.args[0])
    with task_app().app_context():
        released = print_jobs.release(job_id, print_jobs.INTERRUPTED)
    log.warning("print pack %s interrupted by shutdown; released: %s", job_id, released)
    if _pool is not None:
        # Renders under way finish (a second at most), queued ones are dropped: the rendering
        # processes are gone before the consumer exits.
        _pool.close()


@huey.periodic_task(crontab())  # every minute: a lost job ends at most a minute after its lease
def end_abandoned_print_jobs() -> None:
    """Fail, as interrupted, the print jobs whose consumer or queue was lost."""
    with edge.job(task_app()):
        ended = print_jobs.end_abandoned_jobs(utcnow())
    if ended:
        log.warning("print packs: %s interrupted jobs ended", ended)


@huey.periodic_task(crontab(minute="41"))  # hourly: a pack outlives its days by an hour at most
def purge_print_packs() -> None:
    """Delete the print packs finished more than KONVERT_PACK_KEEP_DAYS ago."""
    with edge.job(task_app()) as app:
        deleted = print_jobs.purge_old_packs(utcnow(), int(app.config["PACK_KEEP_DAYS"]))
    if deleted:
        log.info("print packs: %s old packs deleted", deleted)
