"""Building a mailroom print run's files: the job's body (app.mailroom.tasks runs it).

Leases, the time limit and stopping are those of a drive's print pack (app.drives.print_jobs
and app.drives.printing, shared): the run's files are written, and its letters become
``printed``, in the transaction that marks it done; a failure gives its letters back. What a
run is, and how it starts and is posted, is in app.mailroom.runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from babel import Locale
from flask import current_app
from sqlalchemy import select, update

from app.directory.services import mailing_address, recipient_name
from app.drives import print_jobs
from app.drives.printing import JobEnded, progress_keeper
from app.extensions import db
from app.mailroom.electronic import ElectronicLetter, export_zip
from app.mailroom.organisation import current_organisation
from app.mailroom.reference import format_reference
from app.mailroom.runs import (
    PRINT_RUN_FILE,
    place_of,
    release_letters_of_failed_runs,
    rowcount,
    run_items,
)
from app.models import (
    Letter,
    MailroomItem,
    MailroomState,
    Organisation,
    PrintJobStatus,
    PrintRun,
    PrintRunKind,
)
from app.models.base import utcnow
from app.stored_files import store_file
from app.tracking.services import envelope_document, letter_document

if TYPE_CHECKING:
    from app.pdf.pack_layout import PackItem
    from app.pdf.pool import PackPool


@dataclasses.dataclass(frozen=True)
class BuiltFiles:
    """What a build makes: the file contents, and the letters they hold."""

    letters: bytes
    letters_type: str
    envelopes: bytes | None
    cover: bytes | None
    item_ids: list[int]


def _country_line(code: str) -> str:
    """«ГЕРМАНИЯ / GERMANY» for an ISO code, as an envelope from abroad names the sender's
    country; the code itself when Babel does not know it."""
    code = code.strip().upper()
    russian = Locale("ru").territories.get(code)
    english = Locale("en").territories.get(code)
    if not russian or not english:
        return code
    return f"{russian.upper()} / {english.upper()}"


def sender_of(organisation: Organisation) -> tuple[str, str, str]:
    """The organisation as its envelopes name the sender: name, address lines (postcode
    last), and the country it posts from ("" for Russia)."""
    lines = list(organisation.return_lines)
    if organisation.postcode.strip():
        lines.append(organisation.postcode.strip())
    country = organisation.country.strip().upper()
    country_line = "" if country in ("", "RU") else _country_line(country)
    return organisation.name.strip(), "\n".join(lines), country_line


def _pack_item(item: MailroomItem, envelope_size: str, organisation: Organisation) -> PackItem:
    from app.pdf.pack_layout import PackItem

    letter = item.letter
    name, address, country = sender_of(organisation)
    envelope = envelope_document(letter, envelope_size, name, address, country)
    if envelope is None:
        raise ValueError(f"letter {format_reference(item.reference)} has no known address")
    place = place_of(item)
    assert place is not None  # it has an envelope
    return PackItem(
        letter=dataclasses.replace(
            letter_document(letter), reference=format_reference(item.reference)
        ),
        envelope=envelope,
        facility_label=f"{place.name}, {place.postcode}",
        recipient_label=recipient_name(letter.prisoner),
    )


def _electronic_letter(item: MailroomItem) -> ElectronicLetter:
    from app.pdf.render import reference_request

    letter = item.letter
    place = place_of(item)
    assert place is not None and place.electronic_service_list  # `fits` chose it
    reference = format_reference(item.reference)
    # The printed letter's text: its volunteers' translation, when there is one.
    document = letter_document(letter)
    parts = (document.body, document.signature, document.translation_line)
    text = "\n\n".join(
        part for part in (*(p.strip() for p in parts), reference_request(reference)) if part
    )
    lines = mailing_address(letter.prisoner, place) or []
    return ElectronicLetter(
        reference=reference,
        recipient=recipient_name(letter.prisoner),
        facility=", ".join(lines[1:]),
        service=place.electronic_service_list[0],
        text=text,
    )


@contextmanager
def _pool_for(pool: PackPool | None, documents: int) -> Iterator[PackPool]:
    """The consumer's pool, or one for this run only (immediate mode), closed after it."""
    if pool is not None:
        yield pool
        return
    from app.pdf.pool import PackPool, default_processes

    with PackPool(max(1, min(default_processes(), documents))) as own:
        yield own


def run_print_run(
    run_id: int,
    envelope_size: str = "dl",
    language: str = "ru",
    pool: PackPool | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Build the run's files; progress is recorded as groups of letters finish, the files
    appear only when all are whole, and the letters become ``printed`` with them.

    Leases, the time limit and stopping are those of a drive's print pack
    (app.drives.printing.run_print_job). Any failure marks the run failed with the reason
    and gives its letters back. The caller (the job's edge) commits the outcome.
    """
    claimed_at = utcnow()
    if not print_jobs.claim(run_id, PrintRun):
        return  # ended while queued (swept, or its queue was unreachable), or taken
    run = db.session.get_one(PrintRun, run_id)
    deadline = claimed_at + print_jobs.time_limit(run.total)

    progress = progress_keeper(run_id, deadline, stopping, PrintRun)
    try:
        if run.kind is PrintRunKind.ELECTRONIC:
            files = _build_electronic(run)
        else:
            files = _build_paper(run, envelope_size, language, pool, progress)
        progress(len(files.item_ids), len(files.item_ids))  # the lease covers the writing
        _finish(run_id, files)
    except JobEnded as ended:
        db.session.rollback()
        if utcnow() >= deadline and pool is not None:
            pool.kill()  # renders that overran this far are taken for hung
        if ended.reason:
            print_jobs.release(run_id, ended.reason, PrintRun)
        release_letters_of_failed_runs()
        current_app.logger.warning("print run %s stopped: %s", run_id, ended.reason or "ended")
    except Exception as error:  # any failure must reach the organizer, with its reason
        db.session.rollback()
        reason = print_jobs.INTERRUPTED if stopping() else f"{type(error).__name__}: {error}"
        print_jobs.fail_in_session(run_id, reason, PrintRun)
        release_letters_of_failed_runs()
        current_app.logger.exception("print run %s failed", run_id)


def _build_electronic(run: PrintRun) -> BuiltFiles:
    items = [item for item in run_items(run) if item.letter.unlock_for_organisers()]
    letters = [_electronic_letter(item) for item in items]
    return BuiltFiles(
        letters=export_zip(letters, run.created_at),
        letters_type="application/zip",
        envelopes=None,
        cover=None,
        item_ids=[item.id for item in items],
    )


def _build_paper(
    run: PrintRun,
    envelope_size: str,
    language: str,
    pool: PackPool | None,
    progress: Callable[[int, int], None],
) -> BuiltFiles:
    # Imported here: the web process need not load the rendering machinery.
    from app.pdf.pack import DEFAULT_GROUP_SIZE, render_pack
    from app.pdf.run_files import (
        RunCoverInfo,
        RunLetter,
        render_run_cover_pdf,
        split_letters_and_envelopes,
    )

    organisation = current_organisation()
    items = [item for item in run_items(run) if item.letter.unlock_for_organisers()]
    pack_items = [_pack_item(item, envelope_size, organisation) for item in items]
    places = [place_of(item) for item in items]
    info = RunCoverInfo(organisation.name, run.id, date.today(), language)
    item_ids = [item.id for item in items]
    # No snapshot held open (and no "idle in transaction") while the run renders.
    db.session.rollback()
    heartbeat_seconds = max(1.0, print_jobs.lease_seconds() / 4)
    groups = -(-len(pack_items) // DEFAULT_GROUP_SIZE)
    with _pool_for(pool, groups) as using:
        pdf = render_pack(
            pack_items,
            None,
            progress,
            pool=using,
            heartbeat=lambda: progress(-1, -1),
            heartbeat_seconds=heartbeat_seconds,
        )
        split = split_letters_and_envelopes(pdf, language)
        counted = [
            RunLetter(place.name if place else "", place.postcode if place else "", pages)
            for place, pages in zip(places, split.pages, strict=True)
        ]
        future = using.submit(render_run_cover_pdf, counted, info)
        while True:
            try:
                cover = future.result(timeout=heartbeat_seconds)
                break
            except FutureTimeout:
                progress(-1, -1)
    return BuiltFiles(
        letters=split.letters_pdf,
        letters_type="application/pdf",
        envelopes=split.envelopes_pdf,
        cover=cover,
        item_ids=item_ids,
    )


def _finish(run_id: int, files: BuiltFiles) -> None:
    """Store the files, mark the run done and its letters printed, in the job's transaction;
    letters that could not go into it (no longer readable) are given back. Raises JobEnded
    when the run is no longer running (then nothing of this is kept)."""
    letters = store_file(PRINT_RUN_FILE, files.letters, files.letters_type)
    envelopes = (
        store_file(PRINT_RUN_FILE, files.envelopes, "application/pdf") if files.envelopes else None
    )
    cover = store_file(PRINT_RUN_FILE, files.cover, "application/pdf") if files.cover else None
    now = utcnow()
    count = len(files.item_ids)
    done = rowcount(
        update(PrintRun)
        .where(PrintRun.id == run_id, PrintRun.status == PrintJobStatus.RUNNING)
        .values(
            status=PrintJobStatus.DONE,
            letters_file_id=letters.id,
            envelopes_file_id=envelopes.id if envelopes else None,
            cover_file_id=cover.id if cover else None,
            total=count,
            done=count,
            finished_at=now,
            lease_until=None,
        )
    )
    if done != 1:
        raise JobEnded("")
    in_run = MailroomItem.print_run_id == run_id
    rowcount(
        update(MailroomItem)
        .where(
            in_run,
            MailroomItem.id.in_(files.item_ids),
            MailroomItem.state == MailroomState.APPROVED,
        )
        .values(state=MailroomState.PRINTED)
    )
    rowcount(
        update(MailroomItem)
        .where(in_run, MailroomItem.state == MailroomState.APPROVED)
        .values(print_run_id=None)
    )
    printed = select(MailroomItem.letter_id).where(
        in_run, MailroomItem.state == MailroomState.PRINTED
    )
    rowcount(
        update(Letter)
        .where(Letter.id.in_(printed), Letter.printed_at.is_(None))
        .values(printed_at=now)
    )
