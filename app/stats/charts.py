"""Bar charts drawn on the server as SVG: pure geometry, no JavaScript, no library."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

LABEL_CHARS = 34  # longer labels are shortened; the table beside the chart has them in full


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the figure printed after it, and its length in % of the widest."""

    label: str
    text: str
    length: float


def bars(items: Iterable[tuple[str, float, str]]) -> list[Bar]:
    """Bars for (label, value, text) triples, scaled so that the largest value fills the row."""
    rows = list(items)
    top = max((value for _, value, _ in rows), default=0.0)
    return [
        Bar(
            label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
            text=text,
            length=round(value / top * 100, 2) if top > 0 else 0.0,
        )
        for label, value, text in rows
    ]
