"""The print pack of a drive: every letter followed by its envelope, after a cover list.

Pure rendering (data in, bytes out; no Flask, no database). The letters are cut into groups of a
few dozen and each group is laid out as ONE WeasyPrint document (app.pdf.pack_layout) in a pool
of long-lived worker processes (app.pdf.pool), each holding its parsed stylesheets and fonts.
The parent joins the group PDFs and the cover with pypdf, page objects copied as they are:
nothing is laid out twice.

Why groups rather than one document per letter: each WeasyPrint document has a fixed cost
(style cascade set-up, font subsetting, PDF serialisation) and embeds its own font subsets; a
group pays that once for a few dozen letters, and the pack is a quarter of the size of the
letters' own PDFs put together. With HarfBuzz subsetting that fixed cost is small, though
(about a tenth of a letter with its envelope, measured): most of the time goes into laying out
and drawing each page, which grouping cannot save, so the speed-up comes from the cores.
Why not one document for the whole pack: it would use one core, hold the layout of ~1,000
pages in memory at once, and report no progress.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader, PdfWriter

from app.pdf import render
from app.pdf.pack_layout import (
    COVER_LABELS,
    CoverInfo,
    PackItem,
    PackItemError,
    PackRenderError,
    cover_rows,
)
from app.pdf.pool import GroupResult, PackPool, cover_task, default_processes, group_task

#: Letters per WeasyPrint document. On 2 cores and 500 letters (bench/pack.py) 10, 25 and 50
#: took 24, 26 and 28 s: smaller groups balance the two workers better at the end, larger ones
#: embed the fonts fewer times (PDF 3.3, 2.5, 2.2 MB) and hold more layout in memory at once.
DEFAULT_GROUP_SIZE = 25


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


# --- the pack --------------------------------------------------------------------------------


def render_pack(
    items: Sequence[PackItem],
    cover: CoverInfo | None,
    progress: Callable[[int, int], None] | None = None,
    *,
    group_size: int = DEFAULT_GROUP_SIZE,
    pool: PackPool | None = None,
    heartbeat: Callable[[], None] | None = None,
    heartbeat_seconds: float = 10.0,
) -> bytes:
    """Render the print pack: the cover list, then each letter's pages followed by its envelope.

    Without ``cover`` (None) the pack has no cover list: a mailroom print run makes its own,
    which needs the letters' pages counted first (app.mailroom.runs).

    Letters are rendered in groups of ``group_size`` in ``pool`` (or in a pool started for this
    call and closed after it). ``progress(done, total)`` is called in this process with the
    number of letters rendered, first with 0, then as each group completes (in any order), last
    with ``(total, total)`` before the parts are joined. The pages keep the order of ``items``.
    ``heartbeat()`` is called whenever ``heartbeat_seconds`` pass without a group completing
    (the pool may be busy with another pack): the caller is alive and waiting. Whatever either
    callback raises stops the pack, its documents not yet started dropped (and, in a pool of
    this call's own, those under way killed).

    A document lost because another pack's caller killed the shared pool (`PackPool.kill`, a
    hung render) is rendered again once; a worker that dies by itself fails the pack.

    Raises :class:`PackRenderError` with a readable message when any part fails; no partial
    file is ever returned.
    """
    if group_size < 1:
        raise ValueError("group_size must be at least 1")
    items = list(items)
    beat = _Heartbeat(heartbeat, heartbeat_seconds)
    if pool is not None:
        return _render_pack(items, cover, progress, group_size, pool, beat)
    documents = (cover is not None) + -(-len(items) // group_size)  # the cover and the groups
    with PackPool(min(default_processes(), documents)) as temporary:
        return _render_pack(items, cover, progress, group_size, temporary, beat)


#: The part of a pack that is its cover list (the groups are 0, 1, …).
_COVER = -1


@dataclass(frozen=True)
class _Heartbeat:
    call: Callable[[], None] | None
    seconds: float


def _groups(items: list[PackItem], group_size: int) -> Iterator[tuple[int, list[PackItem]]]:
    """(first number, items) for each group; numbers are 1-based positions in the pack."""
    for start in range(0, len(items), group_size):
        yield start + 1, items[start : start + group_size]


def _killed_meanwhile(future: Future[Any], pool: PackPool, kills_at_submit: int) -> bool:
    """Whether the document was lost to `PackPool.kill` (another pack's hung render), not to
    a failure of its own."""
    if future.cancelled() or not isinstance(future.exception(), BrokenProcessPool):
        return False
    return pool.kills != kills_at_submit


def _render_pack(
    items: list[PackItem],
    cover: CoverInfo | None,
    progress: Callable[[int, int], None] | None,
    group_size: int,
    pool: PackPool,
    heartbeat: _Heartbeat,
) -> bytes:
    total = len(items)
    groups = list(_groups(items, group_size))

    def submit(index: int) -> Future[Any]:
        if index == _COVER:
            assert cover is not None
            return pool.submit(cover_task, cover_rows(items), cover)
        first, group = groups[index]
        return pool.submit(group_task, group, first)

    # The cover goes first so a worker has it done long before the last group.
    # Each document: its part (_COVER or a group's index), and the pool's kills then.
    pending: dict[Future[Any], tuple[int, int]] = {}
    first_parts = (_COVER,) if cover is not None else ()
    for index in (*first_parts, *range(len(groups))):
        kills = pool.kills
        pending[submit(index)] = (index, kills)
    parts: list[bytes | None] = [None] * len(groups)
    cover_pdf = b""
    rendered_again: set[int] = set()
    try:
        if progress is not None:
            progress(0, total)
        done = 0
        while pending:
            finished, _ = wait(pending, timeout=heartbeat.seconds, return_when=FIRST_COMPLETED)
            if not finished and heartbeat.call is not None:
                heartbeat.call()
            for future in finished:
                index, kills = pending.pop(future)
                if index not in rendered_again and _killed_meanwhile(future, pool, kills):
                    rendered_again.add(index)
                    kills = pool.kills
                    pending[submit(index)] = (index, kills)
                    continue
                if index == _COVER:
                    cover_pdf = _collect(future, pool, "the cover list")
                    continue
                first, group = groups[index]
                parts[index] = _collect(future, pool, _describe(first, len(group), total))
                done += len(group)
                if progress is not None:
                    progress(done, total)
    except BaseException:
        # Do not leave a shared pool busy with a pack nobody will read.
        for future in pending:
            future.cancel()
        raise
    assert all(part is not None for part in parts)
    try:
        return join_pdfs(
            [*([cover_pdf] if cover is not None else []), *(p for p in parts if p is not None)],
            COVER_LABELS[cover.language if cover is not None else "ru"]["document_title"],
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
        result: GroupResult = future.result()
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
