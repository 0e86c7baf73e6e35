"""Choosing addressees for an appeal and following its legal deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.appeals.deadlines import AppealDeadlines, appeal_deadlines
from app.extensions import db
from app.models import (
    EventKind,
    Jurisdiction,
    Letter,
    Official,
    Prisoner,
    TemplateKind,
)
from app.models.official import SUGGESTION_ORDER

CLOSING_EVENTS = (EventKind.REPLY, EventKind.REFUSED, EventKind.RETURNED)


def suggested_officials(prisoner: Prisoner) -> list[Official]:
    """Addressees for an appeal about this prisoner, most directly responsible first.

    The head of their facility, then the region's penitentiary directorate, prosecutor and
    commissioner, then the federal bodies. While the prisoner is in transit the last known
    facility's region is the best guess of who is responsible.
    """
    facility = prisoner.last_known_facility
    conditions = [Official.jurisdiction == Jurisdiction.FEDERAL]
    if facility is not None:
        conditions.append(
            and_(
                Official.jurisdiction == Jurisdiction.FACILITY,
                Official.facility_id == facility.id,
            )
        )
        conditions.append(
            and_(
                Official.jurisdiction == Jurisdiction.REGION,
                Official.jurisdiction_region == facility.region,
            )
        )
    officials = db.session.scalars(select(Official).where(or_(*conditions)))
    return sorted(officials, key=lambda o: (SUGGESTION_ORDER.index(o.kind), o.position))


def get_official(official_id: int) -> Official | None:
    """An official by id, or None."""
    return db.session.get(Official, official_id)


def deadlines(letter: Letter, assumed_delivery_days: int) -> AppealDeadlines | None:
    """The 59-FZ deadlines of an appeal once it has been reported sent, else None."""
    sent = letter.first_event(EventKind.SENT)
    if not letter.is_appeal or sent is None:
        return None
    arrived = letter.first_event(EventKind.ARRIVED)
    extension = letter.first_event(EventKind.EXTENDED)
    closing = [e for e in letter.events if e.kind in CLOSING_EVENTS]
    return appeal_deadlines(
        sent_on=sent.happened_on,
        arrived_on=arrived.happened_on if arrived else None,
        assumed_delivery_days=assumed_delivery_days,
        extension_days=(extension.extension_days or 0) if extension else 0,
        closed_on=min(e.happened_on for e in closing) if closing else None,
    )


@dataclass(frozen=True)
class OverdueAppeal:
    """An unanswered appeal past its term, with nothing that identifies who wrote it.

    Pages show its dates to the month only (`months_overdue`, the months of sending and of
    the answer's term): in a small prison the day an appeal was sent can identify the family,
    and a day-exact delay would give that day back.
    """

    official: Official
    prisoner: Prisoner
    deadlines: AppealDeadlines
    days_overdue: int
    months_overdue: int


def whole_months(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (0 when less than a month)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def overdue_appeals(today: date, assumed_delivery_days: int) -> list[OverdueAppeal]:
    """Every sent, unanswered appeal whose answer is overdue, longest overdue first."""
    appeals = db.session.scalars(
        select(Letter)
        .where(Letter.kind == TemplateKind.APPEAL, Letter.official_id.is_not(None))
        .options(
            selectinload(Letter.events),
            selectinload(Letter.official),
            selectinload(Letter.prisoner),
        )
    )
    overdue = []
    for appeal in appeals:
        terms = deadlines(appeal, assumed_delivery_days)
        if terms is not None and terms.is_overdue(today):
            assert appeal.official is not None
            overdue.append(
                OverdueAppeal(
                    appeal.official,
                    appeal.prisoner,
                    terms,
                    terms.days_overdue(today),
                    whole_months(terms.answer_due, today),
                )
            )
    return sorted(overdue, key=lambda item: -item.days_overdue)
