"""Planning an import: what each row would do (create, update, leave unchanged, or be refused).

This is the dry run: the plan is made without changing the database, and app.imports.apply
writes it only when no row was refused. A row is checked (app.imports.schema), matched to its
record (app.imports.matching) and compared with it as domain values.

Prisoners' ``facility`` (a facility's external id) and ``since`` describe the current placement.
When they differ from the open placement, the prisoner was transferred: the open placement is
closed on ``since`` and a new one opened (an empty ``facility`` with a ``since`` means in
transit, whereabouts unknown). When both are empty the placement history is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.imports import schema
from app.imports.cells import RowChecker, as_text, clean_text
from app.imports.matching import Duplicates, Index, Record, facility_refs, match_row
from app.imports.parsing import ParsedFile, SourceRow, quote
from app.imports.report import RowResult
from app.models import Facility, Placement, Prisoner


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


def _facility_label(cells: dict[str, str]) -> str:
    name = " — ".join(
        part for part in (cells.get("code", "").strip(), cells.get("name", "").strip()) if part
    )
    return _with_id(name, cells)


def _prisoner_label(cells: dict[str, str]) -> str:
    parts = (cells.get(c, "").strip() for c in ("last_name", "first_name", "patronymic"))
    return _with_id(" ".join(part for part in parts if part), cells)


def _with_id(name: str, cells: dict[str, str]) -> str:
    external_id = clean_text(cells.get("external_id"))
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
                changes[column] = ["", as_text(new)]
        elif current[column] != new:
            changes[column] = [as_text(current[column]), as_text(new)]
    return changes


def _refusal(row: SourceRow, duplicates: Duplicates) -> list[str]:
    """Problems that stop a row before its values are even looked at."""
    reasons = [row.problem] if row.problem else []
    duplicate = duplicates.check(row)
    if duplicate:
        reasons.append(duplicate)
    return reasons


def plan_facilities(parsed: ParsedFile, today: date, where: Callable[[int], str]) -> list[RowPlan]:
    """What each row of a facility file would do; ``where`` names a row in messages."""
    index = Index(Facility, parsed.rows)
    duplicates = Duplicates(where)
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
        found = match_row(index, duplicates, row, source.number, result.reasons)
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


def plan_prisoners(parsed: ParsedFile, today: date, where: Callable[[int], str]) -> list[RowPlan]:
    """What each row of a prisoner file would do, transfers included; see plan_facilities."""
    placements = selectinload(Prisoner.placements).selectinload(Placement.facility)
    index = Index(Prisoner, parsed.rows, placements)
    facilities = facility_refs(parsed.rows)
    duplicates = Duplicates(where)
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
        found = match_row(index, duplicates, row, source.number, result.reasons)
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
    row: RowChecker, facilities: dict[str, Facility], reasons: list[str]
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
    row: RowChecker,
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
