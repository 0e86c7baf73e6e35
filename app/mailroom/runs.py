"""Print runs of the mailroom: the approved letters printed and posted together.

An organizer (or mailroom volunteer) starts a run from the approved letters, all of them or a
selection. Starting claims the letters in one conditional UPDATE (only those still free), so
two starts at the same moment never share a letter; one run of each kind is at work at a time
(the partial unique index ``uq_print_run_active``). A background job (app.mailroom.tasks,
app.mailroom.run_build) builds the run's files, under the same lease, time limit and sweeper
as a drive's print pack (app.drives.print_jobs, which serves both):

- paper: the letters, ordered by destination (region, facility, prisoner), each with its
  reference code; their envelopes in the same order, as a file of their own, from the
  organisation's return address; and a cover list for the post office, with each
  destination's letters, estimated weight and postage class (app.pdf.run_files);
- electronic: for facilities with an electronic letter service, each letter as text cut to
  the service's page size, in a ZIP (app.mailroom.electronic).

A built run's letters are ``printed``; a run that fails gives its letters back (approved and
free again) and says why. "Posted on <date>" records "sent" for every letter of the run, with
the channel ``organisation`` (``electronic`` for an electronic run), through the tracking
service, so the statistics follow as for any report; the letters become ``posted``.

The files hold the letters in clear text (encrypted at rest with the instance key, as every
stored file): the letters' file goes when the run is posted, and every file of a run after
KONVERT_PACK_KEEP_DAYS.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import selectinload

from app.auth.permissions import require_mailroom
from app.concurrency import dialect_insert, lock
from app.domain import DomainError
from app.drives import print_jobs
from app.extensions import db
from app.jobs import queue_reachable
from app.models import (
    Channel,
    EventKind,
    Facility,
    Letter,
    MailroomItem,
    MailroomState,
    Placement,
    PrintJobStatus,
    PrintRun,
    PrintRunKind,
    Prisoner,
    StoredFile,
    User,
)
from app.models.base import utcnow
from app.models.mailroom import PRINT_RUN_ACTIVE
from app.stored_files import delete_files
from app.tracking.services import (
    EventInput,
    destination,
    record_event,
    same_report,
)

#: StoredFile.kind of a print run's files (not "print_pack": drive packs are purged apart).
PRINT_RUN_FILE = "print_run"
#: The three files of a run, by the name their download URL uses.
FILES = ("letters", "envelopes", "cover")

#: Why a run failed when it was not its own error (print_jobs' codes), as the organizer reads it.
REASONS = {
    print_jobs.INTERRUPTED: _l(
        "Building the run was interrupted: the server stopped or restarted before it finished. "
        "Its letters are back among the approved letters; start the run again."
    ),
    print_jobs.TIMED_OUT: _l(
        "Building the run took much longer than it should and was stopped. Its letters are "
        "back among the approved letters; start it again, and if it stops again, tell the "
        "administrator."
    ),
    print_jobs.QUEUE_UNREACHABLE: _l("The print queue cannot be reached: try again in a minute."),
}

STATE_LABELS = {
    PrintJobStatus.QUEUED: _l("Waiting to be built"),
    PrintJobStatus.RUNNING: _l("Being built"),
    PrintJobStatus.DONE: _l("Built"),
    PrintJobStatus.FAILED: _l("Failed"),
}
KIND_LABELS = {
    PrintRunKind.PAPER: _l("Paper: letters, envelopes and a list for the post office"),
    PrintRunKind.ELECTRONIC: _l("Electronic letter service: text cut into pages"),
}

_RUN_ACTIVE = (PrintJobStatus.QUEUED, PrintJobStatus.RUNNING)
ALREADY_BUILDING = _l("A run is already being built.")


# --- reading ---------------------------------------------------------------------------------


def failure_text(run: PrintRun) -> str:
    """Why the run failed, as the organizer reads it (empty unless it failed)."""
    if run.status is not PrintJobStatus.FAILED:
        return ""
    reason = REASONS.get(run.error)
    return str(reason) if reason is not None else run.error


def recent_runs(limit: int = 50) -> list[PrintRun]:
    """The newest runs, newest first."""
    return list(db.session.scalars(select(PrintRun).order_by(PrintRun.id.desc()).limit(limit)))


def get_run(actor: User, run_id: int) -> PrintRun | None:
    """A run the actor may see (every mailroom volunteer sees every run), or None."""
    require_mailroom(actor)
    return db.session.get(PrintRun, run_id)


def run_file(run: PrintRun, which: str) -> StoredFile | None:
    """One of the run's files ("letters", "envelopes", "cover"), once it is built and while
    it is kept; None otherwise."""
    if run.status is not PrintJobStatus.DONE or which not in FILES:
        return None
    file_id = getattr(run, f"{which}_file_id")
    return db.session.get(StoredFile, file_id) if file_id is not None else None


def file_name(run: PrintRun, which: str) -> str:
    """A content-neutral download name: ``konvert-run-12-letters.pdf``."""
    extension = "zip" if run.kind is PrintRunKind.ELECTRONIC and which == "letters" else "pdf"
    return f"konvert-run-{run.id}-{which}.{extension}"


def _with_recipient() -> Any:
    # Everything the order, the addresses and the dates need, in a constant number of queries.
    return selectinload(MailroomItem.letter).options(
        selectinload(Letter.events),
        selectinload(Letter.facility),
        selectinload(Letter.prisoner)
        .selectinload(Prisoner.placements)
        .selectinload(Placement.facility),
    )


def place_of(item: MailroomItem) -> Facility | None:
    """Where the letter's envelope goes (the prisoner's facility until it is sent)."""
    return destination(item.letter)


def _post_office_order(item: MailroomItem) -> tuple[str, str, str, str, int]:
    place = place_of(item)
    prisoner = item.letter.prisoner
    return (
        place.region if place else "~",
        place.name if place else "~",
        prisoner.last_name,
        prisoner.first_name,
        item.id,
    )


def fits(item: MailroomItem, kind: PrintRunKind) -> bool:
    """Whether a run of ``kind`` can take the letter: a known address for paper, a facility
    with an electronic letter service for electronic."""
    place = place_of(item)
    if place is None:
        return False
    return kind is PrintRunKind.PAPER or bool(place.electronic_service_list)


def waiting_items() -> list[MailroomItem]:
    """The approved letters not in any run, in the order a run prints them."""
    items = db.session.scalars(
        select(MailroomItem)
        .where(MailroomItem.state == MailroomState.APPROVED, MailroomItem.print_run_id.is_(None))
        .options(_with_recipient())
    )
    return sorted(items, key=_post_office_order)


def run_items(run: PrintRun) -> list[MailroomItem]:
    """The letters of a run, in the order its files hold them."""
    items = db.session.scalars(
        select(MailroomItem)
        .where(MailroomItem.print_run_id == run.id)
        .options(_with_recipient())
        .execution_options(populate_existing=True)
    )
    return sorted(items, key=_post_office_order)


# --- starting a run --------------------------------------------------------------------------


def start_run(actor: User, kind: PrintRunKind, item_ids: list[int] | None = None) -> PrintRun:
    """Start a run of the approved letters (``item_ids``: a selection; None: all that fit);
    it is built once this is committed (app.mailroom.tasks.enqueue_run).

    The letters are claimed in one conditional UPDATE: of two starts at the same moment each
    letter goes to one run only, and of two runs of one kind only one is made (the partial
    unique index on the active runs). Refused with nothing to print, while a run of the same
    kind is being built, and while the print queue cannot be reached.
    """
    user = require_mailroom(actor)
    # A run that lost its consumer or queue never blocks a new one. In this transaction: a
    # refused start undoes it too, and the sweeper (app.mailroom.tasks) does it again.
    print_jobs.end_abandoned_in_session(utcnow(), PrintRun)
    release_letters_of_failed_runs()
    busy = select(PrintRun.id).where(PrintRun.kind == kind, PrintRun.status.in_(_RUN_ACTIVE))
    if db.session.scalar(busy.limit(1)) is not None:
        raise DomainError("submit", ALREADY_BUILDING)
    free = [item for item in waiting_items() if fits(item, kind)]
    if item_ids is not None:
        chosen = set(item_ids)
        if not chosen:
            raise DomainError("letters", _l("Choose the letters to print."))
        free_ids = {item.id for item in free}
        if not chosen <= free_ids:
            raise DomainError(
                "letters",
                _l("Some of the chosen letters are not approved letters waiting for a run.")
                if kind is PrintRunKind.PAPER
                else _l(
                    "Some of the chosen letters are not approved letters waiting for a run, or "
                    "their facility has no electronic letter service."
                ),
            )
        free = [item for item in free if item.id in chosen]
    if not free:
        raise DomainError(
            "letters",
            _l("No approved letters are waiting for a run.")
            if kind is PrintRunKind.PAPER
            else _l("No approved letters to facilities with an electronic letter service."),
        )
    if not queue_reachable():
        raise DomainError("submit", REASONS[print_jobs.QUEUE_UNREACHABLE])
    statement = dialect_insert(db.session.get_bind().dialect.name, PrintRun.__table__)
    run_id = db.session.scalar(
        statement.values(
            kind=kind,
            status=PrintJobStatus.QUEUED,
            total=0,
            done=0,
            error="",
            created_by_id=user.id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[PrintRun.kind], index_where=PRINT_RUN_ACTIVE)
        .returning(PrintRun.id)
    )
    if run_id is None:
        raise DomainError("submit", ALREADY_BUILDING)
    # Only letters still approved and free: another run may have taken some meanwhile.
    claimed = rowcount(
        update(MailroomItem)
        .where(
            MailroomItem.id.in_([item.id for item in free]),
            MailroomItem.state == MailroomState.APPROVED,
            MailroomItem.print_run_id.is_(None),
        )
        .values(print_run_id=run_id)
    )
    if claimed == 0:
        # The refusal rolls back the run made above, with the rest of the request.
        raise DomainError("letters", _l("These letters were just taken into another run."))
    db.session.execute(update(PrintRun).where(PrintRun.id == run_id).values(total=claimed))
    return db.session.get_one(PrintRun, run_id)


def rowcount(statement: Any) -> int:
    """Run an UPDATE in the session (its loaded objects left as they are); rows changed."""
    # An UPDATE's result is a CursorResult (with rowcount); Session.execute only promises a
    # Result, being typed for any statement.
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)


# --- ending runs -----------------------------------------------------------------------------


def release_letters_of_failed_runs() -> int:
    """Give the letters of failed runs back (approved and free), in the current transaction;
    returns how many. A run that ended any other way has no approved letters left."""
    failed = select(PrintRun.id).where(PrintRun.status == PrintJobStatus.FAILED)
    return rowcount(
        update(MailroomItem)
        .where(MailroomItem.state == MailroomState.APPROVED, MailroomItem.print_run_id.in_(failed))
        .values(print_run_id=None)
    )


def end_abandoned_runs(now: datetime) -> int:
    """Fail the runs whose consumer or queue was lost (as interrupted, see
    app.drives.print_jobs) and give their letters back; returns how many runs ended."""
    ended = print_jobs.end_abandoned_jobs(now, model=PrintRun)
    release_letters_of_failed_runs()
    return ended


def purge_old_run_files(now: datetime, keep_days: int) -> int:
    """Delete the files of runs built more than ``keep_days`` ago, and any run file no run
    names, in the current transaction; returns how many files were deleted."""
    columns = (PrintRun.letters_file_id, PrintRun.envelopes_file_id, PrintRun.cover_file_id)
    old: list[int] = []
    named: set[int] = set()
    for row in db.session.execute(select(PrintRun.finished_at, *columns)):
        ids = [file_id for file_id in row[1:] if file_id is not None]
        named.update(ids)
        if row[0] is not None and row[0] < now - timedelta(days=keep_days):
            old += ids
    orphans = db.session.scalars(
        select(StoredFile.id).where(StoredFile.kind == PRINT_RUN_FILE)
    ).all()
    return delete_files([*old, *(file_id for file_id in orphans if file_id not in named)])


# --- posting ---------------------------------------------------------------------------------


def channel_of(run: PrintRun) -> Channel:
    """How the letters of a run travel: by the organisation's post, or an electronic service."""
    return Channel.ELECTRONIC if run.kind is PrintRunKind.ELECTRONIC else Channel.ORGANISATION


def mark_posted(actor: User, run: PrintRun, posted_on: date, today: date) -> int:
    """Record "sent" on ``posted_on`` for every letter of the built run, through the tracking
    service (so statistics and outcomes follow); the letters become ``posted``. Returns how
    many letters the run posted.

    Idempotent: the same date again records nothing more and returns the same count; another
    date is refused once one is recorded. The date is not in the future and not before the
    run was built. The letters' file (their text in clear) is deleted: they are posted.
    """
    require_mailroom(actor)
    lock(run)
    if run.status is not PrintJobStatus.DONE or run.finished_at is None:
        raise DomainError("posted_on", _l("The run is not built yet."))
    if run.posted_on is not None and run.posted_on != posted_on:
        raise DomainError(
            "posted_on",
            _l("This run was already marked posted on %(date)s.", date=format_date(run.posted_on)),
        )
    if posted_on > today:
        raise DomainError("posted_on", _l("This date is in the future."))
    built_on = run.finished_at.date()
    if posted_on < built_on:
        raise DomainError(
            "posted_on",
            _l(
                "The run was built on %(date)s; it cannot have been posted before.",
                date=format_date(built_on),
            ),
        )
    report = EventInput(EventKind.SENT, posted_on, channel_of(run))
    # Every letter is locked in one order before any "sent" is written (as a drive's batch).
    items = db.session.scalars(
        select(MailroomItem)
        .where(
            MailroomItem.print_run_id == run.id,
            or_(
                MailroomItem.state == MailroomState.PRINTED,
                MailroomItem.state == MailroomState.POSTED,
            ),
        )
        .order_by(MailroomItem.letter_id)
        .options(_with_recipient())
    ).all()
    for item in items:
        letter = item.letter
        sent = letter.first_event(EventKind.SENT)
        # A letter its writer reported sent otherwise keeps that report.
        if sent is None or same_report(sent, report):
            try:
                record_event(letter, report, today)
            except DomainError as error:
                raise DomainError("posted_on", error.message) from error
        if item.state is MailroomState.PRINTED:
            item.state = MailroomState.POSTED
            item.posted_on = posted_on
    run.posted_on = posted_on
    if run.letters_file_id is not None:
        delete_files([run.letters_file_id])
        run.letters_file_id = None
    return len(items)


def progress_percent(run: PrintRun) -> int:
    """How far the build is, 0–100."""
    if run.status is PrintJobStatus.DONE:
        return 100
    return int(100 * run.done / run.total) if run.total else 0


def is_active(run: PrintRun) -> bool:
    """True while the run waits to be built or is being built."""
    return run.status in _RUN_ACTIVE
