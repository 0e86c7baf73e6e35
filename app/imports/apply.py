"""Applying an import's plan: creating and updating records, moving transferred prisoners.

Called only when no row of the file was refused (the file is imported whole or not at all).
Every written row is audited, with a summary entry for the file; followers of a transferred
prisoner are alerted through the outbox. Nothing here commits: the caller does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from app.extensions import db
from app.imports.matching import Record
from app.imports.planning import PlacementChange, RowPlan
from app.imports.report import ImportReport
from app.manage.audit import record as audit
from app.models import Facility, Placement, Prisoner, User

_ENTITY = {"facilities": "facility", "prisoners": "prisoner"}


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


def apply_plan(
    kind: str,
    plans: Sequence[RowPlan],
    actor: User | None,
    via: str,
    filename: str,
    report: ImportReport,
) -> None:
    """Write every planned change (only called when no row was refused)."""
    written: list[RowPlan] = []
    for plan in plans:
        if plan.action == "created":
            plan.record = _create(kind, plan.values)
            db.session.add(plan.record)
        elif plan.action == "updated" and plan.record is not None:
            changed = [column for column in plan.changes if column in plan.values]
            if isinstance(plan.record, Facility):  # a facilities file holds only facilities
                _set_facility(plan.record, plan.values, changed)
            else:
                _set_prisoner(plan.record, plan.values, changed)
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
