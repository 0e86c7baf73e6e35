"""The print pack of a drive: every letter followed by its envelope, after a cover list.

Pure rendering (data in, bytes out; no Flask, no database). The letters are cut into groups of a
few dozen and each group is laid out as ONE WeasyPrint document in a pool of long-lived worker
processes, each holding its parsed stylesheets and fonts (render.py's per-process caches). The
parent joins the group PDFs and the cover with pypdf, page objects copied as they are: nothing
is laid out twice.

Why groups rather than one document per letter: each WeasyPrint document has a fixed cost
(style cascade set-up, font subsetting, PDF serialisation) and embeds its own font subsets; a
group pays that once for a few dozen letters, and the pack is a quarter of the size of the
letters' own PDFs put together. With HarfBuzz subsetting that fixed cost is small, though
(about a tenth of a letter with its envelope, measured): most of the time goes into laying out
and drawing each page, which grouping cannot save, so the speed-up comes from the cores.
Why not one document for the whole pack: it would use one core, hold the layout of ~1,000
pages in memory at once, and report no progress.

How a group stays faithful to single letters (pack.css, pack_letters.html): the letter and
envelope rules of letter.css and envelope.css, scoped; a page name per letter, so that its page
counter restarts and its footer says "page / pages of this letter"; the recipient header as a
named string (not a running element, which makes WeasyPrint lay out again the first page of
every letter). The pages come out identical to render_letter_pdf's, pixel for pixel.

Why the ``spawn`` start method: ``fork`` copies the parent as it is, and the parent is a job
consumer or web worker with threads. A thread of the parent may hold a lock at the moment of the
fork (render.py's render lock, fontconfig's and GLib's internal mutexes, the logging lock), and
the child would wait on it forever; the child would also inherit the parent's half-used Pango
font map and HarfBuzz caches, which none of these C libraries promise to survive a fork.
``forkserver`` would be safe too, but it is one server per process whose preload list any
other caller may also set, for a gain (about a second of imports per worker, once per pool)
that a long-lived pool does not need. ``spawn`` starts each worker from a clean interpreter: it
imports WeasyPrint, loads the fonts and parses the stylesheets itself, once.

Untrusted text goes through the same autoescaping Jinja environment as single letters, and every
HTML() and CSS() uses the restricted URL fetcher (render.render_html and render.stylesheet).
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any

from babel.dates import format_date
from pypdf import PdfReader, PdfWriter

from app.pdf import render
from app.pdf.render import (
    SUPPORTED_ENVELOPES,
    SUPPORTED_LANGUAGES,
    EnvelopeDocument,
    LetterDocument,
)

#: Letters per WeasyPrint document. On 2 cores and 500 letters (bench/pack.py) 10, 25 and 50
#: took 24, 26 and 28 s: smaller groups balance the two workers better at the end, larger ones
#: embed the fonts fewer times (PDF 3.3, 2.5, 2.2 MB) and hold more layout in memory at once.
DEFAULT_GROUP_SIZE = 25

#: How many group reports a pool keeps (for the benchmark and for monitoring), newest last.
REPORTS_KEPT = 1000

_LETTERS_TEMPLATE = "pack_letters.html"
_COVER_TEMPLATE = "pack_cover.html"
_STYLESHEETS = ("fonts.css", "pack.css")

_DATE_LOCALES = {"ru": "ru", "en": "en_GB"}

# The cover is printed in the organizer's language; the envelopes are always Russian. This module
# has no Flask (it runs in worker processes), so its few labels live here in both languages.
_COVER_LABELS: dict[str, dict[str, str]] = {
    "ru": {
        "document_title": "Письма",
        "kicker": "Список писем для отправки",
        "held_on": "Дата вечера",
        "generated_on": "Список составлен",
        "letters": "Писем",
        "facilities": "Учреждений",
        "facility": "Учреждение",
        "total": "Всего",
        "number": "№",
        "recipient": "Кому",
        "envelope": "Конверт",
        "no_envelope": "без конверта",
    },
    "en": {
        "document_title": "Letters",
        "kicker": "Letters to post",
        "held_on": "Drive held on",
        "generated_on": "List made on",
        "letters": "Letters",
        "facilities": "Facilities",
        "facility": "Facility",
        "total": "Total",
        "number": "No.",
        "recipient": "Recipient",
        "envelope": "Envelope",
        "no_envelope": "none",
    },
}


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackItem:
    """One letter of the pack with its envelope and the labels of its cover-list line.

    ``facility_label`` groups the cover list («ФКУ ИК-6 УФСИН России по Владимирской области,
    601120»); ``recipient_label`` is the line under it («Горинову Алексею Александровичу,
    1961 г.р.»). Every string is untrusted.
    """

    letter: LetterDocument
    envelope: EnvelopeDocument | None
    facility_label: str
    recipient_label: str

    def __post_init__(self) -> None:
        if not isinstance(self.letter, LetterDocument):
            raise TypeError("A print pack holds letters to prisoners only, not appeals")


@dataclass(frozen=True)
class CoverInfo:
    """What the cover list says about the drive. ``title`` is untrusted text.

    ``language`` is the language of the cover's own labels ("ru" or "en"), not of the letters.
    """

    title: str
    held_on: date
    generated_on: date
    language: str = "ru"

    def __post_init__(self) -> None:
        if self.language not in _COVER_LABELS:
            raise ValueError(f"Unsupported cover language: {self.language!r}")


@dataclass(frozen=True)
class CoverRow:
    """One line of the cover list: what the worker needs, not the whole letter."""

    number: int
    facility_label: str
    recipient_label: str
    envelope_size: str | None


@dataclass(frozen=True)
class GroupReport:
    """How one document (a group of letters, or the cover: 0 letters) went in its worker.

    ``seconds`` is wall time, ``cpu_seconds`` the worker's own CPU time (the fairer figure on a
    busy machine). Memory is the worker's resident set size in bytes: when it was ready (after
    the initializer), before and after this document, and the peak of its whole life.
    """

    pid: int
    first_number: int
    letters: int
    seconds: float
    cpu_seconds: float
    rss_ready: int
    rss_before: int
    rss_after: int
    rss_peak: int


@dataclass(frozen=True)
class _GroupResult:
    pdf: bytes
    report: GroupReport


class PackRenderError(RuntimeError):
    """The pack could not be built; the message says which letters and why, for the job log."""


class PackItemError(ValueError):
    """One item of a group cannot be turned into a page (raised in a worker, picklable)."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(number, reason)
        self.number = number
        self.reason = reason

    def __str__(self) -> str:
        return f"letter {self.number}: {self.reason}"


# --- rendering (runs in the workers; usable in-process too) ---------------------------------


def pack_stylesheets() -> list[Any]:
    """The pack's stylesheets (fonts + pack.css), parsed once per process."""
    return [render.stylesheet(name) for name in _STYLESHEETS]


def _item_context(item: PackItem, number: int) -> dict[str, Any]:
    """Template data for one item; refuses what the layout has no place for."""
    letter = item.letter
    if not isinstance(letter, LetterDocument):
        raise TypeError("not a letter to a prisoner")
    if letter.language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"Unsupported letter language: {letter.language!r}")
    envelope = item.envelope
    if envelope is not None and envelope.size not in SUPPORTED_ENVELOPES:
        # The dataclass refuses this too; checked again because a size that reached the
        # template would silently print the envelope on an A4 page.
        raise ValueError(f"Unsupported envelope size: {envelope.size!r}")
    return {
        "letter": render.letter_context(letter),
        "envelope": render.envelope_context(envelope) if envelope is not None else None,
        "number": number,
        # Unique in the whole pack: the joined PDF keeps each group's named destinations.
        "end_id": f"pack-end-{number}",
    }


def letters_html(items: Sequence[PackItem], first_number: int = 1) -> str:
    """The HTML of one group: each letter's pages, then its envelope page.

    ``first_number`` is the position of ``items[0]`` in the whole pack (1-based); it keeps
    anchors unique and error messages precise.
    """
    contexts = []
    for offset, item in enumerate(items):
        number = first_number + offset
        try:
            contexts.append(_item_context(item, number))
        except Exception as error:
            raise PackItemError(number, f"{type(error).__name__}: {error}") from error
    return render.pdf_template(_LETTERS_TEMPLATE).render(
        title=_COVER_LABELS["ru"]["document_title"], items=contexts
    )


def render_group_pdf(items: Sequence[PackItem], first_number: int = 1) -> bytes:
    """Lay out a group of letters and envelopes as one document and return its PDF.

    Each letter has a page name of its own, so its page counter restarts at 1 and its footer
    shows "page / pages of this letter", the total being the page its end marker lands on
    (pack_letters.html). Margins, header and type are those of a single letter (pack.css).
    """
    markup = letters_html(items, first_number)
    return render.render_pdf(markup, pack_stylesheets())


def cover_rows(items: Sequence[PackItem]) -> list[CoverRow]:
    """The cover-list lines of a pack, numbered by position in the pack."""
    return [
        CoverRow(
            number=number,
            facility_label=item.facility_label,
            recipient_label=item.recipient_label,
            envelope_size=item.envelope.size if item.envelope is not None else None,
        )
        for number, item in enumerate(items, start=1)
    ]


def cover_html(rows: Sequence[CoverRow], cover: CoverInfo) -> str:
    """The HTML of the cover list: facilities in order of first appearance, with counts."""
    facilities: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        label = render.clean_one_line(row.facility_label)
        facilities.setdefault(label, []).append(
            {
                "number": row.number,
                "recipient": render.clean_one_line(row.recipient_label),
                "envelope": row.envelope_size.upper() if row.envelope_size else None,
            }
        )
    locale = _DATE_LOCALES[cover.language]
    return render.pdf_template(_COVER_TEMPLATE).render(
        lang=cover.language,
        labels=_COVER_LABELS[cover.language],
        title=render.clean_one_line(cover.title),
        held_on=format_date(cover.held_on, format="long", locale=locale),
        generated_on=format_date(cover.generated_on, format="long", locale=locale),
        total=len(rows),
        facilities=[{"label": label, "rows": lines} for label, lines in facilities.items()],
    )


def render_cover_pdf(rows: Sequence[CoverRow], cover: CoverInfo) -> bytes:
    """Lay out the cover list (A4, numbered pages of its own) and return its PDF."""
    markup = cover_html(rows, cover)
    return render.render_pdf(markup, pack_stylesheets())


def join_pdfs(parts: Sequence[bytes], title: str) -> bytes:
    """Concatenate PDFs page by page, without laying anything out again.

    ``title`` becomes the document title in the metadata; keep it neutral (no names).
    """
    writer = PdfWriter()
    for part in parts:
        # The parts have no outline worth keeping (the layouts switch bookmarks off).
        writer.append(PdfReader(io.BytesIO(part)), import_outline=False)
    writer.add_metadata({"/Title": title, "/Creator": "Konvert"})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def render_naive(items: Sequence[PackItem]) -> list[bytes]:
    """Each letter and its envelope as a document of its own, in this process.

    The baseline of bench/pack.py: what printing the letters one by one costs.
    """
    return [render.render_letter_pdf(item.letter, item.envelope) for item in items]


# --- worker process --------------------------------------------------------------------------

_worker_state: dict[str, int] = {}

#: gc.set_threshold() in the workers (the default is 700, 10, 10); see _init_worker.
_WORKER_GC_THRESHOLDS = (10_000, 20, 20)


def _rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc; else the peak, which is all we get)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return _peak_rss_bytes()


def _peak_rss_bytes() -> int:
    """Peak resident set size of this process (ru_maxrss is in KiB on Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_SAMPLE_ITEMS = (
    PackItem(
        letter=LetterDocument(
            language="ru",
            body="Здравствуйте!\n\nЭто пробная страница: она загружает шрифты один раз.",
            signature="Подпись",
            written_on=date(2025, 1, 1),
            recipient_header="Иванову Ивану Ивановичу, 1970 г.р.",
        ),
        envelope=EnvelopeDocument(
            size="dl",
            sender_name="Отправитель",
            sender_address_lines=["ул. Примерная, д. 1", "Город"],
            recipient_lines=["Иванову Ивану Ивановичу, 1970 г.р.", "Учреждение", "101000"],
        ),
        facility_label="Учреждение, 101000",
        recipient_label="Иванову Ивану Ивановичу, 1970 г.р.",
    ),
    PackItem(
        letter=LetterDocument(
            language="en",
            body="Hello!\n\nA sample page.",
            signature="Signature",
            written_on=date(2025, 1, 1),
            recipient_header="Sample",
        ),
        envelope=EnvelopeDocument(
            size="c5", sender_name="", sender_address_lines=[], recipient_lines=["Sample"]
        ),
        facility_label="Sample",
        recipient_label="Sample",
    ),
)


def _init_worker() -> None:
    """Start a worker: parse the stylesheets and load every font face once, for its lifetime.

    Ctrl+C in a terminal reaches the whole process group; the parent decides what to do, so
    the workers ignore it instead of printing a traceback each.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pack_stylesheets()
    # A sample group and cover lay out every face (serif regular, bold, italic; sans) so the
    # first real group does not pay for loading fonts into Pango and HarfBuzz.
    render_group_pdf(_SAMPLE_ITEMS)
    sample_cover = CoverInfo("Sample", date(2025, 1, 1), date(2025, 1, 1))
    render_cover_pdf(cover_rows(_SAMPLE_ITEMS), sample_cover)
    # A document allocates hundreds of thousands of small objects in reference cycles, so with
    # the default thresholds the collector runs every few hundred allocations, and each full
    # collection rescans everything loaded above (modules, stylesheets, font caches), which
    # lives as long as the worker. So: freeze that, collect less often while a document is laid
    # out, and collect once after each document (_group_task), which keeps the worker's
    # memory flat. Measured on 500 letters: time in the collector per letter 11 ms -> 6 ms of
    # 70–100; without the collection after each document the worker grew by ~150 MB.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_WORKER_GC_THRESHOLDS)
    _worker_state["rss_ready"] = _rss_bytes()


def _report(
    first_number: int, letters: int, started: tuple[float, float], rss_before: int
) -> GroupReport:
    return GroupReport(
        pid=os.getpid(),
        first_number=first_number,
        letters=letters,
        seconds=time.perf_counter() - started[0],
        cpu_seconds=time.process_time() - started[1],
        rss_ready=_worker_state.get("rss_ready", 0),
        rss_before=rss_before,
        rss_after=_rss_bytes(),
        rss_peak=_peak_rss_bytes(),
    )


def _group_task(items: Sequence[PackItem], first_number: int) -> _GroupResult:
    rss_before, started = _rss_bytes(), (time.perf_counter(), time.process_time())
    try:
        pdf = render_group_pdf(items, first_number)
    finally:
        gc.collect()  # the laid-out document is garbage now (see _init_worker)
    return _GroupResult(pdf, _report(first_number, len(items), started, rss_before))


def _cover_task(rows: Sequence[CoverRow], cover: CoverInfo) -> _GroupResult:
    rss_before, started = _rss_bytes(), (time.perf_counter(), time.process_time())
    try:
        pdf = render_cover_pdf(rows, cover)
    finally:
        gc.collect()
    return _GroupResult(pdf, _report(0, 0, started, rss_before))


def _ready_task() -> int:
    # Long enough that a batch of these spreads over the workers that are up.
    time.sleep(0.1)
    return os.getpid()


# --- the pool --------------------------------------------------------------------------------


def default_processes() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class PackPool:
    """Long-lived rendering processes for print packs; one per core by default.

    Each worker initialises fonts and parsed stylesheets once, then renders groups for as long
    as the pool lives, so keep one pool per job consumer rather than one per pack. Workers start
    on first use (or with :meth:`warm_up`); a pool whose worker died (killed, out of memory) is
    replaced on the next use. ``max_groups_per_worker`` recycles workers after that many
    documents, a guard against slow growth in a pool that lives for weeks.

    Must not be created in a daemonic process (such as a Huey *process* worker): those may not
    start children. Run the Huey consumer with thread workers; several of them may share one
    pool (each pack waits for its own documents only).
    """

    def __init__(
        self, processes: int | None = None, *, max_groups_per_worker: int | None = None
    ) -> None:
        if multiprocessing.current_process().daemon:
            raise PackRenderError(
                "Print packs cannot be rendered in a daemonic process, which may not start "
                "worker processes: run the job consumer with thread workers (huey -k thread)."
            )
        self.processes = processes or default_processes()
        self.max_groups_per_worker = max_groups_per_worker
        #: Reports of the latest documents rendered, newest last (see GroupReport).
        self.reports: deque[GroupReport] = deque(maxlen=REPORTS_KEPT)
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False
        # Job threads share the pool: starting and replacing the executor must happen once.
        self._lock = threading.Lock()

    def __enter__(self) -> PackPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers: queued documents are dropped, running ones finish first."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``function(*args)`` in a worker (a module-level function: it is pickled)."""
        for _ in range(2):
            executor = self._current_executor()
            try:
                return executor.submit(function, *args)
            except BrokenProcessPool:
                # A worker died since the last pack: start afresh rather than fail every pack.
                self.discard_broken(executor)
        raise PackRenderError("The print pack's rendering processes cannot be started")

    def _current_executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise PackRenderError("The print pack pool is closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    max_tasks_per_child=self.max_groups_per_worker,
                )
            return self._executor

    def discard_broken(self, executor: ProcessPoolExecutor | None = None) -> None:
        """Drop an executor whose worker died (the current one by default).

        The next submit starts new workers. Nothing happens when another thread has already
        replaced that executor.
        """
        with self._lock:
            if self._executor is None or (executor is not None and executor is not self._executor):
                return
            broken, self._executor = self._executor, None
        broken.shutdown(wait=False, cancel_futures=True)

    def warm_up(self, timeout: float = 120.0) -> set[int]:
        """Start every worker and wait until each has run its initializer; return their pids."""
        deadline = time.monotonic() + timeout
        seen: set[int] = set()
        while len(seen) < self.processes and time.monotonic() < deadline:
            batch = [self.submit(_ready_task) for _ in range(self.processes)]
            for future in batch:
                seen.add(future.result(timeout=max(1.0, deadline - time.monotonic())))
        return seen


# --- the pack --------------------------------------------------------------------------------


def render_pack(
    items: Sequence[PackItem],
    cover: CoverInfo,
    progress: Callable[[int, int], None] | None = None,
    *,
    group_size: int = DEFAULT_GROUP_SIZE,
    pool: PackPool | None = None,
) -> bytes:
    """Render the print pack: the cover list, then each letter's pages followed by its envelope.

    Letters are rendered in groups of ``group_size`` in ``pool`` (or in a pool started for this
    call and closed after it). ``progress(done, total)`` is called in this process with the
    number of letters rendered, first with 0, then as each group completes (in any order), last
    with ``(total, total)`` before the parts are joined. The pages keep the order of ``items``.

    Raises :class:`PackRenderError` with a readable message when any part fails; no partial
    file is ever returned.
    """
    if group_size < 1:
        raise ValueError("group_size must be at least 1")
    items = list(items)
    if pool is not None:
        return _render_pack(items, cover, progress, group_size, pool)
    documents = 1 + -(-len(items) // group_size)  # the cover and the groups
    with PackPool(min(default_processes(), documents)) as temporary:
        return _render_pack(items, cover, progress, group_size, temporary)


def _groups(items: list[PackItem], group_size: int) -> Iterator[tuple[int, list[PackItem]]]:
    """(first number, items) for each group; numbers are 1-based positions in the pack."""
    for start in range(0, len(items), group_size):
        yield start + 1, items[start : start + group_size]


def _render_pack(
    items: list[PackItem],
    cover: CoverInfo,
    progress: Callable[[int, int], None] | None,
    group_size: int,
    pool: PackPool,
) -> bytes:
    total = len(items)
    groups = list(_groups(items, group_size))
    # The cover goes first so a worker has it done long before the last group.
    cover_future = pool.submit(_cover_task, cover_rows(items), cover)
    futures: dict[Future[Any], int] = {
        pool.submit(_group_task, group, first): index
        for index, (first, group) in enumerate(groups)
    }
    parts: list[bytes | None] = [None] * len(groups)
    try:
        if progress is not None:
            progress(0, total)
        done = 0
        for future in as_completed(futures):
            index = futures[future]
            first, group = groups[index]
            parts[index] = _collect(future, pool, _describe(first, len(group), total))
            done += len(group)
            if progress is not None:
                progress(done, total)
        cover_pdf = _collect(cover_future, pool, "the cover list")
    except BaseException:
        # Do not leave a shared pool busy with a pack nobody will read.
        for future in (cover_future, *futures):
            future.cancel()
        raise
    assert all(part is not None for part in parts)
    try:
        return join_pdfs(
            [cover_pdf, *(part for part in parts if part is not None)],
            _COVER_LABELS[cover.language]["document_title"],
        )
    except Exception as error:
        raise PackRenderError(f"Joining the pages of the pack failed: {error}") from error


def _describe(first: int, count: int, total: int) -> str:
    last = first + count - 1
    if first == last:
        return f"letter {first} of {total}"
    return f"letters {first}–{last} of {total}"


def _collect(future: Future[Any], pool: PackPool, what: str) -> bytes:
    """The PDF of a finished part, or a PackRenderError that says what failed and why."""
    try:
        result: _GroupResult = future.result()
    except PackItemError as error:
        raise PackRenderError(f"The print pack could not be rendered: {error}") from error
    except BrokenProcessPool as error:
        # The next submit to the pool replaces the broken workers.
        raise PackRenderError(
            f"A rendering process stopped unexpectedly while rendering {what} "
            f"(out of memory, or killed): {error}"
        ) from error
    except Exception as error:
        raise PackRenderError(
            f"The print pack could not be rendered: {what} failed: {type(error).__name__}: {error}"
        ) from error
    pool.reports.append(result.report)
    return result.pdf
