"""The life of a print job: its lease, how it ends when its consumer or queue is lost, and how
long its pack is kept.

A job is QUEUED when asked for, RUNNING once a consumer claimed it, then DONE (with its pack)
or FAILED (with a reason). It always ends:

- a running job holds a lease of KONVERT_JOB_LEASE_SECONDS, renewed each time it records
  progress and, while it waits for the rendering pool, every quarter of a lease: the lease
  says that its consumer is alive. When the lease runs out its consumer is gone (killed, or
  its machine), and the job is failed as "interrupted";
- a job has a time limit too, however alive its consumer: KONVERT_PACK_TIME_LIMIT_SECONDS plus
  KONVERT_PACK_TIME_PER_LETTER_SECONDS for each letter (`time_limit`), from when it was
  claimed. A render that hangs keeps its consumer alive but the pack never moves: past the
  limit the consumer fails the job as "timed out" and kills its rendering processes
  (app.drives.printing). Renewals after the limit do not extend the lease either, so should
  the consumer not end the job, the sweeper does, as interrupted, a lease later;
- a job still queued after KONVERT_JOB_QUEUE_TIMEOUT_SECONDS was lost with its queue (a Redis
  restarted without its data), and is failed the same way;
- a consumer stopped with TERM releases the job it could not finish (app.drives.tasks);
- a job whose queue could not be reached is failed at once, saying so.

The sweeper runs every minute (app.drives.tasks), and a new build request sweeps its drive
first, so an interrupted pack can be built again at once. Every transition is a conditional
UPDATE (only from the state it leaves), so a sweeper and a consumer that finishes at the same
moment cannot both win.

A pack holds every letter of the evening in clear text, so it is kept no longer than needed:
it is deleted when a newer pack of the same drive is finished, and by the hourly job after
KONVERT_PACK_KEEP_DAYS; the job's row stays, without a file, so the download can say the pack
is gone rather than that it never existed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from app.extensions import db
from app.models import PrintJob, PrintJobStatus, PrintRun, StoredFile
from app.models.base import utcnow
from app.stored_files import delete_files

#: StoredFile.kind of a print pack.
PRINT_PACK = "print_pack"

#: Reasons a job failed that are not errors of its own: stored in PrintJob.error as these
#: codes, shown to the organizer in their language.
INTERRUPTED = "interrupted"
TIMED_OUT = "timed-out"
QUEUE_UNREACHABLE = "queue-unreachable"

REASONS = {
    INTERRUPTED: _l(
        "Building the print pack was interrupted: the server stopped or restarted before it "
        "finished. Nothing was lost; build it again."
    ),
    TIMED_OUT: _l(
        "Building the print pack took much longer than it should and was stopped. Build it "
        "again; if it stops again, one of the letters may be impossible to lay out: tell the "
        "administrator."
    ),
    QUEUE_UNREACHABLE: _l("The print queue cannot be reached: try again in a minute."),
}

ACTIVE = (PrintJobStatus.QUEUED, PrintJobStatus.RUNNING)

#: What holds a lease: a drive's print job, or a mailroom print run (app.mailroom.runs). Both
#: have the same status, lease, progress and error columns, and live by the same rules.
Leased = type[PrintJob] | type[PrintRun]


def failure_text(job: PrintJob) -> str:
    """Why the job failed, as the organizer reads it (empty unless it failed)."""
    if job.status is not PrintJobStatus.FAILED:
        return ""
    reason = REASONS.get(job.error)
    return str(reason) if reason is not None else job.error


def pack_ready(job: PrintJob) -> bool:
    """True when the job finished and its pack is still kept."""
    return job.status is PrintJobStatus.DONE and job.file_id is not None


def pack_gone(job: PrintJob) -> bool:
    """True when the job finished its pack but the pack is no longer kept."""
    return job.status is PrintJobStatus.DONE and job.file_id is None


def pack_of(job: PrintJob) -> StoredFile | None:
    """The finished pack's file, only when the job is done and the pack kept."""
    if not pack_ready(job):
        return None
    return db.session.get(StoredFile, job.file_id)


# --- leases ----------------------------------------------------------------------------------


def lease_seconds() -> int:
    """How long a running job may go without recording progress (KONVERT_JOB_LEASE_SECONDS)."""
    return int(current_app.config["JOB_LEASE_SECONDS"])


def time_limit(letters: int) -> timedelta:
    """How long a pack of ``letters`` letters may take, from its claim to its file
    (KONVERT_PACK_TIME_LIMIT_SECONDS + KONVERT_PACK_TIME_PER_LETTER_SECONDS per letter)."""
    config = current_app.config
    per_letter = float(config["PACK_TIME_PER_LETTER_SECONDS"])
    return timedelta(seconds=int(config["PACK_TIME_LIMIT_SECONDS"]) + per_letter * letters)


def _write(model: Leased, job_id: int, condition: ColumnElement[bool], **values: Any) -> bool:
    """Change the job in a short transaction of its own, only when ``condition`` holds; True
    when it did. The drive page sees it at once, whatever the caller's own transaction does."""
    statement = update(model).where(model.id == job_id, condition).values(**values)
    with db.engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def claim(job_id: int, model: Leased = PrintJob) -> bool:
    """Take a queued job (False when it is not queued any more: ended, or taken)."""
    return _write(
        model,
        job_id,
        model.status == PrintJobStatus.QUEUED,
        status=PrintJobStatus.RUNNING,
        lease_until=utcnow() + timedelta(seconds=lease_seconds()),
    )


def renew(job_id: int, deadline: datetime, *, model: Leased = PrintJob, **progress: Any) -> bool:
    """Record progress and extend the lease, but not by renewals after the job's ``deadline``
    (its time limit): its lease then runs out one lease after the deadline at the latest, which
    leaves its consumer the time to end it as timed out, and the sweeper the job should the
    consumer not. False when the job is no longer running (the sweeper or a shutdown ended
    it): its builder must then stop."""
    lease_until = min(utcnow(), deadline) + timedelta(seconds=lease_seconds())
    return _write(
        model, job_id, model.status == PrintJobStatus.RUNNING, lease_until=lease_until, **progress
    )


def release(job_id: int, reason: str, model: Leased = PrintJob) -> bool:
    """End a queued or running job as failed, with ``reason``, so that it can be built again."""
    return _write(model, job_id, model.status.in_(ACTIVE), **_failed(reason, utcnow()))


def fail_in_session(job_id: int, reason: str, model: Leased = PrintJob) -> bool:
    """Like `release`, in the caller's transaction (committed at its edge)."""
    statement = (
        update(model)
        .where(model.id == job_id, model.status.in_(ACTIVE))
        .values(**_failed(reason, utcnow()))
    )
    # An UPDATE's result is a CursorResult (with rowcount); Session.execute only promises a
    # Result, being typed for any statement.
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount == 1


def _failed(reason: str, now: datetime) -> dict[str, Any]:
    return {
        "status": PrintJobStatus.FAILED,
        "error": reason[:2000],
        "finished_at": now,
        "lease_until": None,
    }


def abandoned(
    now: datetime, queue_timeout: timedelta, model: Leased = PrintJob
) -> ColumnElement[bool]:
    """Jobs that will never end by themselves: running past their lease (or with none, from
    before leases existed), or queued for longer than a queue ever holds a job."""
    return or_(
        and_(
            model.status == PrintJobStatus.RUNNING,
            or_(model.lease_until.is_(None), model.lease_until < now),
        ),
        and_(model.status == PrintJobStatus.QUEUED, model.created_at < now - queue_timeout),
    )


def _end_abandoned(now: datetime, drive_id: int | None, model: Leased) -> Any:
    timeout = timedelta(seconds=int(current_app.config["JOB_QUEUE_TIMEOUT_SECONDS"]))
    condition = abandoned(now, timeout, model)
    if drive_id is not None:
        condition = and_(PrintJob.drive_id == drive_id, condition)
    return update(model).where(condition).values(**_failed(INTERRUPTED, now))


def end_abandoned_jobs(
    now: datetime, drive_id: int | None = None, model: Leased = PrintJob
) -> int:
    """Fail every abandoned job (of one drive, or all; or every abandoned print run of the
    mailroom, with ``model=PrintRun``) as interrupted; returns how many.

    In a short transaction of its own, like every transition of a job: it holds whatever the
    request that swept does next (a build refused for another reason rolls back its own
    work, not this). Jobs loaded in the caller's session show it once refreshed.
    """
    with db.engine.begin() as connection:
        return int(connection.execute(_end_abandoned(now, drive_id, model)).rowcount)


def end_abandoned_in_session(now: datetime, model: Leased = PrintJob) -> int:
    """Like `end_abandoned_jobs`, in the caller's transaction: for a caller that may have
    written already (an API request records its token's day of use), which on SQLite holds
    the database until it commits, so that a transaction of its own would wait for it."""
    statement = _end_abandoned(now, None, model).execution_options(synchronize_session=False)
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount


# --- keeping packs ---------------------------------------------------------------------------


def superseded_packs(drive_id: int, newest_job_id: int) -> list[int]:
    """The files of the drive's other packs (the newest one replaces them)."""
    return list(
        db.session.scalars(
            select(PrintJob.file_id).where(
                PrintJob.drive_id == drive_id,
                PrintJob.id != newest_job_id,
                PrintJob.file_id.is_not(None),
            )
        )
    )


def delete_drive_packs(drive_id: int) -> int:
    """Delete every pack file of a drive, in the current transaction (its batch was posted:
    the text the packs hold is no longer the organizers' to keep); the job rows stay."""
    files = db.session.scalars(
        select(PrintJob.file_id).where(
            PrintJob.drive_id == drive_id, PrintJob.file_id.is_not(None)
        )
    )
    return delete_files(file_id for file_id in files if file_id is not None)


def purge_old_packs(now: datetime, keep_days: int) -> int:
    """Delete the packs finished more than ``keep_days`` ago, in the current transaction, and
    any pack no job names (its drive was deleted); returns how many files were deleted.

    A pack and its job are written in one transaction, so a pack no job names is never one
    about to be committed.
    """
    old = db.session.scalars(
        select(PrintJob.file_id).where(
            PrintJob.file_id.is_not(None), PrintJob.finished_at < now - timedelta(days=keep_days)
        )
    )
    named = select(PrintJob.file_id).where(PrintJob.file_id.is_not(None))
    orphans = db.session.scalars(
        select(StoredFile.id).where(StoredFile.kind == PRINT_PACK, StoredFile.id.not_in(named))
    )
    return delete_files([*old, *orphans])
