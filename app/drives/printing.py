"""Print packs: every letter of a drive with its envelope and a cover list, built by a job.

A pack holds every letter of the evening in clear text, so it is kept no longer than needed:
its file (mode 0600) is deleted when a newer pack of the same drive is finished, and by the
hourly job after KONVERT_PACK_KEEP_DAYS; the job's row stays, without a file, so the
download can say the pack is gone rather than that it never existed.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.auth.permissions import require_organizer
from app.concurrency import dialect_insert
from app.directory.services import mailing_address, recipient_name
from app.domain import DomainError
from app.edge import after_commit
from app.extensions import db
from app.models import Drive, Letter, PrintJob, PrintJobStatus, TemplateKind, User
from app.models.base import utcnow
from app.models.drive import PRINT_JOB_ACTIVE
from app.pdf.render import EnvelopeDocument
from app.private_files import private_folder, write_private
from app.russian.address import with_country_line
from app.tracking.services import destination, letter_document

if TYPE_CHECKING:
    from app.pdf.pack_layout import PackItem
    from app.pdf.pool import PackPool


def drive_letters(drive: Drive) -> list[Letter]:
    """The letters written at a drive, grouped by facility then recipient for the post office."""
    letters = db.session.scalars(
        select(Letter)
        .where(Letter.drive_id == drive.id, Letter.kind == TemplateKind.LETTER)
        .options(selectinload(Letter.events), selectinload(Letter.prisoner))
    )

    def post_office_order(letter: Letter) -> tuple[str, str, int]:
        place = destination(letter)
        return (place.name if place else "~", letter.prisoner.last_name, letter.id)

    return sorted(letters, key=post_office_order)


def start_print_job(actor: User, drive: Drive) -> PrintJob:
    """Queue a print pack of every letter of the drive; it is built once this is committed."""
    require_organizer(actor)
    count = len(drive_letters(drive))
    if count == 0:
        raise DomainError("submit", _l("No letters have been written at this drive yet."))
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


#: A file in the packs folder that no job names is left over (a crash between the commit and
#: the deletion, or a killed build's .part) once it is this old; younger, it may be a pack
#: whose job is about to commit.
ORPHAN_SECONDS = 3600


def packs_folder() -> Path:
    """Where finished packs are kept: the instance folder (mode 0700), never a public one."""
    return private_folder(Path(current_app.instance_path) / "packs")


def pack_file(job: PrintJob) -> Path | None:
    """The finished pack's file, only when the job is done and the file complete."""
    if job.status is not PrintJobStatus.DONE or not job.file_name:
        return None
    path = packs_folder() / job.file_name
    return path if path.is_file() else None


def pack_gone(job: PrintJob) -> bool:
    """True when the job finished its pack but the file is no longer kept."""
    return job.status is PrintJobStatus.DONE and pack_file(job) is None


def _delete_files(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _forget_packs(jobs: Iterable[PrintJob]) -> list[Path]:
    """Take the files from these jobs; the caller deletes them once that is committed."""
    paths = []
    for job in jobs:
        if job.file_name:
            paths.append(packs_folder() / job.file_name)
            job.file_name = None
    return paths


def purge_old_packs(now: datetime, keep_days: int) -> int:
    """Delete the packs finished more than ``keep_days`` ago, and left-over files.

    The files go once the transaction commits (a rollback keeps them, and the jobs that name
    them); returns how many files are to be deleted.
    """
    old = db.session.scalars(
        select(PrintJob).where(
            PrintJob.file_name.is_not(None), PrintJob.finished_at < now - timedelta(days=keep_days)
        )
    )
    paths = _forget_packs(old)
    named = set(
        db.session.scalars(select(PrintJob.file_name).where(PrintJob.file_name.is_not(None)))
    )
    oldest_kept = time.time() - ORPHAN_SECONDS
    for path in packs_folder().iterdir():
        try:
            if path.name not in named and path.stat().st_mtime < oldest_kept:
                paths.append(path)
        except OSError:
            continue  # deleted by another consumer meanwhile
    if paths:
        after_commit(partial(_delete_files, paths))
    return len(paths)


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


def _record_progress(job_id: int, *, claim: bool = False, **values: object) -> bool:
    """Write the job's progress in a short transaction of its own, so that the drive page
    sees it while the pack is built; the job's results are committed once, at its end.

    With ``claim``, only a queued job is taken (True when this call took it).
    """
    statement = update(PrintJob).where(PrintJob.id == job_id)
    if claim:
        statement = statement.where(PrintJob.status == PrintJobStatus.QUEUED)
    with db.engine.begin() as connection:
        return bool(connection.execute(statement.values(**values)).rowcount)


def run_print_job(
    job_id: int, envelope_size: str = "dl", sender_country: str = "", pool: PackPool | None = None
) -> None:
    """Build the pack: progress is shown as groups finish; the file appears only when whole.

    Any failure marks the job failed with the reason, so the organizer can retry. The caller
    (the job's edge) commits the outcome.
    """
    # Imported here: the web process need not load the worker pool machinery.
    from app.pdf.pack import render_pack
    from app.pdf.pack_layout import CoverInfo

    if not _record_progress(job_id, claim=True, status=PrintJobStatus.RUNNING):
        return
    job = db.session.get(PrintJob, job_id)
    assert job is not None
    drive = job.drive
    part = None
    try:
        letters = drive_letters(drive)
        items = [_pack_item(letter, envelope_size, sender_country) for letter in letters]
        _record_progress(job_id, total=len(items))

        def progress(done: int, total: int) -> None:
            _record_progress(job_id, done=done, total=total)

        cover = CoverInfo(title=drive.title, held_on=drive.held_on, generated_on=date.today())
        pdf = render_pack(items, cover, progress, pool=pool)
        name = f"pack-{job.id}-{secrets.token_hex(8)}.pdf"
        part = packs_folder() / f"{name}.part"
        write_private(part, pdf)
        # The rename is atomic: a download sees either no file or the whole file.
        os.replace(part, packs_folder() / name)
        part = None
        now = utcnow()
        for letter in letters:
            letter.printed_at = letter.printed_at or now
        # The older packs of this drive are superseded: deleted once this one is committed.
        superseded = _forget_packs(other for other in drive.print_jobs if other is not job)
        after_commit(partial(_delete_files, superseded))
        job.file_name = name
        job.total = job.done = len(items)
        job.status = PrintJobStatus.DONE
        job.finished_at = now
    except Exception as error:  # any failure must reach the organizer, with its reason
        db.session.rollback()
        if part is not None:
            part.unlink(missing_ok=True)
        job = db.session.get(PrintJob, job_id)
        assert job is not None
        job.status = PrintJobStatus.FAILED
        job.error = f"{type(error).__name__}: {error}"[:2000]
        job.finished_at = utcnow()
        current_app.logger.exception("print pack %s failed", job_id)
