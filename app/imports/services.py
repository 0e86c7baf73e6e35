"""Importing facilities and prisoners from CSV or JSON, and exporting them in the same format.

An import reads the file (app.imports.parsing), checks every row (app.imports.schema), matches
it to a record, and plans what would change — without touching the database. A dry run stops
there. A real import writes the plan only when no row was refused: the file is imported whole
or not at all. The caller commits (the route or the command), never this module.

Matching: a row finds its record by ``external_id``; a row without one by ``source_url`` (when
exactly one record has it). A row with a new external id whose ``source_url`` belongs to exactly
one record without an external id adopts that record. Records that have no external id are
exported as ``konvert-facility-<id>`` / ``konvert-prisoner-<id>``, which an import matches back.

Prisoners' ``facility`` (a facility's external id) and ``since`` describe the current placement.
When they differ from the open placement, the prisoner was transferred: the open placement is
closed on ``since`` and a new one opened (an empty ``facility`` with a ``since`` means in
transit, whereabouts unknown). When both are empty the placement history is left as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.permissions import require_organizer
from app.extensions import db
from app.imports import schema
from app.imports.parsing import (
    FileLayout,
    FileRefused,
    ParsedFile,
    SourceRow,
    needs_formula_guard,
    parse_file,
    quote,
)
from app.imports.report import ImportReport, RowResult
from app.imports.uploads import discard_upload, load_upload, store_upload
from app.manage.audit import record as audit
from app.models import Facility, Placement, Prisoner, User

KINDS = ("facilities", "prisoners")
FORMATS = ("csv", "json")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_FOLDER = "import-uploads"
_CHUNK = 500  # ids per IN (…) query
_LAYOUTS = {"facilities": schema.FACILITY_LAYOUT, "prisoners": schema.PRISONER_LAYOUT}
_ENTITY = {"facilities": "facility", "prisoners": "prisoner"}

Actor = User | AnonymousUserMixin | None
Record = Facility | Prisoner


@dataclass(frozen=True)
class PlacementChange:
    """A new current placement: ``facility`` (None: in transit) from ``since``."""

    facility: Facility | None
    since: date
    close: Placement | None  # the open placement to end on ``since``


@dataclass
class RowPlan:
    """What one row will do."""

    result: RowResult
    action: str  # "created", "updated", "unchanged" or "refused"
    record: Record | None = None
    values: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, list[str]] = field(default_factory=dict)  # column → [old, new]
    placement: PlacementChange | None = None


@dataclass(frozen=True)
class ExportFile:
    """An export ready to download or write."""

    data: bytes
    mimetype: str
    filename: str


# Entry points ---------------------------------------------------------------------------------


def upload_folder() -> Path:
    """Where uploads wait between the dry run and the import."""
    return Path(current_app.instance_path) / UPLOAD_FOLDER


def check_access(actor: Actor) -> User:
    """The actor if they may import and export (organizers and admins); else Forbidden."""
    return require_organizer(actor)


def preview_upload(
    actor: Actor, folder: Path, kind: str, filename: str, data: bytes
) -> tuple[ImportReport, str | None]:
    """Dry-run an uploaded file; keep it under a token when it can be imported.

    Returns the report and the token (None when nothing can be imported).
    """
    user = require_organizer(actor)
    report = _run_import(kind, data, filename, dry_run=True, actor=user, via="web")
    token = None
    if report.ok and report.rows_to_import:
        token = store_upload(folder, kind, filename, data, user.id)
    return report, token


def confirm_upload(actor: Actor, folder: Path, token: str) -> ImportReport | None:
    """Import the file kept under ``token``; None when it expired or is someone else's.

    The file is deleted whatever the outcome: a refused import starts again from the upload.
    """
    user = require_organizer(actor)
    upload = load_upload(folder, token, user.id)
    if upload is None or upload.kind not in KINDS:
        return None
    try:
        return _run_import(
            upload.kind, upload.data, upload.filename, dry_run=False, actor=user, via="web"
        )
    finally:
        discard_upload(folder, token)


def import_from_cli(kind: str, data: bytes, filename: str, *, dry_run: bool) -> ImportReport:
    """`flask import …`: the command line is trusted, and audited as "cli"."""
    return _run_import(kind, data, filename, dry_run=dry_run, actor=None, via="cli")


def export_for_organizer(actor: Actor, kind: str, file_format: str) -> ExportFile:
    """The download behind the export links (organizers only)."""
    require_organizer(actor)
    return export_file(kind, file_format)


def _run_import(
    kind: str, data: bytes, filename: str, *, dry_run: bool, actor: User | None, via: str
) -> ImportReport:
    """Check every row of ``data`` and, unless ``dry_run`` or a row is refused, write them.

    Callers check who ``actor`` is; use preview_upload/confirm_upload or import_from_cli.
    """
    if kind not in KINDS:
        raise ValueError(kind)
    with _reader_locale():
        report = ImportReport(kind=kind, filename=filename, dry_run=dry_run)
        try:
            parsed = parse_file(data, filename, _LAYOUTS[kind])
            _check_column_pairs(parsed, kind)
        except FileRefused as error:
            report.file_error = error.message
            return report
        report.unit = parsed.unit
        report.file_format = parsed.file_format
        report.encoding = parsed.encoding
        report.delimiter = parsed.delimiter
        report.warnings.extend(parsed.warnings)
        today = date.today()
        if kind == "facilities":
            plans = _plan_facilities(parsed, today, report.where)
        else:
            plans = _plan_prisoners(parsed, today, report.where)
        for plan in plans:
            getattr(report, plan.action).append(plan.result)
        if report.ok and not dry_run:
            _apply(kind, plans, actor, via, filename, report)
            report.imported = True
        return report


@contextmanager
def _reader_locale() -> Iterator[None]:
    """Messages in the reader's language; outside a request (CLI, jobs) the default one."""
    if has_request_context():
        yield
    else:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield


def _check_column_pairs(parsed: ParsedFile, kind: str) -> None:
    if kind != "prisoners":
        return
    has = set(parsed.columns)
    if ("facility" in has) != ("since" in has):
        raise FileRefused(
            _(
                "The columns “facility” and “since” go together: the file has only %(one)s.",
                one=quote("facility" if "facility" in has else "since"),
            )
        )


# Matching rows to records -------------------------------------------------------------------


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class _Index:
    """The records a file's rows may match, loaded in a few queries."""

    def __init__(
        self, model: type[Facility] | type[Prisoner], rows: Sequence[SourceRow], *options: Any
    ) -> None:
        self.model = model
        self.word = "facility" if model is Facility else "prisoner"
        ids = sorted({schema.clean_text(row.cells.get("external_id")) for row in rows} - {""})
        urls = sorted({(row.cells.get("source_url") or "").strip() for row in rows} - {""})
        pks = sorted({pk for i in ids if (pk := schema.parse_synthetic_id(i, self.word))})
        self.by_external_id: dict[str, Record] = {}
        self.by_url: dict[str, list[Record]] = defaultdict(list)
        self.by_pk: dict[int, Record] = {}
        for chunk in _chunks(ids):
            query = select(model).where(model.external_id.in_(chunk)).options(*options)
            for found in db.session.scalars(query):
                self.by_external_id[found.external_id or ""] = found
        for chunk in _chunks(urls):
            query = select(model).where(model.source_url.in_(chunk)).options(*options)
            for found in db.session.scalars(query):
                self.by_url[found.source_url or ""].append(found)
        for chunk in _chunks(pks):
            query = select(model).where(model.id.in_(chunk)).options(*options)
            for found in db.session.scalars(query):
                self.by_pk[found.id] = found

    def match(self, external_id: str | None, url: str | None) -> tuple[Record | None, str | None]:
        """The record a row refers to (None: a new one), or a problem that stops the row."""
        if external_id:
            found = self.by_external_id.get(external_id)
            if found is not None:
                return found, None
            pk = schema.parse_synthetic_id(external_id, self.word)
            if pk is not None:
                found = self.by_pk.get(pk)
                if found is not None and found.external_id is None:
                    return found, None
                return None, _(
                    "external_id: %(value)s looks like an id from a Konvert export, "
                    "but no such record exists here",
                    value=quote(external_id),
                )
            if url:
                without_id = [r for r in self.by_url.get(url, []) if r.external_id is None]
                if len(without_id) == 1:
                    return without_id[0], None
            return None, None
        if url:
            candidates = self.by_url.get(url, [])
            if len(candidates) > 1:
                return None, _(
                    "source_url: %(count)d records have this address; add an external_id "
                    "to say which one is meant",
                    count=len(candidates),
                )
            return (candidates[0] if candidates else None), None
        return None, None


class _Duplicates:
    """Rows that repeat an earlier row of the same file."""

    def __init__(self, where: Callable[[int], str]) -> None:
        self.where = where
        self.rows: dict[tuple[tuple[str, str], ...], int] = {}
        self.ids: dict[str, int] = {}
        self.urls: dict[str, int] = {}
        self.records: dict[int, int] = {}

    def check(self, row: SourceRow) -> str | None:
        """Why ``row`` repeats an earlier one, or None."""
        identical = tuple(sorted(row.cells.items()))
        if identical in self.rows:
            return _(
                "duplicate of %(where)s (the same row again)",
                where=self.where(self.rows[identical]),
            )
        self.rows[identical] = row.number
        external_id = schema.clean_text(row.cells.get("external_id"))
        url = (row.cells.get("source_url") or "").strip()
        if external_id:
            if external_id in self.ids:
                return _(
                    "duplicate of %(where)s: the same external_id %(value)s",
                    where=self.where(self.ids[external_id]),
                    value=quote(external_id),
                )
            self.ids[external_id] = row.number
        elif url:
            if url in self.urls:
                return _(
                    "duplicate of %(where)s: the same source_url and no external_id",
                    where=self.where(self.urls[url]),
                )
            self.urls[url] = row.number
        return None

    def claim(self, found: Record, number: int) -> str | None:
        """Why ``found`` cannot be matched by this row too, or None."""
        earlier = self.records.setdefault(id(found), number)
        if earlier != number:
            return _("refers to the same record as %(where)s", where=self.where(earlier))
        return None


def _facility_label(cells: dict[str, str]) -> str:
    name = " — ".join(
        part for part in (cells.get("code", "").strip(), cells.get("name", "").strip()) if part
    )
    return _with_id(name, cells)


def _prisoner_label(cells: dict[str, str]) -> str:
    parts = (cells.get(c, "").strip() for c in ("last_name", "first_name", "patronymic"))
    return _with_id(" ".join(part for part in parts if part), cells)


def _with_id(name: str, cells: dict[str, str]) -> str:
    external_id = schema.clean_text(cells.get("external_id"))
    if external_id:
        return f"{name} [{external_id}]" if name else f"[{external_id}]"
    return name


def _compare(
    current: dict[str, Any] | None, values: dict[str, Any], skip: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """{column: [old, new]} as text: every given value for a new record, else the differences."""
    changes: dict[str, list[str]] = {}
    for column, new in values.items():
        if column in skip:
            continue
        if current is None:
            if new not in (None, ""):
                changes[column] = ["", schema.as_text(new)]
        elif current[column] != new:
            changes[column] = [schema.as_text(current[column]), schema.as_text(new)]
    return changes


def _match_row(
    index: _Index,
    duplicates: _Duplicates,
    row: schema.RowChecker,
    number: int,
    reasons: list[str],
) -> Record | None:
    external_id = row.values.get("external_id")
    url = row.values.get("source_url")
    if not external_id and not url and not row.problems:
        reasons.append(
            _(
                "needs an external_id or a source_url, so that importing the file again "
                "finds the same record"
            )
        )
    found, problem = index.match(external_id, url)
    if problem:
        reasons.append(problem)
    if found is not None and (claimed := duplicates.claim(found, number)):
        reasons.append(claimed)
    return found


def _refusal(row: SourceRow, duplicates: _Duplicates) -> list[str]:
    """Problems that stop a row before its values are even looked at."""
    reasons = [row.problem] if row.problem else []
    duplicate = duplicates.check(row)
    if duplicate:
        reasons.append(duplicate)
    return reasons


def _plan_facilities(
    parsed: ParsedFile, today: date, where: Callable[[int], str]
) -> list[RowPlan]:
    index = _Index(Facility, parsed.rows)
    duplicates = _Duplicates(where)
    has_locality = "locality" in parsed.columns
    plans: list[RowPlan] = []
    for source in parsed.rows:
        result = RowResult(source.number, _facility_label(source.cells))
        result.reasons = _refusal(source, duplicates)
        if result.reasons:
            plans.append(RowPlan(result, "refused"))
            continue
        row = schema.check_facility(source.cells, today, has_locality)
        result.reasons.extend(row.problems)
        found = _match_row(index, duplicates, row, source.number, result.reasons)
        if result.reasons:
            plans.append(RowPlan(result, "refused"))
            continue
        current = schema.facility_values(found) if found is not None else None
        changes = _compare(current, row.values)
        plans.append(_outcome(result, found, row.values, changes))
    return plans


def _outcome(
    result: RowResult,
    found: Record | None,
    values: dict[str, Any],
    changes: dict[str, list[str]],
    placement: PlacementChange | None = None,
) -> RowPlan:
    if found is None:
        action = "created"
    elif changes:
        action = "updated"
        result.changed = list(changes)
    else:
        action = "unchanged"
    return RowPlan(result, action, found, values, changes, placement)


def _facility_refs(rows: Sequence[SourceRow]) -> dict[str, Facility]:
    """Facilities by the ids prisoner rows give (external ids or konvert-facility-<id>)."""
    refs = sorted({schema.clean_text(row.cells.get("facility")) for row in rows} - {""})
    found: dict[str, Facility] = {}
    for chunk in _chunks(refs):
        query = select(Facility).where(Facility.external_id.in_(chunk))
        found.update((f.external_id or "", f) for f in db.session.scalars(query))
    pks = {
        pk: ref
        for ref in refs
        if ref not in found and (pk := schema.parse_synthetic_id(ref, "facility"))
    }
    for chunk in _chunks(sorted(pks)):
        query = select(Facility).where(Facility.id.in_(chunk), Facility.external_id.is_(None))
        found.update((pks[f.id], f) for f in db.session.scalars(query))
    return found


def _plan_prisoners(parsed: ParsedFile, today: date, where: Callable[[int], str]) -> list[RowPlan]:
    placements = selectinload(Prisoner.placements).selectinload(Placement.facility)
    index = _Index(Prisoner, parsed.rows, placements)
    facilities = _facility_refs(parsed.rows)
    duplicates = _Duplicates(where)
    plans: list[RowPlan] = []
    for source in parsed.rows:
        result = RowResult(source.number, _prisoner_label(source.cells))
        result.reasons = _refusal(source, duplicates)
        if result.reasons:
            plans.append(RowPlan(result, "refused"))
            continue
        row = schema.check_prisoner(source.cells, today)
        result.reasons.extend(row.problems)
        target = _target_facility(row, facilities, result.reasons)
        found = _match_row(index, duplicates, row, source.number, result.reasons)
        placement, placement_changes = _plan_placement(
            row, found if isinstance(found, Prisoner) else None, target, result.reasons
        )
        if result.reasons:
            plans.append(RowPlan(result, "refused"))
            continue
        current = schema.prisoner_values(found) if isinstance(found, Prisoner) else None
        changes = _compare(current, row.values, skip=("facility", "since"))
        if current is None:
            changes.update(_compare(None, {k: row.values.get(k) for k in ("facility", "since")}))
        else:
            changes.update(placement_changes)
        plans.append(_outcome(result, found, row.values, changes, placement))
    return plans


def _target_facility(
    row: schema.RowChecker, facilities: dict[str, Facility], reasons: list[str]
) -> Facility | None:
    ref = row.values.get("facility")
    if not ref:
        return None
    found = facilities.get(ref)
    if found is None:
        reasons.append(
            _(
                "facility: no facility has the external_id %(value)s; import the facilities "
                "first (this column holds a facility's external_id)",
                value=quote(ref),
            )
        )
    return found


def _plan_placement(
    row: schema.RowChecker,
    prisoner: Prisoner | None,
    target: Facility | None,
    reasons: list[str],
) -> tuple[PlacementChange | None, dict[str, list[str]]]:
    """The new current placement the row asks for (None: leave the history alone)."""
    if "facility" not in row.values and "since" not in row.values:
        return None, {}  # no such columns, or the cells were refused already
    ref = row.values.get("facility")
    since: date | None = row.values.get("since")
    if not ref and since is None:
        return None, {}  # both empty: the placement history stays as it is
    current = prisoner.current_placement if prisoner else None
    target_id = target.id if target is not None else None
    if ref and target is None:
        return None, {}  # unknown facility, already reported
    if (
        current is not None
        and current.facility_id == target_id
        and (since is None or since == current.started_on)
    ):
        return None, {}  # still there
    if since is None:
        if not row.cells.get("since", "").strip():
            reasons.append(
                _(
                    "since: is required to place a prisoner in a facility: the day they "
                    "arrived there (or were detained, if that is all you know)"
                )
            )
        return None, {}
    if current is not None and since < current.started_on:
        reasons.append(
            _(
                "since: %(value)s is before the start of the current placement (%(start)s)",
                value=quote(since.isoformat()),
                start=current.started_on.isoformat(),
            )
        )
        return None, {}
    ended = [p.ended_on for p in (prisoner.placements if prisoner else []) if p.ended_on]
    if current is None and ended and since < max(ended):
        reasons.append(
            _(
                "since: %(value)s is before the end of the last placement (%(end)s)",
                value=quote(since.isoformat()),
                end=max(ended).isoformat(),
            )
        )
        return None, {}
    changes: dict[str, list[str]] = {}
    old_facility = current.facility if current else None
    old_ref = ""
    if old_facility is not None:
        old_ref = old_facility.external_id or schema.synthetic_id(old_facility)
    if old_ref != (ref or ""):
        changes["facility"] = [old_ref, ref or ""]
    old_since = current.started_on.isoformat() if current else ""
    if old_since != since.isoformat():
        changes["since"] = [old_since, since.isoformat()]
    return PlacementChange(target, since, current), changes


# Writing --------------------------------------------------------------------------------------


def _set_facility(facility: Facility, values: dict[str, Any], columns: Sequence[str]) -> None:
    for column in columns:
        value = values[column]
        if column == "address":
            facility.street_address = value
        elif column == "locality":
            facility.locality = value or ""
        else:
            setattr(facility, column, value)


def _set_prisoner(prisoner: Prisoner, values: dict[str, Any], columns: Sequence[str]) -> None:
    for column in columns:
        value = values[column]
        if column in ("facility", "since"):
            continue  # the placement, written separately
        if column == "birth_date":
            prisoner.birth_date = value if isinstance(value, date) else None
            prisoner.birth_year = value.year if isinstance(value, date) else value
        elif column == "name_dative":
            overrides = dict(prisoner.name_overrides or {})
            if value:
                overrides["dative"] = value
            else:
                overrides.pop("dative", None)
            prisoner.name_overrides = overrides  # a new dict: JSON columns track assignment
        elif column == "languages":
            prisoner.languages = ",".join(value)
        else:
            setattr(prisoner, column, value)


def _create(kind: str, values: dict[str, Any]) -> Record:
    if kind == "facilities":
        facility = Facility(
            external_id=values.get("external_id"),
            code=values["code"],
            name=values["name"],
            kind=values["kind"],
            region=values["region"],
            country=values.get("country", "RU"),
            postcode=values["postcode"],
            street_address=values["address"],
            locality=values.get("locality") or "",
        )
        _set_facility(facility, values, list(values))
        return facility
    prisoner = Prisoner(
        external_id=values.get("external_id"),
        last_name=values["last_name"],
        first_name=values["first_name"],
        status=values["status"],
        name_overrides={},
    )
    _set_prisoner(prisoner, values, list(values))
    return prisoner


def _apply(
    kind: str,
    plans: Sequence[RowPlan],
    actor: User | None,
    via: str,
    filename: str,
    report: ImportReport,
) -> None:
    """Write every planned change (only called when no row was refused)."""
    setter = _set_facility if kind == "facilities" else _set_prisoner
    written: list[RowPlan] = []
    for plan in plans:
        if plan.action == "created":
            plan.record = _create(kind, plan.values)
            db.session.add(plan.record)
        elif plan.action == "updated" and plan.record is not None:
            changed = [column for column in plan.changes if column in plan.values]
            setter(plan.record, plan.values, changed)  # type: ignore[arg-type]
        else:
            continue
        if plan.placement is not None and isinstance(plan.record, Prisoner):
            _move(plan.record, plan.placement)
        written.append(plan)
    db.session.flush()
    _notify_followers(written)
    entity = _ENTITY[kind]
    for plan in written:
        assert plan.record is not None
        audit(
            actor,
            "import",
            entity,
            plan.record.id,
            # Flat, like other audit entries ({field: [old, new]}), plus where it came from.
            {
                **plan.changes,
                "via": via,
                "file": filename,
                report.unit: plan.result.number,
                "outcome": plan.action,
            },
        )
    audit(
        actor,
        "import",
        entity,
        None,
        {
            "via": via,
            "file": filename,
            "created": len(report.created),
            "updated": len(report.updated),
            "unchanged": len(report.unchanged),
        },
    )


def _notify_followers(written: Sequence[RowPlan]) -> None:
    """Tell those who follow a transferred prisoner, as a transfer on the manage pages does.

    The alerts go into the outbox in this transaction: they are sent only if the import commits.
    """
    from app.mail.services import notify_followers_of_transfer

    for plan in written:
        moved = plan.action == "updated" and plan.placement is not None
        if moved and isinstance(plan.record, Prisoner):
            notify_followers_of_transfer(plan.record)


def _move(prisoner: Prisoner, change: PlacementChange) -> None:
    """Close the open placement on ``since`` and open the new one."""
    if change.close is not None:
        change.close.ended_on = change.since
        # The closed placement must reach the database before the new open one: at most one
        # placement per prisoner may be open (a unique partial index).
        db.session.flush()
    prisoner.placements.append(Placement(facility=change.facility, started_on=change.since))


# Export ---------------------------------------------------------------------------------------


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


def export_file(kind: str, file_format: str) -> ExportFile:
    """The export of ``kind`` as CSV (UTF-8 with BOM, for spreadsheets) or JSON."""
    if kind not in KINDS or file_format not in FORMATS:
        raise ValueError(f"{kind}.{file_format}")
    layout: FileLayout = _LAYOUTS[kind]
    rows = export_rows(kind)
    filename = f"konvert-{kind}-{date.today().isoformat()}.{file_format}"
    if file_format == "json":
        document = {kind: [{c: schema.as_json(row[c]) for c in layout.columns} for row in rows]}
        data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        return ExportFile(data, "application/json", filename)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(layout.columns)
    for row in rows:
        writer.writerow([_csv_cell(schema.as_text(row[c])) for c in layout.columns])
    return ExportFile(buffer.getvalue().encode("utf-8-sig"), "text/csv", filename)


def _csv_cell(value: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet; imports undo this.
    return f"'{value}" if needs_formula_guard(value) else value


# The import page's column reference -----------------------------------------------------------

COLUMN_HELP: dict[str, list[tuple[str, bool, Any]]] = {
    "facilities": [
        ("external_id", False, _l("Your stable id for the facility; prisoner files refer to it.")),
        ("code", True, _l("Short code, e.g. ИК-3.")),
        ("name", True, _l("Full official name, as on the envelope.")),
        ("kind", True, _l("pretrial, colony, prison, settlement, hospital or other.")),
        ("region", True, _l("Region, e.g. Владимирская область.")),
        ("country", False, _l("Two-letter code; empty means RU.")),
        ("postcode", True, _l("6 digits for Russia.")),
        (
            "address",
            True,
            _l(
                "Street address. Without a locality column, a locality at its start or end "
                "(«…, г. Покров») is split off."
            ),
        ),
        ("locality", False, _l("Town or settlement, e.g. г. Покров.")),
        ("source_url", False, _l("Where the address was checked (http or https).")),
        ("electronic_services", False, _l("E.g. ФСИН-письмо, Зонателеком.")),
        ("mail_rules", False, _l("Rules for letters to this facility.")),
        ("max_letter_pages", False, _l("Page limit for one letter, if announced.")),
    ],
    "prisoners": [
        ("external_id", False, _l("Your stable id for the person.")),
        ("last_name", True, _l("In Cyrillic, nominative.")),
        ("first_name", True, _l("In Cyrillic, nominative.")),
        ("patronymic", False, _l("In Cyrillic, nominative.")),
        ("gender", False, _l("m or f (also м/ж); empty: guessed from the patronymic.")),
        ("birth_date", False, _l("YYYY-MM-DD, or the year alone.")),
        ("status", True, _l("pretrial, convicted, in_transit, released or deceased.")),
        ("facility", False, _l("The external_id of the facility they are in now.")),
        (
            "since",
            False,
            _l("YYYY-MM-DD: since when. A new facility or date records a transfer."),
        ),
        ("accepts_letters", False, _l("yes or no; empty means yes.")),
        ("source_url", False, _l("Where the information comes from (http or https).")),
        (
            "name_dative",
            False,
            _l("The full name in the dative for the envelope, where the rules get it wrong."),
        ),
        ("last_name_latin", False, _l("As the person spells it in Latin letters.")),
        ("first_name_latin", False, _l("As the person spells it in Latin letters.")),
        ("languages", False, _l("Codes of languages they read, e.g. ru,en.")),
        ("detained_on", False, _l("YYYY-MM-DD.")),
        ("sentence", False, _l("E.g. 7 лет колонии общего режима.")),
        ("case_summary", False, _l("A few sentences about the case.")),
        ("interests", False, _l("What they like to read or talk about.")),
        ("notes_for_writers", False, _l("Advice for people writing to them.")),
    ],
}
