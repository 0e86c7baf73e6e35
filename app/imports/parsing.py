"""Reading an uploaded CSV or JSON file into rows of stripped text with their line numbers.

Bytes in, rows out: nothing here touches the database. What a person might hand us:

- UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one), or Windows-1251
  (Excel's plain "CSV" on a Russian Windows). Strict UTF-8 is tried first: Windows-1251 text is
  almost never valid UTF-8, while UTF-8 text always "decodes" as Windows-1251 into mojibake.
- Commas or semicolons between cells (Excel in a Russian locale uses semicolons), chosen by
  counting them in the header line.
- JSON: a list of objects, or {"facilities": [...]} / {"prisoners": [...]}.
- Whitespace around cells, empty lines (skipped, but lines keep their numbers as in the file),
  header names in any case with spaces or hyphens for underscores, columns we do not know
  (ignored, with a warning).

A row is numbered by the file's line it starts on (CSV) or by its 1-based position in the list
(JSON, called "item").
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from app.csvsafe import unguard_cell
from app.inputguard import TooDeeplyNested, UnreadableJSON, loads_bounded

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx and .ods files are zip archives
_SEPARATORS_IN_NAMES = re.compile(r"[\s\-]+")


class FileRefused(Exception):
    """The whole file cannot be imported; ``message`` says why, for a person to read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SourceRow:
    """One row: its line (CSV) or item (JSON) number and its cells by column name.

    ``cells`` holds only the columns the row has (every known header column for CSV; the keys
    an object has for JSON). ``problem`` is set when the row could not be read as a row at all.
    """

    number: int
    cells: dict[str, str]
    problem: str | None = None


@dataclass
class ParsedFile:
    """A file read into rows, with what was detected about it."""

    file_format: str  # "csv" or "json"
    encoding: str  # "UTF-8", "UTF-8 with BOM" or "Windows-1251"
    delimiter: str | None  # "," or ";" for CSV
    columns: list[str]  # the known columns the file has, in file order
    rows: list[SourceRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        """How rows are counted: "line" for CSV, "item" for JSON."""
        return "item" if self.file_format == "json" else "line"


@dataclass(frozen=True)
class FileLayout:
    """What one kind of import expects: its columns and how a JSON file may wrap them."""

    kind: str  # "facilities" or "prisoners", also the JSON wrapper key
    columns: Sequence[str]
    # Each group lists alternatives; the file is refused when it has none of a group's columns.
    required: Sequence[tuple[str, ...]]
    aliases: Mapping[str, str] = field(default_factory=dict)
    other_kinds: Sequence[str] = ()


def normalize_header(name: str) -> str:
    """ " External ID " → "external_id": case, spaces and hyphens do not matter in headers."""
    return _SEPARATORS_IN_NAMES.sub("_", name.replace("\ufeff", "").strip().lower()).strip("_")


def decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the name of its encoding; FileRefused when it is not text."""
    if data.startswith(ZIP_MAGIC):
        raise FileRefused(
            _(
                "This looks like a spreadsheet (.xlsx or .ods), not a CSV file. "
                "Save it as “CSV UTF-8” and upload that."
            )
        )
    if data.startswith(UTF16_BOMS):
        raise FileRefused(
            _("The file is in UTF-16. Save it as “CSV UTF-8” (or Windows-1251) and upload that.")
        )
    if b"\x00" in data:
        raise FileRefused(_("This is not a text file. Upload a CSV or JSON file."))
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM) :].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError as error:
            raise FileRefused(
                _(
                    "The file says it is UTF-8 but byte %(position)d is not valid UTF-8.",
                    position=error.start + len(UTF8_BOM) + 1,
                )
            ) from error
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251"), "Windows-1251"
    except UnicodeDecodeError as error:
        raise FileRefused(
            _("The file is neither UTF-8 nor Windows-1251 text. Save it as “CSV UTF-8”.")
        ) from error


def looks_like_json(text: str, filename: str) -> bool:
    """JSON by its extension, else by its first character."""
    lowered = filename.lower()
    if lowered.endswith(".json"):
        return True
    if lowered.endswith((".csv", ".txt")):
        return False
    return text.lstrip().startswith(("[", "{"))


def parse_file(data: bytes, filename: str, layout: FileLayout) -> ParsedFile:
    """Read ``data`` (CSV or JSON) into rows for ``layout``; FileRefused for an unusable file."""
    text, encoding = decode(data)
    if not text.strip():
        raise FileRefused(_("The file is empty."))
    if looks_like_json(text, filename):
        parsed = _parse_json(text, layout)
    else:
        parsed = _parse_csv(text, layout)
    parsed.encoding = encoding
    if not parsed.rows:
        raise FileRefused(_("The file has no rows to import."))
    return parsed


def quote(value: str, limit: int = 60) -> str:
    """A cell's value as shown in messages: quoted and cut short."""
    shown = value if len(value) <= limit else value[: limit - 1] + "…"
    return f"“{shown}”"


def _map_headers(
    names: Sequence[str], layout: FileLayout
) -> tuple[list[tuple[int, str]], list[str], list[str]]:
    """[(position, column)] for known columns, unknown names, and columns given twice."""
    mapping: list[tuple[int, str]] = []
    unknown: list[str] = []
    repeated: list[str] = []
    known = set(layout.columns)
    for position, name in enumerate(names):
        column = normalize_header(name)
        column = layout.aliases.get(column, column)
        if column in known:
            if any(column == taken for _position, taken in mapping):
                repeated.append(column)
            mapping.append((position, column))
        elif name.strip():
            unknown.append(name.strip())
    return mapping, unknown, repeated


def _check_required(present: Iterable[str], layout: FileLayout, header_text: str) -> None:
    have = set(present)
    missing = [" / ".join(group) for group in layout.required if not any(c in have for c in group)]
    if missing:
        raise FileRefused(
            _(
                "Required columns are missing: %(missing)s. "
                "The header reads: %(header)s. "
                "Columns must be separated by commas or semicolons.",
                missing=", ".join(missing),
                header=quote(header_text, 200),
            )
        )


def _unknown_warning(unknown: Sequence[str]) -> str:
    return _(
        "Unknown columns were ignored: %(columns)s.",
        columns=", ".join(quote(name, 40) for name in unknown),
    )


def _detect_delimiter(header_line: str) -> str:
    """Semicolon when the header has more semicolons than commas, else comma."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _parse_csv(text: str, layout: FileLayout) -> ParsedFile:
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    delimiter = _detect_delimiter(header_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    header: list[str] | None = None
    mapping: dict[int, str] = {}
    parsed = ParsedFile(file_format="csv", encoding="", delimiter=delimiter, columns=[])
    last_line = 0
    try:
        for record in reader:
            first_line = last_line + 1
            last_line = reader.line_num
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue  # an empty line (or only separators): skipped, still counted
            if header is None:
                header = cells
                positions, unknown, repeated = _map_headers(header, layout)
                if repeated:
                    raise FileRefused(
                        _(
                            "The column %(column)s appears more than once in the header.",
                            column=quote(repeated[0]),
                        )
                    )
                mapping = dict(positions)
                parsed.columns = list(mapping.values())
                _check_required(parsed.columns, layout, header_line.strip())
                if unknown:
                    parsed.warnings.append(_unknown_warning(unknown))
                continue
            parsed.rows.append(_csv_row(first_line, cells, len(header), mapping))
    except csv.Error as error:
        raise FileRefused(
            _(
                "The file could not be read as CSV near line %(line)d: %(error)s.",
                line=last_line,
                error=str(error),
            )
        ) from error
    if header is None:
        raise FileRefused(_("The file is empty."))
    return parsed


def _csv_row(number: int, cells: list[str], width: int, mapping: dict[int, str]) -> SourceRow:
    problem = None
    extra = [cell for cell in cells[width:] if cell]
    if extra:
        problem = _(
            "the row has %(cells)d values but the header has %(columns)d columns "
            "(a value with a separator in it must be put in double quotes)",
            cells=len(cells),
            columns=width,
        )
    values = {
        column: unguard_cell(cells[index]) if index < len(cells) else ""
        for index, column in mapping.items()
    }
    return SourceRow(number=number, cells=values, problem=problem)


def _parse_json(text: str, layout: FileLayout) -> ParsedFile:
    try:
        document = loads_bounded(text)
    except TooDeeplyNested as error:
        raise FileRefused(
            _("The JSON file is nested too deeply: each record must be a flat object.")
        ) from error
    except UnreadableJSON as error:
        raise FileRefused(
            _(
                "The JSON file holds an escape (\\u…) for a character no text can hold: "
                "NUL, or half of a character."
            )
        ) from error
    except json.JSONDecodeError as error:
        raise FileRefused(
            _(
                "The file is not valid JSON: %(error)s at line %(line)d, column %(column)d.",
                error=error.msg,
                line=error.lineno,
                column=error.colno,
            )
        ) from error
    items = _json_items(document, layout)
    parsed = ParsedFile(file_format="json", encoding="", delimiter=None, columns=[])
    unknown: list[str] = []
    seen: list[str] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            parsed.rows.append(
                SourceRow(number, {}, _("the item is not an object with named fields"))
            )
            continue
        keys = list(item.keys())
        positions, unknown_here, repeated = _map_headers(keys, layout)
        unknown.extend(name for name in unknown_here if name not in unknown)
        cells: dict[str, str] = {}
        problems: list[str] = [
            _("%(column)s: given twice, in different spellings", column=column)
            for column in repeated
        ]
        for position, column in positions:
            key = keys[position]
            if column not in seen:
                seen.append(column)
            try:
                cells[column] = _json_text(item[key])
            except ValueError:
                problems.append(_("%(column)s: must be text, a number or true/false", column=key))
        parsed.rows.append(SourceRow(number, cells, "; ".join(problems) or None))
    parsed.columns = seen
    if parsed.rows:
        _check_required(seen, layout, ", ".join(seen))
    if unknown:
        parsed.warnings.append(_unknown_warning(unknown))
    return parsed


def _json_items(document: Any, layout: FileLayout) -> list[Any]:
    if isinstance(document, dict):
        for key, value in document.items():
            if normalize_header(key) == layout.kind:
                document = value
                break
        else:
            other = next(
                (key for key in document if normalize_header(key) in layout.other_kinds), None
            )
            if other is not None:
                raise FileRefused(
                    _(
                        "The file holds %(found)s, not %(expected)s.",
                        found=quote(other),
                        expected=quote(layout.kind),
                    )
                )
            raise FileRefused(
                _(
                    "The JSON file must be a list of objects, or an object with a %(key)s list.",
                    key=quote(layout.kind),
                )
            )
    if not isinstance(document, list):
        raise FileRefused(_("The JSON file must hold a list of objects."))
    return document


def _json_text(value: Any) -> str:
    """A JSON value as the text a CSV cell would hold; ValueError for objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v).strip() for v in value)
    raise ValueError(value)
