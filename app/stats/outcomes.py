"""Keeping ``letter_outcome`` true to ``mail_event``, in SQL, on SQLite and PostgreSQL alike.

Each letter to a prisoner that has at least one reported event gets one row: the first date of
each kind of event (duplicate reports count once, the order of reporting does not matter), the
channel of the first "sent" report, the delays in days, and whether its dates can be used at
all. A session hook refreshes the rows of every letter whose events changed, in the same
transaction, so statistics never lag behind a report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    and_,
    case,
    delete,
    event,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from app.concurrency import dialect_insert
from app.models import (
    DateProblem,
    EventKind,
    Letter,
    LetterOutcome,
    MailEvent,
    TemplateKind,
)
from app.stats import snapshots

_CHUNK = 500  # letters per refresh statement: stays far below every driver's parameter limit


class days_between(FunctionElement[int]):  # noqa: N801 - reads as the SQL function it renders
    """Whole days from the first date to the second: ``days_between(sent, arrived)``."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({end} - {start})"  # date - date is an integer number of days


class year_month(FunctionElement[str]):  # noqa: N801
    """A date's month as "YYYY-MM"."""

    type = String()
    inherit_cache = True
    name = "year_month"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(year_month, "postgresql")
def _year_month_postgresql(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


def _first(kind: EventKind) -> ColumnElement[Any]:
    return func.min(case((MailEvent.kind == kind, MailEvent.happened_on))).label(kind.value)


def _before(earlier: ColumnElement[Any], later: ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(earlier.is_not(None), later.is_not(None), later < earlier)


def _outcome_rows(letter_ids: list[int] | None) -> Any:
    """A SELECT producing ``letter_outcome`` rows for the given letters (or all of them)."""
    first_sent_channel = (
        select(MailEvent.channel)
        .where(MailEvent.letter_id == Letter.id, MailEvent.kind == EventKind.SENT)
        .order_by(MailEvent.happened_on, MailEvent.id)
        .limit(1)
        .correlate(Letter)
        .scalar_subquery()
    )
    firsts = (
        select(
            Letter.id.label("letter_id"),
            Letter.prisoner_id,
            Letter.facility_id,
            first_sent_channel.label("channel"),
            _first(EventKind.SENT),
            _first(EventKind.ARRIVED),
            _first(EventKind.REPLY),
            _first(EventKind.RETURNED),
            _first(EventKind.WITHHELD),
        )
        .join(MailEvent, MailEvent.letter_id == Letter.id)
        .where(Letter.kind == TemplateKind.LETTER)
        .group_by(Letter.id, Letter.prisoner_id, Letter.facility_id)
    )
    if letter_ids is not None:
        firsts = firsts.where(Letter.id.in_(letter_ids))
    f = firsts.subquery("firsts")
    sent, arrived, reply = f.c.sent, f.c.arrived, f.c.reply
    problem = case(
        (sent.is_(None), literal(DateProblem.MISSING.value)),
        (
            or_(
                _before(sent, arrived),
                _before(sent, reply),
                _before(arrived, reply),
                _before(sent, f.c.returned),
                _before(sent, f.c.withheld),
            ),
            literal(DateProblem.CONTRADICTORY.value),
        ),
        else_=null(),
    )
    usable = and_(sent.is_not(None), problem.is_(None))
    return select(
        f.c.letter_id,
        f.c.prisoner_id,
        f.c.facility_id,
        f.c.channel,
        sent,
        year_month(sent),
        arrived,
        reply,
        f.c.returned,
        f.c.withheld,
        case((and_(usable, arrived.is_not(None)), days_between(sent, arrived)), else_=null()),
        case((and_(usable, reply.is_not(None)), days_between(sent, reply)), else_=null()),
        problem,
    )


_COLUMNS = [
    "letter_id",
    "prisoner_id",
    "facility_id",
    "channel",
    "sent_on",
    "sent_month",
    "delivered_on",
    "replied_on",
    "returned_on",
    "withheld_on",
    "days_to_delivery",
    "days_to_reply",
    "date_problem",
]


def _rows_of(connection: Connection, letter_ids: list[int]) -> list[tuple[Any, ...]]:
    table = LetterOutcome.__table__
    return [
        tuple(row)
        for row in connection.execute(
            select(table).where(table.c.letter_id.in_(letter_ids)).order_by(table.c.letter_id)
        )
    ]


def _write_outcomes(connection: Connection, letter_ids: list[int]) -> None:
    """Make the outcome rows of these letters what their events say.

    Upserted, never deleted and inserted again: two transactions refreshing one letter at the
    same moment (a report and a print pack marking it printed, say) would otherwise both
    insert it, and on PostgreSQL the second would fail on the primary key. A row that would
    not change is not written. Only a letter whose events are all gone loses its row.
    """
    table = LetterOutcome.__table__
    events = MailEvent.__table__
    connection.execute(
        delete(table).where(
            table.c.letter_id.in_(letter_ids),
            ~select(events.c.id).where(events.c.letter_id == table.c.letter_id).exists(),
        )
    )
    # "WHERE true": SQLite could read the ON of ON CONFLICT as a join's after a bare FROM.
    rows = _outcome_rows(letter_ids).where(true())
    statement = dialect_insert(connection.dialect.name, table).from_select(_COLUMNS, rows)
    values = {name: statement.excluded[name] for name in _COLUMNS if name != "letter_id"}
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.letter_id],
            set_=values,
            where=or_(*(table.c[name].is_distinct_from(new) for name, new in values.items())),
        )
    )


def refresh_outcomes(connection: Connection, letter_ids: Iterable[int]) -> None:
    """Recompute the outcome rows of these letters from their events, in SQL, and when they
    changed, forget the stored figures they count in (their facilities before and after) and
    mark the overview out of date. A new letter, or a printed one, changes nothing."""
    ids = sorted(set(letter_ids))
    table = LetterOutcome.__table__
    facility_column = list(table.c.keys()).index("facility_id")
    changed_facilities: set[int] = set()
    changed = False
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        before = _rows_of(connection, chunk)
        _write_outcomes(connection, chunk)
        after = _rows_of(connection, chunk)
        if before != after:
            changed = True
            changed_facilities |= {
                row[facility_column] for row in set(before) ^ set(after) if row[facility_column]
            }
    if changed:
        snapshots.invalidate(connection, map(snapshots.facility_key, changed_facilities))


def rebuild_all_outcomes(connection: Connection) -> int:
    """Recompute every outcome row (after a bulk load or a restore); returns the row count."""
    table = LetterOutcome.__table__
    connection.execute(delete(table))
    connection.execute(insert(table).from_select(_COLUMNS, _outcome_rows(None)))
    snapshots.forget_all(connection)
    return connection.scalar(select(func.count()).select_from(table)) or 0


def _letter_id(instance: object) -> int | None:
    if isinstance(instance, MailEvent):
        return instance.letter_id if instance.letter_id is not None else instance.letter.id
    if isinstance(instance, Letter):
        return instance.id
    return None


def _collect_touched(session: Session, _context: Any, _instances: Any) -> None:
    # Objects, not ids: new rows only get their ids during the flush.
    touched = session.info.setdefault("outcome_objects", [])
    touched.extend(
        instance
        for instance in (*session.new, *session.dirty, *session.deleted)
        if isinstance(instance, MailEvent | Letter)
    )


def _refresh_touched(session: Session, _context: Any) -> None:
    touched = session.info.pop("outcome_objects", [])
    letter_ids = {
        letter_id for instance in touched if (letter_id := _letter_id(instance)) is not None
    }
    if letter_ids:
        refresh_outcomes(session.connection(), letter_ids)
        session.info[snapshots.UNCOMMITTED_CHANGES] = True


def _transaction_ended(session: Session) -> None:
    session.info.pop(snapshots.UNCOMMITTED_CHANGES, None)


def install_session_hooks() -> None:
    """Refresh outcome rows after every ORM flush that touched letters or their events."""
    if not event.contains(Session, "before_flush", _collect_touched):
        event.listen(Session, "before_flush", _collect_touched)
        event.listen(Session, "after_flush_postexec", _refresh_touched)
        event.listen(Session, "after_commit", _transaction_ended)
        event.listen(Session, "after_rollback", _transaction_ended)
