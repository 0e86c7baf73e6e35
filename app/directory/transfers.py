"""Transfers as writers see them: the placement timeline, who is in transit, caught letters.

Everything here is derived at read time from placements and mail events; nothing is stored, so a
transfer recorded late, corrected or imported shows everywhere at once.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from app.domain import Page, paginate
from app.extensions import db
from app.models import EventKind, Facility, Letter, Placement, Prisoner, PrisonerStatus

# Facilities forward mail to a prisoner's new place, slowly: how long to wait for news of a
# letter caught by a transfer before advising to send it again.
FORWARDING_WAIT_WEEKS = 6
# Any of these ends a letter's journey: it is no longer "in flight".
JOURNEY_ENDED = frozenset(
    {EventKind.ARRIVED, EventKind.REPLY, EventKind.RETURNED, EventKind.WITHHELD}
)
# Nobody released or dead is "in transit", whatever an unclosed placement says.
GONE = (PrisonerStatus.RELEASED, PrisonerStatus.DECEASED)


# --- the timeline ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A length of time in whole calendar years, months and days."""

    years: int
    months: int
    days: int


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def calendar_span(start: date, end: date) -> Span:
    """Whole years, months and days from ``start`` to ``end`` (zero if ``end`` is earlier).

    Months are calendar months, counted to the same day of the month or, in a shorter month,
    to its last day: 31 January to 28 February is a month, to 1 March a month and a day.
    """
    if end <= start:
        return Span(0, 0, 0)
    months = (end.year - start.year) * 12 + end.month - start.month
    if _add_months(start, months) > end:
        months -= 1
    days = (end - _add_months(start, months)).days
    return Span(months // 12, months % 12, days)


@dataclass(frozen=True)
class TimelineEntry:
    """One stay in a facility, or one period in transit, as the timeline shows it."""

    facility: Facility | None
    started_on: date
    ended_on: date | None
    days: int  # up to ended_on, or up to today while it lasts
    span: Span

    @property
    def in_transit(self) -> bool:
        """A period in transit: whereabouts unknown."""
        return self.facility is None

    @property
    def current(self) -> bool:
        """The placement that is still open."""
        return self.ended_on is None


def _newest_first(placement: Placement) -> tuple[date, date, int]:
    # Same-day moves leave placements that start on the same day: the open one (or the one
    # that ended later) is the newer; the id breaks the remaining ties in recording order.
    return (placement.started_on, placement.ended_on or date.max, placement.id or 0)


def build_timeline(placements: Iterable[Placement], today: date) -> list[TimelineEntry]:
    """The placement history newest first, each entry with its length (so far, if open)."""
    entries = []
    for placement in sorted(placements, key=_newest_first, reverse=True):
        end = placement.ended_on or today
        entries.append(
            TimelineEntry(
                facility=placement.facility,
                started_on=placement.started_on,
                ended_on=placement.ended_on,
                days=max(0, (end - placement.started_on).days),
                span=calendar_span(placement.started_on, end),
            )
        )
    return entries


def placement_timeline(prisoner: Prisoner, today: date | None = None) -> list[TimelineEntry]:
    """A prisoner's placement history, newest first (from a prisoner loaded by
    `services.get_prisoner`, which brings the placements and their facilities along)."""
    return build_timeline(prisoner.placements, today or date.today())


# --- prisoners in transit -------------------------------------------------------------------


@dataclass(frozen=True)
class TransitRow:
    """Someone in transit: since when, for how many days, and where they were last known."""

    prisoner: Prisoner
    since: date
    days: int
    last_facility: Facility | None
    left_on: date | None


TransitPage = Page[TransitRow]


def prisoners_in_transit(today: date, page: int = 1, per_page: int = 50) -> TransitPage:
    """Prisoners whose open placement is in transit, whereabouts unknown the longest first.

    Two queries: the total (counted without the last known facility), then the page and its
    rows, the last known facility found by a correlated subquery per row inside the database.
    """
    transit = aliased(Placement)
    last = aliased(Placement)
    earlier = aliased(Placement)
    last_known_id = (
        select(earlier.id)
        .where(earlier.prisoner_id == Prisoner.id, earlier.facility_id.is_not(None))
        .order_by(earlier.started_on.desc(), earlier.id.desc())
        .limit(1)
        .correlate(Prisoner)
        .scalar_subquery()
    )
    in_transit = (
        (transit.prisoner_id == Prisoner.id)
        & transit.ended_on.is_(None)
        & transit.facility_id.is_(None)
    )
    not_gone = Prisoner.status.not_in([status.value for status in GONE])
    statement = (
        select(Prisoner, transit.started_on, Facility, last.ended_on)
        .join(transit, in_transit)
        .outerjoin(last, last.id == last_known_id)
        .outerjoin(Facility, Facility.id == last.facility_id)
        .where(not_gone)
        .order_by(transit.started_on, Prisoner.last_name, Prisoner.first_name, Prisoner.id)
    )
    listed = paginate(
        statement,
        page,
        per_page,
        count=select(Prisoner.id).join(transit, in_transit).where(not_gone),
    )
    return listed.with_rows(
        [
            TransitRow(prisoner, since, max(0, (today - since).days), facility, left_on)
            for prisoner, since, facility, left_on in listed.rows
        ]
    )


# --- letters caught by a transfer -----------------------------------------------------------


@dataclass(frozen=True)
class TransferNotice:
    """A letter sent to a facility the prisoner has since left (or had already left)."""

    old_facility: Facility
    moved_on: date  # the day the prisoner left the facility the letter was sent to
    sent_on: date
    now_at: Facility | None  # the current facility; None while in transit or unknown
    in_transit: bool  # the open placement is in transit: no new address yet

    @property
    def sent_after_move(self) -> bool:
        """Sent to the old address after the prisoner had already left it."""
        return self.sent_on > self.moved_on

    @property
    def check_by(self) -> date:
        """When to give up waiting for forwarding and send again."""
        return max(self.sent_on, self.moved_on) + timedelta(weeks=FORWARDING_WAIT_WEEKS)

    def waited_enough(self, today: date) -> bool:
        """True once ``check_by`` has passed without news."""
        return today > self.check_by


def find_move_away(
    facility_id: int, placements: Iterable[Placement]
) -> tuple[Placement, Placement | None] | None:
    """The last stay at a facility the prisoner has left for another placement, and the open one.

    None when the prisoner is there now, was never recorded there, or their history stops when
    they left (released, or nothing known since): that is not a transfer.
    """
    ordered = sorted(placements, key=_newest_first)
    current = next((p for p in ordered if p.ended_on is None), None)
    if current is not None and current.facility_id == facility_id:
        return None
    left = next(
        (p for p in reversed(ordered) if p.facility_id == facility_id and p.ended_on is not None),
        None,
    )
    if left is None or left is ordered[-1]:
        return None
    return left, current


def transfer_notice(letter: Letter) -> TransferNotice | None:
    """Whether a letter was caught by a transfer, and what the writer needs to know about it.

    A letter is flagged when it was sent (a "sent" event) to a facility, nothing has yet ended
    its journey (arrived, reply, returned, withheld) and the prisoner has since moved from that
    facility to another one or into transit. Two cases:

    - in flight: sent on or before the day of the move; facilities usually forward such
      letters, but some are lost;
    - wrongly addressed: sent after the day of the move (the transfer became known later, with
      an earlier date), to an address the prisoner had already left.

    A letter reported sent after the transfer was recorded is addressed to the new facility
    (see ``tracking.services.record_event``) and is not flagged. Appeals go to officials, whose
    address does not change with the prisoner's, and are never flagged. The answer is derived
    from the placements every time, so it follows corrections to the history; it costs one
    query, and only for a sent letter still in flight.
    """
    if letter.is_appeal or letter.facility_id is None:
        return None
    sent = letter.first_event(EventKind.SENT)
    if sent is None or any(event.kind in JOURNEY_ENDED for event in letter.events):
        return None
    placements = db.session.scalars(
        select(Placement)
        .options(joinedload(Placement.facility))
        .where(Placement.prisoner_id == letter.prisoner_id)
    ).all()
    found = find_move_away(letter.facility_id, placements)
    if found is None:
        return None
    left, current = found
    assert left.facility is not None and left.ended_on is not None  # chosen that way
    return TransferNotice(
        old_facility=left.facility,
        moved_on=left.ended_on,
        sent_on=sent.happened_on,
        now_at=current.facility if current else None,
        in_transit=current is not None and current.in_transit,
    )
