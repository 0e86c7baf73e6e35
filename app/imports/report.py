"""What an import did (or, in a dry run, would do), and its plain-text rendering.

The same report is printed by `flask import …` and shown on the web page (the page adds an HTML
table of the same rows, see templates/imports/_report.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext


@dataclass
class RowResult:
    """One row of the file and what became of it."""

    number: int  # the line in a CSV file, the 1-based item in a JSON list
    label: str  # who or what the row is about, e.g. "ИК-3 [vlad-ik3]"
    reasons: list[str] = field(default_factory=list)  # why it was refused
    changed: list[str] = field(default_factory=list)  # columns that differ (updates)


@dataclass
class ImportReport:
    """Counts and rows by outcome, with warnings; ``imported`` once written to the database."""

    kind: str  # "facilities" or "prisoners"
    filename: str
    dry_run: bool
    unit: str = "line"  # "line" (CSV) or "item" (JSON)
    file_format: str = ""
    encoding: str = ""
    delimiter: str | None = None
    created: list[RowResult] = field(default_factory=list)
    updated: list[RowResult] = field(default_factory=list)
    unchanged: list[RowResult] = field(default_factory=list)
    refused: list[RowResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    file_error: str | None = None  # set when the whole file was refused
    imported: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing was refused: the file can be (or was) imported."""
        return self.file_error is None and not self.refused

    @property
    def rows_to_import(self) -> int:
        """Rows that create or change a record."""
        return len(self.created) + len(self.updated)

    @property
    def row_count(self) -> int:
        """All rows read from the file."""
        return len(self.created) + len(self.updated) + len(self.unchanged) + len(self.refused)

    def rows(self) -> list[tuple[str, RowResult]]:
        """(outcome, row) for refused, created and updated rows, in file order."""
        pairs = [
            *(("refused", row) for row in self.refused),
            *(("created", row) for row in self.created),
            *(("updated", row) for row in self.updated),
        ]
        return sorted(pairs, key=lambda pair: pair[1].number)

    def where(self, number: int) -> str:
        """ "line 4" or "item 4"."""
        if self.unit == "item":
            return _("item %(number)d", number=number)
        return _("line %(number)d", number=number)

    def counts(self) -> str:
        """ "2 created, 1 updated, 5 unchanged, 0 refused" ("2 to create, …" before writing)."""
        numbers = {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "refused": len(self.refused),
        }
        if self.imported:
            return _(
                "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(refused)d refused",
                **numbers,
            )
        return _(
            "%(created)d to create, %(updated)d to update, %(unchanged)d unchanged, "
            "%(refused)d refused",
            **numbers,
        )

    def describe_file(self) -> str:
        """ "CSV, UTF-8 with BOM, separated by “;”"."""
        parts = [self.file_format.upper()] if self.file_format else []
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter:
            parts.append(_("separated by “%(separator)s”", separator=self.delimiter))
        return ", ".join(parts)

    def unchanged_ranges(self) -> str:
        """The unchanged rows' numbers as ranges: "lines 2–5, 7"."""
        return number_ranges(row.number for row in self.unchanged)

    def outcome(self) -> str:
        """The closing sentence: what happened to the database."""
        if self.file_error is not None:
            return _("Nothing was imported.")
        if self.refused:
            return ngettext(
                "Nothing was imported because %(num)d row was refused. "
                "Correct it and try again: the file is imported whole or not at all.",
                "Nothing was imported because %(num)d rows were refused. "
                "Correct them and try again: the file is imported whole or not at all.",
                len(self.refused),
            )
        if self.dry_run and self.rows_to_import:
            return ngettext(
                "%(num)d row is ready to import.",
                "%(num)d rows are ready to import.",
                self.rows_to_import,
            )
        if self.imported and self.rows_to_import:
            return _("Imported.")
        return _("Nothing needed to change.")


def number_ranges(numbers: Iterable[int]) -> str:
    """[2, 3, 4, 5, 7] → "2–5, 7"."""
    ordered = sorted(set(numbers))
    spans: list[str] = []
    start = previous = None
    for number in ordered:
        if start is None:
            start = previous = number
        elif previous is not None and number == previous + 1:
            previous = number
        else:
            spans.append(_span(start, previous))
            start = previous = number
    if start is not None:
        spans.append(_span(start, previous))
    return ", ".join(spans)


def _span(start: int, end: int | None) -> str:
    return str(start) if end in (None, start) else f"{start}–{end}"


def render_text(report: ImportReport) -> str:
    """The report as plain text, as `flask import` prints it and the web page repeats it."""
    if report.kind == "facilities":
        title = _("Import of facilities from “%(file)s”", file=report.filename)
    else:
        title = _("Import of prisoners from “%(file)s”", file=report.filename)
    lines = [title + (f" ({report.describe_file()})" if report.describe_file() else "")]
    if report.dry_run:
        lines.append(_("Dry run: nothing is written to the database."))
    if report.file_error is not None:
        lines.append(_("The file was refused. %(reason)s", reason=report.file_error))
        lines.append(report.outcome())
        return "\n".join(lines) + "\n"
    lines.extend(_("Warning: %(warning)s", warning=warning) for warning in report.warnings)
    lines.append(report.counts())
    sections = (
        (_("Refused:"), report.refused, "refused"),
        (_("Created:") if report.imported else _("To create:"), report.created, "created"),
        (_("Updated:") if report.imported else _("To update:"), report.updated, "updated"),
    )
    for heading, rows, outcome in sections:
        if not rows:
            continue
        lines.append(heading)
        for row in rows:
            lines.append(f"  {report.where(row.number)}: {_row_detail(row, outcome)}")
    if report.unchanged:
        label = _("Unchanged items:") if report.unit == "item" else _("Unchanged lines:")
        lines.append(f"{label} {report.unchanged_ranges()}")
    lines.append(report.outcome())
    return "\n".join(lines) + "\n"


def _row_detail(row: RowResult, outcome: str) -> str:
    if outcome == "refused":
        reasons = "; ".join(row.reasons)
        return f"{row.label} — {reasons}" if row.label else reasons
    if outcome == "updated":
        return _("%(label)s — changed: %(fields)s", label=row.label, fields=", ".join(row.changed))
    return row.label
