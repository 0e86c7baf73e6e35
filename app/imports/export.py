"""Exporting facilities or prisoners as CSV or JSON, in the columns an import reads back.

Records without an external id are written with their ``konvert-…-<id>`` id, so that importing
an export changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.csvsafe import guard_text
from app.extensions import db
from app.imports import schema
from app.imports.cells import as_json, as_text
from app.imports.parsing import FileLayout
from app.models import Facility, Placement, Prisoner

FORMATS = ("csv", "json")


@dataclass(frozen=True)
class ExportFile:
    """An export ready to download or write."""

    data: bytes
    mimetype: str
    filename: str


def export_rows(kind: str) -> list[dict[str, Any]]:
    """Every real (non-demo) record as domain values of the import columns, oldest first.

    Demo records are left out so that fictional people never end up in a real list.
    """
    if kind == "facilities":
        facilities = db.session.scalars(
            select(Facility).where(Facility.is_demo.is_(False)).order_by(Facility.id)
        )
        return [schema.facility_values(f) for f in facilities]
    query = (
        select(Prisoner)
        .where(Prisoner.is_demo.is_(False))
        .options(selectinload(Prisoner.placements).selectinload(Placement.facility))
        .order_by(Prisoner.id)
    )
    return [schema.prisoner_values(p) for p in db.session.scalars(query)]


def export_file(kind: str, file_format: str, *, bom: bool = False) -> ExportFile:
    """The export of ``kind`` as CSV (UTF-8; with ``bom``, a byte order mark first, which
    spreadsheet programs need to read it as UTF-8) or JSON."""
    if kind not in schema.KINDS or file_format not in FORMATS:
        raise ValueError(f"{kind}.{file_format}")
    layout: FileLayout = schema.LAYOUTS[kind]
    rows = export_rows(kind)
    filename = f"konvert-{kind}-{date.today().isoformat()}.{file_format}"
    if file_format == "json":
        document = {kind: [{c: as_json(row[c]) for c in layout.columns} for row in rows]}
        data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        return ExportFile(data, "application/json", filename)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(layout.columns)
    for row in rows:
        # Cells are text here (as an import reads them); the guard's quote is undone on import.
        writer.writerow([guard_text(as_text(row[c])) for c in layout.columns])
    encoding = "utf-8-sig" if bom else "utf-8"
    return ExportFile(buffer.getvalue().encode(encoding), "text/csv", filename)
