"""Single PDFs rendered within a time limit, in a helper process that is killed when it overruns.

A letter printed from its tracking link is rendered while the person waits. Its length is
capped when it is saved, but WeasyPrint's time is not a simple function of pages (a letter
stored before the cap, an unforeseen slow path in layout), and a Python thread cannot be
stopped: so each web process keeps one long-lived helper process that renders for it. The
request sends the document (a few kilobytes, pickled) and waits at most ``timeout`` seconds for
the PDF; when the time is up the helper is killed, the request gets :class:`RenderTimeout`, and
the next render starts a fresh helper. The web process itself never runs a render that could
keep it busy for long, and with threaded workers the GIL stays free while the helper renders.

The helper is warm: it parses the stylesheets and lays out a sample letter once, when it
starts, so a render costs what it costs in-process plus a millisecond of pickling (measured:
a one-page letter with its envelope, ~50 ms either way). Renders of one web process are
serialised, as they are in-process (render.py's lock).

Why ``spawn``, as in app.pdf.pool: a forked child of a threaded web process may inherit a lock
held by another thread, and Pango and fontconfig do not promise to survive a fork.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import date
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from app.pdf import render
from app.pdf.lifeline import die_with_parent
from app.pdf.render import AppealDocument, EnvelopeDocument, LetterDocument

log = logging.getLogger(__name__)

#: How long a new helper may take to import WeasyPrint and warm up (not part of any timeout).
START_TIMEOUT_SECONDS = 60.0


class RenderTimeout(Exception):
    """The document was not ready in time (or the helper was busy that long); nothing is kept."""


class RenderFailed(Exception):
    """The helper process could not be started or died while rendering."""


# --- in the helper process -------------------------------------------------------------------


def _letter_pdf(letter: LetterDocument, envelope: EnvelopeDocument | None) -> bytes:
    return render.render_letter_pdf(letter, envelope)


def _appeal_pdf(appeal: AppealDocument, envelope: EnvelopeDocument | None) -> bytes:
    return render.render_appeal_pdf(appeal, envelope)


def _letter_pages(letter: LetterDocument) -> int:
    return len(render.render_html(render.letter_html(letter), render.letter_stylesheets()).pages)


def _appeal_pages(appeal: AppealDocument) -> int:
    return len(render.render_html(render.appeal_html(appeal), render.appeal_stylesheets()).pages)


_TASKS: dict[str, Callable[..., Any]] = {
    "letter_pdf": _letter_pdf,
    "appeal_pdf": _appeal_pdf,
    "letter_pages": _letter_pages,
    "appeal_pages": _appeal_pages,
}

_SAMPLE_LETTER = LetterDocument(
    language="ru",
    body="Здравствуйте!\n\nПробная страница: шрифты загружаются один раз.",
    signature="Подпись",
    written_on=date(2025, 1, 1),
    recipient_header="Иванову Ивану Ивановичу, 1970 г.р.",
)
_SAMPLE_ENVELOPE = EnvelopeDocument(
    size="dl",
    sender_name="Отправитель",
    sender_address_lines=["ул. Примерная, д. 1", "Город"],
    recipient_lines=["Иванову Ивану Ивановичу, 1970 г.р.", "Учреждение", "101000"],
)


def _serve(connection: Connection, parent_pid: int) -> None:
    """The helper's life: warm up, then render what the parent sends until it goes away."""
    # A web process killed outright cannot stop its helper: the helper watches for that
    # itself, also in the middle of a render. (No kernel signal: a request's thread may be
    # short-lived, and the kernel would kill the helper with the thread; see app.pdf.lifeline.)
    die_with_parent(parent_pid)
    # Ctrl+C reaches the whole process group; the parent decides what happens.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _letter_pdf(_SAMPLE_LETTER, _SAMPLE_ENVELOPE)  # parse stylesheets, load every font face
    connection.send(("ready", os.getpid()))
    while True:
        try:
            name, args = connection.recv()
        except (EOFError, OSError):
            return  # the web process is gone: so is the reason to live
        try:
            result: tuple[str, Any] = ("ok", _TASKS[name](*args))
        except Exception as error:  # sent back and raised in the parent, with its message
            result = ("error", f"{type(error).__name__}: {error}")
        connection.send(result)


# --- in the web process ----------------------------------------------------------------------


class BoundedRenderer:
    """One helper process per web process (started on first use), and its time limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._owner = 0  # the pid that started the helper: a forked copy must start its own

    def run(self, task: str, *args: Any, timeout: float) -> Any:
        """Run ``task`` in the helper and return its result, or raise :class:`RenderTimeout`
        when it takes longer than ``timeout`` seconds (the helper is then killed).

        Waiting for another render of this process to finish may take up to ``timeout`` too.
        """
        if not self._lock.acquire(timeout=timeout):
            raise RenderTimeout(f"another document was still being rendered after {timeout} s")
        try:
            connection = self._started()
            try:
                connection.send((task, args))
                if not connection.poll(timeout):
                    self._stop()
                    raise RenderTimeout(f"{task} took longer than {timeout} s")
                status, value = connection.recv()
            except (EOFError, OSError) as error:
                self._stop()
                raise RenderFailed(f"the rendering process stopped: {error}") from error
        finally:
            self._lock.release()
        if status != "ok":
            raise RenderFailed(str(value))
        return value

    def _started(self) -> Connection:
        """The helper's end of the pipe, starting the helper first when there is none."""
        if self._owner != os.getpid():
            # Inherited through fork (gunicorn --preload): the parent's helper is not ours.
            self._process, self._connection = None, None
        if self._process is not None and self._connection is not None:
            if self._process.is_alive():
                return self._connection
            self._stop()
        parent_end, child_end = multiprocessing.get_context("spawn").Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child_end, os.getpid()), name="konvert-pdf", daemon=True
        )
        started = time.monotonic()
        try:
            process.start()
        except Exception as error:
            raise RenderFailed(f"the rendering process could not start: {error}") from error
        child_end.close()
        self._process, self._connection, self._owner = process, parent_end, os.getpid()
        try:
            ready = parent_end.poll(START_TIMEOUT_SECONDS) and parent_end.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop()
            raise RenderFailed("the rendering process did not start")
        log.info("PDF rendering process started in %.1f s", time.monotonic() - started)
        return parent_end

    def _stop(self) -> None:
        """Kill the helper (a render that overran cannot be stopped more gently)."""
        process, connection = self._process, self._connection
        self._process, self._connection = None, None
        if connection is not None:
            connection.close()
        if process is not None:
            process.kill()
            process.join(5)

    def close(self) -> None:
        """Stop the helper, if one is running (tests; the process exiting does it too)."""
        with self._lock:
            self._stop()


#: This process's renderer; every request of this process shares it.
RENDERER = BoundedRenderer()


def letter_pdf(letter: LetterDocument, envelope: EnvelopeDocument | None, timeout: float) -> bytes:
    """:func:`app.pdf.render.render_letter_pdf`, within ``timeout`` seconds."""
    pdf: bytes = RENDERER.run("letter_pdf", letter, envelope, timeout=timeout)
    return pdf


def appeal_pdf(appeal: AppealDocument, envelope: EnvelopeDocument | None, timeout: float) -> bytes:
    """:func:`app.pdf.render.render_appeal_pdf`, within ``timeout`` seconds."""
    pdf: bytes = RENDERER.run("appeal_pdf", appeal, envelope, timeout=timeout)
    return pdf


def page_count(document: LetterDocument | AppealDocument, timeout: float) -> int:
    """How many pages the letter (or appeal) takes, laid out for real, within ``timeout``."""
    task = "appeal_pages" if isinstance(document, AppealDocument) else "letter_pages"
    pages: int = RENDERER.run(task, document, timeout=timeout)
    return pages
