"""Print packs: every letter of a drive with its envelope and a cover list, built by a job.

How a job's life is kept in bounds (leases, sweeping, how long packs are kept) is in
app.drives.print_jobs; this module starts a job and builds its pack. The pack is stored in the
database (app.stored_files) in the transaction that marks the job done, so every machine can
serve it and nobody ever sees half of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import selectinload

from app.auth.permissions import require_organizer
from app.concurrency import dialect_insert
from app.directory.services import mailing_address, recipient_name
from app.domain import DomainError
from app.drives import print_jobs
from app.extensions import db
from app.jobs import queue_reachable
from app.models import Drive, Letter, PrintJob, PrintJobStatus, TemplateKind, User
from app.models.base import utcnow
from app.models.drive import PRINT_JOB_ACTIVE
from app.pdf.render import EnvelopeDocument
from app.russian.address import with_country_line
from app.stored_files import delete_files, store_file
from app.tracking.services import destination, letter_document

if TYPE_CHECKING:
    from app.pdf.pack_layout import PackItem
    from app.pdf.pool import PackPool


def drive_letters(drive: Drive) -> list[Letter]:
    """The letters written at a drive that the organizers may still read (not yet posted)
    and that have somewhere to go, unlocked with their copy of the keys, grouped by facility
    then recipient for the post office. A letter to someone in transit waits for the next
    pack after their new address is known: an envelope without an address is no use."""
    letters = [
        letter
        for letter in db.session.scalars(
            select(Letter)
            .where(
                Letter.drive_id == drive.id,
                Letter.kind == TemplateKind.LETTER,
                # Still in the organizers' hands: a posted letter is its writer's alone.
                Letter.organisers_key.is_not(None),
            )
            .options(selectinload(Letter.events), selectinload(Letter.prisoner))
        )
        if letter.unlock_for_organisers() and destination(letter) is not None
    ]

    def post_office_order(letter: Letter) -> tuple[str, str, int]:
        place = destination(letter)
        return (place.name if place else "~", letter.prisoner.last_name, letter.id)

    return sorted(letters, key=post_office_order)


def start_print_job(actor: User, drive: Drive) -> PrintJob:
    """Queue a print pack of every letter of the drive; it is built once this is committed.

    A job of this drive that lost its consumer or its queue is ended first (see
    app.drives.print_jobs), so it never blocks a new one. Refused while the print queue cannot
    be reached: the job would only wait there to be failed.
    """
    require_organizer(actor)
    count = len(drive_letters(drive))
    if count == 0:
        posted = db.session.scalar(select(Letter.id).where(Letter.drive_id == drive.id).limit(1))
        if posted is None:
            raise DomainError("submit", _l("No letters have been written at this drive yet."))
        # Every letter was marked sent: their keys went back to their writers alone.
        raise DomainError(
            "submit",
            _l("Every letter of this evening has been posted: there is nothing left to print."),
        )
    print_jobs.end_abandoned_jobs(utcnow(), drive_id=drive.id)
    if not queue_reachable():
        raise DomainError("submit", print_jobs.REASONS[print_jobs.QUEUE_UNREACHABLE])
    # One active pack per drive, kept by a unique index (see PrintJob): the insert itself
    # asks it, so that of two clicks at the same moment exactly one makes a job.
    statement = dialect_insert(db.session.get_bind().dialect.name, PrintJob.__table__)
    job_id = db.session.scalar(
        statement.values(
            drive_id=drive.id, status=PrintJobStatus.QUEUED, total=count, done=0, error=""
        )
        .on_conflict_do_nothing(index_elements=[PrintJob.drive_id], index_where=PRINT_JOB_ACTIVE)
        .returning(PrintJob.id)
    )
    if job_id is None:
        raise DomainError("submit", _l("A print pack is already being built."))
    job = db.session.get_one(PrintJob, job_id)
    db.session.expire(drive, ["print_jobs"])
    return job


def _pack_item(letter: Letter, envelope_size: str, sender_country: str) -> PackItem:
    from app.pdf.pack_layout import PackItem

    place = destination(letter)
    lines = mailing_address(letter.prisoner, place)
    envelope = None
    if lines is not None:
        envelope = EnvelopeDocument(
            size=envelope_size,
            sender_name="",
            sender_address_lines=[],
            recipient_lines=with_country_line(lines, sender_country),
        )
    label = f"{place.name}, {place.postcode}" if place else str(_l("Address unknown"))
    return PackItem(
        letter=letter_document(letter),
        envelope=envelope,
        facility_label=label,
        recipient_label=recipient_name(letter.prisoner),
    )


class JobEnded(Exception):
    """The job was ended elsewhere (lease expired, consumer stopping): stop building it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def progress_keeper(
    job_id: int,
    deadline: datetime,
    stopping: Callable[[], bool],
    model: print_jobs.Leased = PrintJob,
) -> Callable[[int, int], None]:
    """The ``progress(done, total)`` of a build (a drive's pack, or a mailroom print run with
    ``model=PrintRun``): it records progress (or, with -1, only that the job is alive) and
    renews the lease; it raises JobEnded once the consumer is stopping, the job's time is up
    however alive its consumer, or the job was ended elsewhere."""

    def progress(done: int, total: int) -> None:
        if stopping():
            raise JobEnded(print_jobs.INTERRUPTED)
        if utcnow() >= deadline:
            raise JobEnded(print_jobs.TIMED_OUT)
        counts: dict[str, Any] = {"done": done, "total": total} if done >= 0 else {}
        if not print_jobs.renew(job_id, deadline, model=model, **counts):
            raise JobEnded("")

    return progress


def run_print_job(
    job_id: int,
    envelope_size: str = "dl",
    sender_country: str = "",
    pool: PackPool | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Build the pack: progress is shown as groups finish; the pack appears only when whole.

    Any failure marks the job failed with the reason, so the organizer can retry. When
    ``stopping()`` becomes true (the consumer is shutting down), or the job's lease was taken
    from it, the build stops and the job is left failed as interrupted. Past its time limit
    (app.drives.print_jobs.time_limit) it stops too, failed as timed out, and the renders
    still at work are killed: a render that overran that far is taken for hung. The caller
    (the job's edge) commits the outcome.
    """
    # Imported here: the web process need not load the worker pool machinery.
    from app.pdf.pack import render_pack
    from app.pdf.pack_layout import CoverInfo

    claimed_at = utcnow()
    if not print_jobs.claim(job_id):
        return  # ended while queued (swept, or its queue was unreachable), or taken
    job = db.session.get(PrintJob, job_id)
    assert job is not None
    drive = job.drive
    deadline = claimed_at + print_jobs.time_limit(job.total)
    try:
        letters = drive_letters(drive)
        items = [_pack_item(letter, envelope_size, sender_country) for letter in letters]
        letter_ids = [letter.id for letter in letters]
        cover = CoverInfo(title=drive.title, held_on=drive.held_on, generated_on=date.today())
        drive_id = drive.id
        # No snapshot held open (and no "idle in transaction") while the pack renders.
        db.session.rollback()

        progress = progress_keeper(job_id, deadline, stopping)
        # While the pool is busy with other packs, the lease is renewed all the same: it says
        # that this consumer is alive, not that the pack moves; the deadline bounds the rest.
        pdf = render_pack(
            items,
            cover,
            progress,
            pool=pool,
            heartbeat=lambda: progress(-1, -1),
            heartbeat_seconds=max(1.0, print_jobs.lease_seconds() / 4),
        )
        progress(len(items), len(items))  # the lease covers the writing below
        _finish(job_id, drive_id, letter_ids, pdf)
    except JobEnded as ended:
        db.session.rollback()
        if utcnow() >= deadline and pool is not None:
            # Whoever ended it (this consumer, or a sweeper whose clock ran ahead), its
            # renders have overrun their time: kill them rather than wait for them for ever.
            # (A pool of render_pack's own is killed on its way out.)
            pool.kill()
        if ended.reason:
            print_jobs.release(job_id, ended.reason)
        current_app.logger.warning(
            "print pack %s stopped: %s", job_id, ended.reason or "it was ended meanwhile"
        )
    except Exception as error:  # any failure must reach the organizer, with its reason
        db.session.rollback()
        # A shutdown cancels the renders under way: that is an interruption, not an error.
        reason = print_jobs.INTERRUPTED if stopping() else f"{type(error).__name__}: {error}"
        print_jobs.fail_in_session(job_id, reason)
        current_app.logger.exception("print pack %s failed", job_id)


def _finish(job_id: int, drive_id: int, letter_ids: list[int], pdf: bytes) -> None:
    """Store the pack and mark the job done, in the job's transaction; the older packs of the
    drive are superseded and deleted in it too. Raises JobEnded when the job is no longer
    running (then nothing of this is kept)."""
    stored = store_file(print_jobs.PRINT_PACK, pdf, "application/pdf")
    now = utcnow()
    done = db.session.execute(
        update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.status == PrintJobStatus.RUNNING)
        .values(
            status=PrintJobStatus.DONE,
            file_id=stored.id,
            total=len(letter_ids),
            done=len(letter_ids),
            finished_at=now,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], done).rowcount != 1:
        raise JobEnded("")
    db.session.execute(
        update(Letter)
        .where(Letter.id.in_(letter_ids), Letter.printed_at.is_(None))
        .values(printed_at=now)
        .execution_options(synchronize_session=False)
    )
    delete_files(print_jobs.superseded_packs(drive_id, job_id))
