"""Recomputing the /stats overview and the facility figures in the background (the overview at
once in immediate mode)."""

from __future__ import annotations

import threading
import time
from datetime import date

from flask import current_app
from huey import crontab

from app import edge
from app.job_locks import lock_task
from app.jobs import bind_queue, enqueue, huey, log, task_app
from app.stats import snapshots
from app.stats.overview import refresh_overview_now
from app.stats.services import precompute_facility_figures as precompute

# Readers who find the overview out of date ask for a refresh; one request per process every
# few seconds is plenty, however many readers there are.
_ASK_AT_MOST_EVERY = 10.0
_last_asked = 0.0
_ask_lock = threading.Lock()


@huey.task()
@lock_task("konvert-stats-overview")
def refresh_overview() -> None:
    """Recompute the overview unless another run already brought it up to date."""
    with edge.job(task_app()):
        today = date.today()
        current = snapshots.read(snapshots.OVERVIEW)
        if current and not current.stale and current.payload["as_of"] == today.isoformat():
            return
        refresh_overview_now(today)


@huey.periodic_task(crontab())  # every minute: after reports, a new day or a bulk load
@lock_task("konvert-stats-facilities")
def precompute_facility_figures() -> None:
    """Store the figures of every facility that has none for today, or whose figures a report
    made out of date (see the service)."""
    with edge.job(task_app()):
        computed = precompute(date.today())
        if computed:
            log.info("stats: facility figures computed: %s", computed)


def request_overview_refresh() -> bool:
    """Queue a refresh; True when it already ran (immediate mode), False when it is queued."""
    global _last_asked  # per process: a throttle, not shared state
    # Flask types current_app as the app itself, hiding the proxy's method.
    bind_queue(current_app._get_current_object())  # type: ignore[attr-defined]
    if huey.immediate:
        refresh_overview()
        return True
    with _ask_lock:
        now = time.monotonic()
        if now - _last_asked < _ASK_AT_MOST_EVERY:
            return False
        _last_asked = now
    # A second run queued while one is running finds the lock taken and gives up; one that
    # starts later finds the overview up to date and returns at once.
    enqueue(refresh_overview)
    return False
