"""The audit trail: who changed what, and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from app.extensions import db
from app.models import AuditEntry, User


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
            changes[attribute.key] = [_plain(old), _plain(new)]
    return changes


def _plain(value: Any) -> Any:
    """JSON-friendly form of a column value (dates and enums as strings)."""
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return str(value)
