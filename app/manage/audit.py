"""The audit trail: who changed what, and when; recording changes and listing them.

Recording (`record`, `changes_of`, `create_audited`, `update_audited`) adds to the session
and leaves the commit to the caller; the listings (`audit_page`, `entity_history`) are for
organizers only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

from app.auth.permissions import Actor, require_organizer
from app.domain import Page, paginate
from app.extensions import db
from app.manage.common import assign
from app.models import AuditEntry, Facility, Official, Prisoner, User

AuditedRecord = TypeVar("AuditedRecord", Facility, Official)

ENTITY_TYPES = ("prisoner", "facility", "official")
AUDIT_PER_PAGE = 50
HISTORY_LIMIT = 20


def record(
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (the caller commits with the change itself)."""
    entry = AuditEntry(
        user=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes or {},
    )
    db.session.add(entry)
    return entry


def changed_fields(instance: object) -> dict[str, list[Any]]:
    """{field: [old, new]} for the column attributes changed on a pending instance."""
    state = inspect(instance)
    changes: dict[str, list[Any]] = {}
    for attribute in state.mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            changes[attribute.key] = [plain_value(old), plain_value(new)]
    return changes


def plain_value(value: Any) -> Any:
    """JSON-friendly form of a column value (dates and enums as strings)."""
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return str(value)


def changes_of(instance: object, creating: bool = False) -> dict[str, list[Any]]:
    """The instance's changed columns; for a new record, only the fields given a value."""
    changes = changed_fields(instance)
    if creating:
        changes = {
            key: values for key, values in changes.items() if values[1] not in (None, "", {}, [])
        }
    return changes


def create_audited(user: User, instance: AuditedRecord, data: Any, kind: str) -> AuditedRecord:
    """Fill a new record from ``data``, add it and audit every field it was given."""
    assign(instance, data)
    changes = changes_of(instance, creating=True)
    db.session.add(instance)
    db.session.flush()
    record(user, "create", kind, instance.id, changes)
    return instance


def update_audited(
    user: User, instance: Facility | Official, data: Any, kind: str
) -> dict[str, list[Any]]:
    """Apply ``data`` to a record and audit what changed; returns the changes."""
    assign(instance, data)
    changes = changes_of(instance)
    if changes:
        record(user, "update", kind, instance.id, changes)
    return changes


# --- the listings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage(Page[AuditEntry]):
    """A page of audit entries with the names of what they are about."""

    # {(entity type, id): name}, for links; missing when the record is gone.
    names: dict[tuple[str, int], str]


def audit_entity_types(actor: Actor) -> list[str]:
    """Entity types that can be filtered on: ours, plus any others recorded (e.g. imports)."""
    require_organizer(actor)
    recorded = set(db.session.scalars(select(AuditEntry.entity_type).distinct()))
    return list(ENTITY_TYPES) + sorted(recorded - set(ENTITY_TYPES))


def entity_names(pairs: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int], str]:
    """Display names for (entity type, id) pairs: one query per type, whatever the count."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entity_type, entity_id in pairs:
        if entity_id is not None:
            wanted[entity_type].add(entity_id)
    names: dict[tuple[str, int], str] = {}
    if wanted["prisoner"]:
        for prisoner in db.session.scalars(
            select(Prisoner).where(Prisoner.id.in_(wanted["prisoner"]))
        ):
            names[("prisoner", prisoner.id)] = prisoner.full_name
    if wanted["facility"]:
        for row in db.session.execute(
            select(Facility.id, Facility.code, Facility.region).where(
                Facility.id.in_(wanted["facility"])
            )
        ):
            names[("facility", row.id)] = f"{row.code}, {row.region}"
    if wanted["official"]:
        for official in db.session.execute(
            select(Official.id, Official.position).where(Official.id.in_(wanted["official"]))
        ):
            names[("official", official.id)] = official.position
    return names


def _facility_ids_in(entries: Iterable[AuditEntry]) -> set[tuple[str, int | None]]:
    """Facilities named inside the changes (transfers, officials), so they show by name."""
    pairs: set[tuple[str, int | None]] = set()
    for entry in entries:
        values = (entry.changes or {}).get("facility_id")
        if isinstance(values, list):
            pairs |= {("facility", value) for value in values if isinstance(value, int)}
    return pairs


def audit_page(
    actor: Actor, entity_type: str | None = None, page: int = 1, per_page: int = AUDIT_PER_PAGE
) -> AuditPage:
    """Audit entries newest first, optionally of one entity type, with who made them."""
    require_organizer(actor)
    statement = select(AuditEntry)
    if entity_type:
        statement = statement.where(AuditEntry.entity_type == entity_type)
    listed = paginate(
        statement.options(joinedload(AuditEntry.user)).order_by(
            AuditEntry.at.desc(), AuditEntry.id.desc()
        ),
        page,
        per_page,
        scalars=True,
    )
    entries = listed.rows
    pairs = {(entry.entity_type, entry.entity_id) for entry in entries} | _facility_ids_in(entries)
    return AuditPage(
        rows=entries,
        page=listed.page,
        per_page=per_page,
        total=listed.total,
        names=entity_names(pairs),
    )


def entity_history(
    actor: Actor, entity_type: str, entity_id: int, limit: int = HISTORY_LIMIT
) -> AuditPage:
    """The latest audit entries about one record, newest first."""
    require_organizer(actor)
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .options(joinedload(AuditEntry.user))
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
    return AuditPage(
        rows=entries,
        page=1,
        per_page=limit,
        total=len(entries),
        names=entity_names(_facility_ids_in(entries)),
    )
