"""The mailroom's print-run jobs, run by the Huey consumer (or at once, in immediate mode):
building a run, ending runs that lost their consumer or queue (their letters given back), and
deleting run files kept longer than KONVERT_PACK_KEEP_DAYS.

Runs render in the consumer's pool of rendering processes, the one drive packs use
(app.drives.tasks), and stop as packs do when the consumer shuts down.
"""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.api import Task
from huey.signals import SIGNAL_INTERRUPTED

from app import edge
from app.drives import print_jobs
from app.drives import tasks as drive_tasks
from app.jobs import enqueue, huey, log, task_app
from app.mailroom import run_build, runs
from app.models import PrintRun
from app.models.base import utcnow


@huey.task()
def build_print_run(run_id: int, envelope_size: str, language: str) -> None:
    """Build a mailroom print run's files and record its progress, files or failure."""
    with edge.job(task_app()):
        run_build.run_print_run(
            run_id,
            envelope_size,
            language,
            pool=drive_tasks.consumer_pool(),
            stopping=drive_tasks.stopping.is_set,
        )


def enqueue_run(run_id: int, envelope_size: str, language: str) -> None:
    """Queue the run's build, after the run is committed; when the queue cannot be reached
    the run is failed at once, saying so, and its letters given back."""
    if not enqueue(build_print_run, run_id, envelope_size, language):
        print_jobs.release(run_id, print_jobs.QUEUE_UNREACHABLE, PrintRun)
        with edge.job(task_app()):
            runs.release_letters_of_failed_runs()


@huey.signal(SIGNAL_INTERRUPTED)
def release_interrupted_run(signal: str, task: Task, *args: Any, **kwargs: Any) -> None:
    """The consumer is stopping and could not finish this run: release it now (failed as
    interrupted, its letters given back) rather than when its lease runs out."""
    if not isinstance(task, build_print_run.task_class):
        return
    drive_tasks.stopping.set()
    run_id = int(task.args[0])
    with edge.job(task_app()):
        released = print_jobs.release(run_id, print_jobs.INTERRUPTED, PrintRun)
        runs.release_letters_of_failed_runs()
    log.warning("print run %s interrupted by shutdown; released: %s", run_id, released)
    pool = drive_tasks.consumer_pool()
    if pool is not None:
        # As for a pack: renders under way finish, queued ones are dropped, and the rendering
        # processes are gone before the consumer exits.
        pool.close()


@huey.periodic_task(crontab())  # every minute, as the drive packs' sweeper
def end_abandoned_print_runs() -> None:
    """Fail, as interrupted, the runs whose consumer or queue was lost; give their letters
    back."""
    with edge.job(task_app()):
        ended = runs.end_abandoned_runs(utcnow())
    if ended:
        log.warning("print runs: %s interrupted runs ended", ended)


@huey.periodic_task(crontab(minute="43"))  # hourly
def purge_print_run_files() -> None:
    """Delete the files of runs built more than KONVERT_PACK_KEEP_DAYS ago."""
    with edge.job(task_app()) as app:
        deleted = runs.purge_old_run_files(utcnow(), int(app.config["PACK_KEEP_DAYS"]))
    if deleted:
        log.info("print runs: %s old files deleted", deleted)
