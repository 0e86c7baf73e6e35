"""Short mail summaries for a prisoner or a facility."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, select

from app.extensions import db
from app.models import EventKind, Letter, MailEvent, TemplateKind

MIN_SAMPLE = 5  # fewer reports than this say "not enough reports" rather than a median


@dataclass(frozen=True)
class MailSummary:
    """How letters fared: counts by outcome and median delays in days."""

    letters_written: int
    letters_sent: int
    delivered: int
    answered: int
    returned: int
    withheld: int
    delivery_sample: int
    reply_sample: int
    median_days_to_delivery: float | None
    median_days_to_reply: float | None


def _median_if_enough(values: list[int]) -> float | None:
    return statistics.median(values) if len(values) >= MIN_SAMPLE else None


def _summarise(condition: ColumnElement[bool]) -> MailSummary:
    # Appeals to officials are not mail to prisoners: they would distort delays and counts.
    condition = and_(condition, Letter.kind == TemplateKind.LETTER)
    written = db.session.scalar(select(db.func.count(Letter.id)).where(condition)) or 0
    rows = db.session.execute(
        select(MailEvent.letter_id, MailEvent.kind, MailEvent.happened_on)
        .join(Letter, Letter.id == MailEvent.letter_id)
        .where(condition)
        .order_by(MailEvent.happened_on, MailEvent.id)
    )
    first_dates: dict[int, dict[EventKind, date]] = defaultdict(dict)
    for letter_id, kind, happened_on in rows:
        first_dates[letter_id].setdefault(kind, happened_on)

    to_delivery: list[int] = []
    to_reply: list[int] = []
    for dates in first_dates.values():
        sent = dates.get(EventKind.SENT)
        if sent is None:
            continue
        if EventKind.ARRIVED in dates and dates[EventKind.ARRIVED] >= sent:
            to_delivery.append((dates[EventKind.ARRIVED] - sent).days)
        if EventKind.REPLY in dates and dates[EventKind.REPLY] >= sent:
            to_reply.append((dates[EventKind.REPLY] - sent).days)

    def letters_with(*kinds: EventKind) -> int:
        return sum(1 for dates in first_dates.values() if any(kind in dates for kind in kinds))

    return MailSummary(
        letters_written=written,
        letters_sent=letters_with(EventKind.SENT),
        # A reply proves the letter arrived even when nobody reported the arrival.
        delivered=letters_with(EventKind.ARRIVED, EventKind.REPLY),
        answered=letters_with(EventKind.REPLY),
        returned=letters_with(EventKind.RETURNED),
        withheld=letters_with(EventKind.WITHHELD),
        delivery_sample=len(to_delivery),
        reply_sample=len(to_reply),
        median_days_to_delivery=_median_if_enough(to_delivery),
        median_days_to_reply=_median_if_enough(to_reply),
    )


def prisoner_summary(prisoner_id: int) -> MailSummary:
    """How letters to one prisoner fared."""
    return _summarise(Letter.prisoner_id == prisoner_id)


def facility_summary(facility_id: int) -> MailSummary:
    """How letters addressed to one facility fared (at the time they were sent)."""
    return _summarise(Letter.facility_id == facility_id)
