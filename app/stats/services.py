"""Statistics of how letters to prisoners fare, computed in SQL from ``letter_outcome``.

Every figure is computed by the database, on SQLite and PostgreSQL alike: counts with one
grouped query, medians and percentiles with one window-function query (linear interpolation
between the two nearest ranks, as ``statistics.quantiles(method="inclusive")``). Appeals to
officials are not letters to prisoners and never appear here (they have no outcome rows).
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)

from app.extensions import db
from app.models import Channel, Facility, LetterOutcome
from app.models.base import utcnow
from app.stats import snapshots

MIN_SAMPLE = 5  # fewer reports than this say "not enough reports" rather than a median
NO_NEWS_AFTER_DAYS = 60
PERCENTILES = (50, 75, 90)
MONTHS_SHOWN = 24  # trends by month go back two years on pages; the export has everything

_outcome = LetterOutcome.__table__.c


class Dimension(enum.StrEnum):
    """What figures can be grouped by."""

    FACILITY = "facility"
    REGION = "region"
    CHANNEL = "channel"
    MONTH = "month"


@dataclass(frozen=True)
class Scope:
    """Which letters to count: every field given narrows the selection."""

    facility_id: int | None = None
    region: str | None = None
    channel: Channel | None = None
    month: str | None = None  # "YYYY-MM", the month the letter was sent
    prisoner_id: int | None = None


@dataclass(frozen=True)
class Figures:
    """How a group of letters fared. Medians, percentiles and shares are None below MIN_SAMPLE.

    ``letters_sent`` counts letters with a "sent" report or any later outcome (a letter that
    arrived was sent even if nobody said when). ``dates_excluded`` counts letters whose dates
    are missing or contradictory: they count for outcomes but not for delays.
    """

    letters_sent: int = 0
    delivered: int = 0
    answered: int = 0
    returned: int = 0
    withheld: int = 0
    no_news: int = 0
    withheld_or_returned: int = 0
    dates_excluded: int = 0
    delivery_sample: int = 0
    reply_sample: int = 0
    median_days_to_delivery: float | None = None
    p75_days_to_delivery: float | None = None
    p90_days_to_delivery: float | None = None
    median_days_to_reply: float | None = None
    p90_days_to_reply: float | None = None
    withheld_or_returned_share: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON and snapshots."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figures:
        """The inverse of ``as_dict``; unknown keys are ignored."""
        return cls(**{key: value for key, value in data.items() if key in _FIGURES_FIELDS})


_FIGURES_FIELDS = frozenset(field.name for field in fields(Figures))


def _group_columns(dimension: Dimension | None) -> list[ColumnElement[Any]]:
    """The grouping column, labelled "grp"; none for totals (a constant in GROUP BY or
    PARTITION BY would be read as a column position by some databases)."""
    columns = {
        Dimension.FACILITY: _outcome.facility_id,
        Dimension.REGION: Facility.region,
        Dimension.CHANNEL: _outcome.channel,
        Dimension.MONTH: _outcome.sent_month,
    }
    return [] if dimension is None else [columns[dimension].label("grp")]


_SCOPE_FIELDS = ("facility_id", "region", "channel", "month", "prisoner_id")
Shape = tuple[bool, ...]  # which scope fields are given: the statement's form, not its values


def _shape(scope: Scope) -> Shape:
    return tuple(getattr(scope, name) is not None for name in _SCOPE_FIELDS)


def _parameters(scope: Scope, as_of: date) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(scope, name) for name in _SCOPE_FIELDS}
    values["no_news_before"] = as_of - timedelta(days=NO_NEWS_AFTER_DAYS)
    return values


def _scoped(query: Select[Any], shape: Shape, dimension: Dimension | None) -> Select[Any]:
    """Add the joins and conditions for a scope's shape to a query over letter_outcome; the
    values come as bound parameters named after the scope's fields."""
    given = dict(zip(_SCOPE_FIELDS, shape, strict=True))
    if given["region"] or dimension is Dimension.REGION:
        query = query.join(Facility, Facility.id == _outcome.facility_id)
    columns = {
        "facility_id": _outcome.facility_id,
        "region": Facility.region,
        "channel": _outcome.channel,
        "month": _outcome.sent_month,
        "prisoner_id": _outcome.prisoner_id,
    }
    conditions = [columns[name] == bindparam(name) for name in _SCOPE_FIELDS if given[name]]
    if dimension is Dimension.FACILITY:
        conditions.append(_outcome.facility_id.is_not(None))
    if dimension is Dimension.MONTH:
        conditions.append(_outcome.sent_month.is_not(None))
    if dimension is Dimension.CHANNEL:
        conditions.append(_outcome.channel.is_not(None))
    return query.where(*conditions)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


@lru_cache(maxsize=64)
def _counts_statement(shape: Shape, dimension: Dimension | None) -> Select[Any]:
    # Built once per form: building the expression costs more than running it on a facility.
    delivered = or_(_outcome.delivered_on.is_not(None), _outcome.replied_on.is_not(None))
    returned = _outcome.returned_on.is_not(None)
    withheld = _outcome.withheld_on.is_not(None)
    no_news = and_(
        not_(or_(delivered, returned, withheld)),
        _outcome.sent_on <= bindparam("no_news_before", type_=Date),
    )
    group = _group_columns(dimension)
    return _scoped(
        select(
            *group,
            func.count(),
            _count_if(delivered),
            _count_if(_outcome.replied_on.is_not(None)),
            _count_if(returned),
            _count_if(withheld),
            _count_if(no_news),
            _count_if(or_(returned, withheld)),
            _count_if(_outcome.date_problem.is_not(None)),
            func.count(_outcome.days_to_delivery),
            func.count(_outcome.days_to_reply),
        ).select_from(LetterOutcome),
        shape,
        dimension,
    ).group_by(*group)


def _counts(scope: Scope, dimension: Dimension | None, as_of: date) -> dict[Hashable, list[int]]:
    width = 0 if dimension is None else 1
    rows = db.session.execute(
        _counts_statement(_shape(scope), dimension), _parameters(scope, as_of)
    )
    return {
        (row[0] if width else 0): [int(value or 0) for value in row[width:]]
        for row in rows
        if row[width]  # totals over no rows come back as one row with a count of 0
    }


@lru_cache(maxsize=64)
def _percentiles_statement(shape: Shape, dimension: Dimension | None) -> Select[Any]:
    """Percentiles of both delays per group, as rows (group?, measure, n, p50, p75, p90)×100.

    Delays are whole days, so the database first counts letters per (group, days) — a few
    thousand rows instead of one per letter — and finds the value at each rank from running
    totals over those counts.
    """
    group = _group_columns(dimension)
    group_keys = [column.element for column in group]  # GROUP BY the expression, not the label
    measures = [("delivery", _outcome.days_to_delivery), ("reply", _outcome.days_to_reply)]
    histogram = union_all(
        *(
            _scoped(
                select(
                    *group,
                    literal(name).label("measure"),
                    column.label("days"),
                    func.count().label("letters"),
                ).select_from(LetterOutcome),
                shape,
                dimension,
            )
            .where(column.is_not(None))
            .group_by(*group_keys, column)
            for name, column in measures
        )
    ).subquery("histogram")
    grouped = [histogram.c.grp] if group else []
    partition = [*grouped, histogram.c.measure]
    running = select(
        *grouped,
        histogram.c.measure,
        histogram.c.days,
        # Letters with fewer days than this row's, and up to this row's: ranks [before, upto).
        cast(
            func.sum(histogram.c.letters).over(partition_by=partition, order_by=histogram.c.days)
            - histogram.c.letters,
            Integer,
        ).label("before"),
        cast(
            func.sum(histogram.c.letters).over(partition_by=partition, order_by=histogram.c.days),
            Integer,
        ).label("upto"),
        cast(func.sum(histogram.c.letters).over(partition_by=partition), Integer).label("n"),
    ).subquery("running")

    def value_at(rank: ColumnElement[Any]) -> ColumnElement[Any]:
        at_rank = and_(running.c.before <= rank, rank < running.c.upto)
        return func.coalesce(func.max(case((at_rank, running.c.days))), 0)

    def hundredfold_percentile(percent: int) -> ColumnElement[Any]:
        # Position percent*(n-1)/100 between ranks `lower` and `lower + 1`, in integers so
        # that SQLite and PostgreSQL agree: value*100 = v[lower]*(100-rest) + v[lower+1]*rest.
        position = percent * (running.c.n - 1)
        lower, rest = position // 100, position % 100
        return value_at(lower) * (100 - rest) + value_at(lower + 1) * rest

    key_columns = [running.c.grp, running.c.measure] if group else [running.c.measure]
    return select(
        *key_columns,
        running.c.n,
        *(hundredfold_percentile(percent) for percent in PERCENTILES),
    ).group_by(*key_columns, running.c.n)


def _percentiles(scope: Scope, dimension: Dimension | None) -> dict[tuple[Hashable, str], Any]:
    """Percentiles of both delays per group: {(group, "delivery"|"reply"): (n, p50, p75, p90)}."""
    grouped = dimension is not None
    rows = db.session.execute(
        _percentiles_statement(_shape(scope), dimension), _parameters(scope, date.today())
    )
    result = {}
    for row in rows:
        key = (row[0], row[1]) if grouped else (0, row[0])
        width = 2 if grouped else 1
        result[key] = (int(row[width]), *(int(value) / 100 for value in row[width + 1 :]))
    return result


def _if_enough(value: float | None, sample: int) -> float | None:
    return value if sample >= MIN_SAMPLE else None


def figures_by(
    dimension: Dimension | None, scope: Scope | None = None, as_of: date | None = None
) -> dict[Hashable, Figures]:
    """Figures for each value of ``dimension`` within ``scope`` (two queries in all).

    With ``dimension=None`` the single key is the literal 0. Keys are facility ids, region
    names, channel values or "YYYY-MM" months.
    """
    scope = scope or Scope()
    as_of = as_of or date.today()
    percentiles = _percentiles(scope, dimension)
    result: dict[Hashable, Figures] = {}
    for key, counts in _counts(scope, dimension, as_of).items():
        (sent, delivered, answered, returned, withheld, no_news, bad, excluded, _, _) = counts
        delivery = percentiles.get((key, "delivery"), (0, None, None, None))
        reply = percentiles.get((key, "reply"), (0, None, None, None))
        result[key] = Figures(
            letters_sent=sent,
            delivered=delivered,
            answered=answered,
            returned=returned,
            withheld=withheld,
            no_news=no_news,
            withheld_or_returned=bad,
            dates_excluded=excluded,
            delivery_sample=delivery[0],
            reply_sample=reply[0],
            median_days_to_delivery=_if_enough(delivery[1], delivery[0]),
            p75_days_to_delivery=_if_enough(delivery[2], delivery[0]),
            p90_days_to_delivery=_if_enough(delivery[3], delivery[0]),
            median_days_to_reply=_if_enough(reply[1], reply[0]),
            p90_days_to_reply=_if_enough(reply[3], reply[0]),
            withheld_or_returned_share=round(bad / sent, 4) if sent >= MIN_SAMPLE else None,
        )
    return result


def figures(scope: Scope | None = None, as_of: date | None = None) -> Figures:
    """Figures for all letters within ``scope``."""
    return figures_by(None, scope, as_of).get(0, Figures())


def prisoner_figures(prisoner_id: int, as_of: date | None = None) -> Figures:
    """How letters to one prisoner fared, wherever they were sent. A prisoner has few
    letters: computing (about a millisecond) is cheaper than storing and reading back."""
    return figures(Scope(prisoner_id=prisoner_id), as_of)


@dataclass(frozen=True)
class Breakdown:
    """A facility's figures in all, by channel and by month sent (oldest month first)."""

    total: Figures
    by_channel: dict[Channel, Figures]
    by_month: dict[str, Figures]


def _compute_breakdown_payload(facility_id: int, as_of: date) -> dict[str, Any]:
    scope = Scope(facility_id=facility_id)
    by_channel = sorted(
        figures_by(Dimension.CHANNEL, scope, as_of).items(), key=lambda item: -item[1].letters_sent
    )
    by_month = sorted(figures_by(Dimension.MONTH, scope, as_of).items())[-MONTHS_SHOWN:]
    return {
        "as_of": as_of.isoformat(),
        "total": figures(scope, as_of).as_dict(),
        # Lists of pairs, not objects: JSON objects need not keep their order.
        "by_channel": [[str(key), value.as_dict()] for key, value in by_channel],
        "by_month": [[key, value.as_dict()] for key, value in by_month],
    }


def breakdown_snapshot(facility_id: int, as_of: date) -> snapshots.Snapshot:
    """The facility's figures for ``as_of``: the stored ones while no report has made them out
    of date, else computed now (six queries).

    Pages never store what they computed: `precompute_facility_figures`, every minute, does,
    claiming the row before reading, which a page view, whose read may have started earlier,
    cannot.
    """
    stored = snapshots.read(snapshots.facility_key(facility_id))
    if stored is not None and not stored.stale and stored.payload["as_of"] == as_of.isoformat():
        return stored
    return snapshots.Snapshot(_compute_breakdown_payload(facility_id, as_of), utcnow(), False)


def precompute_facility_figures(as_of: date) -> int:
    """Compute and store the figures of every facility that has none for ``as_of`` or whose
    figures a report made out of date; returns how many were computed.

    The background job runs this every minute (and `flask stats rebuild` after a recount), so
    that facility and prisoner pages find their figures stored instead of running the six
    queries while the reader waits: after a report, a new day or a bulk load. Figures that a
    report overtakes while they are computed are not stored; the next run tries again. It
    ends the session's transaction for each facility: never call it inside a request.
    """
    facility_ids = db.session.scalars(select(Facility.id).order_by(Facility.id)).all()
    computed = 0
    for facility_id in facility_ids:
        # A fresh read for each facility: reports keep coming in while the loop runs, and on
        # SQLite one long read would compute them all from its first moment.
        db.session.rollback()
        key = snapshots.facility_key(facility_id)
        stored = snapshots.read(key)
        if stored is not None and stored.stale:
            stored = snapshots.claim_stale(key, stored)
            if stored is None:  # another report or worker came first: the next run
                continue
            db.session.rollback()  # read what was committed after the claim
        elif stored is not None and stored.payload["as_of"] == as_of.isoformat():
            continue
        snapshots.store_if_unchanged(key, _compute_breakdown_payload(facility_id, as_of), stored)
        computed += 1
    db.session.rollback()
    return computed


def facility_breakdown(facility_id: int, as_of: date | None = None) -> Breakdown:
    """A facility's figures in all, by channel and by month (what its page and API show)."""
    return breakdown_from(breakdown_snapshot(facility_id, as_of or date.today()))


def breakdown_from(stored: snapshots.Snapshot) -> Breakdown:
    """The facility figures kept in a snapshot from `breakdown_snapshot`."""
    return Breakdown(
        total=Figures.from_dict(stored.payload["total"]),
        by_channel={
            Channel(channel): Figures.from_dict(data)
            for channel, data in stored.payload["by_channel"]
        },
        by_month={month: Figures.from_dict(data) for month, data in stored.payload["by_month"]},
    )


def facility_figures(facility_id: int, as_of: date | None = None) -> Figures:
    """How letters addressed to one facility fared (at the time they were sent)."""
    stored = breakdown_snapshot(facility_id, as_of or date.today())
    return Figures.from_dict(stored.payload["total"])  # not the months, which pages never show
