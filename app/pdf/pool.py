"""The rendering pool of print packs: long-lived worker processes, and what runs in them.

Each worker holds its parsed stylesheets and fonts (render.py's per-process caches) and lays out
the documents of packs (app.pdf.pack_layout) for as long as the pool lives; app.pdf.pack submits
the groups and the cover of a pack here and joins what comes back.

Why the ``spawn`` start method: ``fork`` copies the parent as it is, and the parent is a job
consumer or web worker with threads. A thread of the parent may hold a lock at the moment of the
fork (render.py's render lock, fontconfig's and GLib's internal mutexes, the logging lock), and
the child would wait on it forever; the child would also inherit the parent's half-used Pango
font map and HarfBuzz caches, which none of these C libraries promise to survive a fork.
``forkserver`` would be safe too, but it is one server per process whose preload list any
other caller may also set, for a gain (about a second of imports per worker, once per pool)
that a long-lived pool does not need. ``spawn`` starts each worker from a clean interpreter: it
imports WeasyPrint, loads the fonts and parses the stylesheets itself, once.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any

from app.pdf.lifeline import die_with_parent
from app.pdf.pack_layout import (
    CoverInfo,
    CoverRow,
    PackItem,
    PackRenderError,
    cover_rows,
    pack_stylesheets,
    render_cover_pdf,
    render_group_pdf,
)
from app.pdf.render import EnvelopeDocument, LetterDocument

#: How many group reports a pool keeps (for the benchmark and for monitoring), newest last.
REPORTS_KEPT = 1000


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
class GroupResult:
    """What a worker sends back for one document: its PDF and how it went."""

    pdf: bytes
    report: GroupReport


# --- worker process --------------------------------------------------------------------------

_worker_state: dict[str, int] = {}

#: Test-only: a group with a letter whose text contains this variable's value hangs in its
#: worker for ever, as a render the layout engine never finishes would (the print job's time
#: limit is tested with it, tests/test_print_hang.py). Unset, as it is outside tests, it does
#: nothing; Konvert refuses to start with KONVERT_CONFIG=production while it is set.
TEST_HANG_VARIABLE = "KONVERT_TEST_HANG_RENDER_ON"

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


def _init_worker(parent_pid: int) -> None:
    """Start a worker: parse the stylesheets and load every font face once, for its lifetime.

    Ctrl+C in a terminal reaches the whole process group; the parent decides what to do, so
    the workers ignore it instead of printing a traceback each. A worker dies with its parent
    (app.pdf.lifeline), even when the parent is killed outright: the pool's threads that start
    workers are the consumer's job threads, which live as long as the consumer.
    """
    die_with_parent(parent_pid, kernel_signal=True)
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
    # out, and collect once after each document (group_task), which keeps the worker's
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


def _hang_when_tested(items: Sequence[PackItem]) -> None:
    """Block for ever when a test asks for it (TEST_HANG_VARIABLE); nothing otherwise."""
    marker = os.environ.get(TEST_HANG_VARIABLE)
    if marker and any(marker in item.letter.body for item in items):
        threading.Event().wait()


def group_task(items: Sequence[PackItem], first_number: int) -> GroupResult:
    """Lay out one group of a pack in a worker (see render_group_pdf), with its report."""
    _hang_when_tested(items)
    rss_before, started = _rss_bytes(), (time.perf_counter(), time.process_time())
    try:
        pdf = render_group_pdf(items, first_number)
    finally:
        gc.collect()  # the laid-out document is garbage now (see _init_worker)
    return GroupResult(pdf, _report(first_number, len(items), started, rss_before))


def cover_task(rows: Sequence[CoverRow], cover: CoverInfo) -> GroupResult:
    """Lay out a pack's cover list in a worker (see render_cover_pdf), with its report."""
    rss_before, started = _rss_bytes(), (time.perf_counter(), time.process_time())
    try:
        pdf = render_cover_pdf(rows, cover)
    finally:
        gc.collect()
    return GroupResult(pdf, _report(0, 0, started, rss_before))


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
        #: How many times the workers were killed (`kill`): a document that failed with
        #: BrokenProcessPool after that was lost to it, not to a fault of its own.
        self.kills = 0
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
        if exc is not None:
            # Nobody will read what is still rendering, and it may be what hangs.
            self.kill()
        self.close()

    def close(self) -> None:
        """Stop the workers: queued documents are dropped, running ones finish first."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def kill(self) -> None:
        """Kill the workers now, renders under way included: a render that hangs (in
        WeasyPrint's C libraries as well) cannot be stopped more gently, nor cancelled.

        Every document not finished in this pool, of any pack, fails with BrokenProcessPool
        (`render_pack` renders those of other packs again); the next submit starts new
        workers."""
        with self._lock:
            executor, self._executor = self._executor, None
            self.kills += 1
        if executor is None:
            return
        # ProcessPoolExecutor keeps its processes here (typed by typeshed); Python 3.14's
        # kill_workers() does the same.
        workers = list((executor._processes or {}).values())
        for worker in workers:
            worker.kill()
        # Not cancel_futures: a future cancelled in a pool whose workers are gone is never
        # marked done, and whoever waits for it would wait for ever; left alone, each fails
        # with BrokenProcessPool once the executor sees its workers dead.
        executor.shutdown(wait=False)
        for worker in workers:
            worker.join(5)

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
                    initargs=(os.getpid(),),
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
