"""The imports' periodic job: deleting uploads nobody confirmed within their hour.

Storing or claiming an upload sweeps expired ones too; this job deletes those that would
otherwise wait for the next upload (uploaded prisoner data is kept no longer than it must be).
"""

from __future__ import annotations

from huey import crontab

from app import edge
from app.imports.uploads import sweep_expired_uploads
from app.jobs import huey, log, task_app
from app.models.base import utcnow


@huey.periodic_task(crontab(minute="*/15"))  # an upload outlives its hour by 15 minutes at most
def forget_expired_uploads() -> None:
    """Delete the import uploads past their hour."""
    with edge.job(task_app()):
        deleted = sweep_expired_uploads(utcnow())
    if deleted:
        log.info("imports: %s expired uploads deleted", deleted)
