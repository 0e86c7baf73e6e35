"""Open data: one anonymised row per letter, streamed as CSV or JSON.

A row says where a letter went, how, in which month, what became of it and how many days it
took. It carries no supporter, no prisoner, no text, no token and no date finer than a month
(delays are whole days), so nothing in it leads back to a person.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, select

from app.csvsafe import guard_cell
from app.extensions import db
from app.models import Facility, LetterOutcome
from app.stats.services import NO_NEWS_AFTER_DAYS

COLUMNS = (
    "facility_id",
    "facility_code",
    "facility_name",
    "region",
    "country",
    "channel",
    "month_sent",
    "outcome",
    "days_to_delivery",
    "days_to_reply",
    "dates_excluded",
    "is_demo",
)
_BATCH = 2000


def _rows(as_of: date) -> Iterator[dict[str, Any]]:
    o = LetterOutcome
    # The same precedence as a letter's status: a return or a withholding ends the story.
    outcome = case(
        (o.returned_on.is_not(None), "returned"),
        (o.withheld_on.is_not(None), "withheld"),
        (o.replied_on.is_not(None), "answered"),
        (o.delivered_on.is_not(None), "delivered"),
        (o.sent_on <= as_of - timedelta(days=NO_NEWS_AFTER_DAYS), "no_news"),
        else_="sent",
    )
    query = (
        select(
            Facility.id,
            Facility.code,
            Facility.name,
            Facility.region,
            Facility.country,
            o.channel,
            o.sent_month,
            outcome,
            o.days_to_delivery,
            o.days_to_reply,
            o.date_problem,
            Facility.is_demo,
        )
        .outerjoin(Facility, Facility.id == o.facility_id)
        .order_by(o.sent_month, o.facility_id, o.letter_id)
        .execution_options(yield_per=_BATCH)
    )
    for row in db.session.execute(query):
        values = dict(zip(COLUMNS, row, strict=True))
        values["channel"] = str(values["channel"]) if values["channel"] else None
        values["dates_excluded"] = str(values["dates_excluded"]) if row[10] else None
        values["is_demo"] = bool(values["is_demo"])
        yield values


def csv_chunks(as_of: date, *, bom: bool = False) -> Iterator[str]:
    """The export as CSV text, in chunks of a few thousand rows (UTF-8, comma, header row;
    with ``bom``, a byte order mark first, which spreadsheet programs need to read UTF-8).

    Text that a spreadsheet would run as a formula is guarded (`app.csvsafe`); numbers are not.
    Booleans are written ``true``/``false``.
    """
    if bom:
        yield "\ufeff"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for count, row in enumerate(_rows(as_of), start=1):
        # Facility names and codes are typed by people: a spreadsheet must not run them.
        writer.writerow({key: _csv_cell(value) for key, value in row.items()})
        if count % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return guard_cell(value)


def json_chunks(as_of: date) -> Iterator[str]:
    """The export as one JSON object: {"as_of", "columns", "letters": [...]}, streamed."""
    header = json.dumps({"as_of": as_of.isoformat(), "columns": COLUMNS})
    yield header[:-1] + ', "letters": ['
    batch: list[str] = []
    separator = "\n"
    for row in _rows(as_of):
        batch.append(separator + json.dumps(row, ensure_ascii=False))
        separator = ",\n"
        if len(batch) == _BATCH:
            yield "".join(batch)
            batch.clear()
    yield "".join(batch) + "\n]}\n"
