"""Correcting and withdrawing a report through the letter's link.

A correction is checked as a new report would be (app.tracking.services.record_event), against
the rest of the letter's story rather than against itself; a withdrawal must leave a story that
holds together. Statistics follow by themselves: the session hooks of app.stats.outcomes
recompute the letter's outcome row and forget its facilities' figures on the flush that
changes or deletes an event. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from app.concurrency import lock
from app.domain import DomainError
from app.extensions import db
from app.mailroom.services import item_for
from app.models import Channel, EventKind, Letter, MailEvent, MailroomState
from app.tracking.services import (
    PAPER_POST,
    SAME_DAY,
    SAME_DAY_KINDS,
    EventInput,
    attribute_facility,
    check_dates,
    checked_details,
)


@dataclass(frozen=True)
class EventChange:
    """What a correction changes; None leaves a detail as it is ("" clears a text)."""

    happened_on: date | None = None
    channel: Channel | None = None
    tracking_number: str | None = None
    note: str | None = None
    extension_days: int | None = None
    confirm_same_day: bool = False


def find_event(letter: Letter, event_id: int) -> MailEvent | None:
    """One of the letter's reports by its id; None for an unknown one or another letter's."""
    return next((event for event in letter.events if event.id == event_id), None)


def made_by_organisation(letter: Letter, event: MailEvent) -> bool:
    """Whether the organisation recorded this report: the mailroom's "sent" of a letter it
    posted, or a reply or return it received and matched. Only the organisation changes these."""
    if event.kind is EventKind.SENT:
        item = item_for(letter)
        return (
            item is not None
            and item.state is not MailroomState.REJECTED
            and item.posted_on is not None
        )
    return event.channel is Channel.ORGANISATION


def _refuse_organisations(letter: Letter, event: MailEvent) -> None:
    if made_by_organisation(letter, event):
        raise DomainError(
            "event",
            _l(
                "The organisation recorded this report from the mail it handled, so it cannot "
                "be changed here. If it is wrong, write to the organisation."
            ),
        )


def _as_report(event: MailEvent, change: EventChange) -> EventInput:
    """The report as it would be after the change."""
    kept_number = (event.tracking_number or "") if event.has_tracking_number else ""
    return EventInput(
        kind=event.kind,
        happened_on=change.happened_on or event.happened_on,
        channel=change.channel or event.channel if event.kind is EventKind.SENT else None,
        tracking_number=kept_number if change.tracking_number is None else change.tracking_number,
        note=(event.note if event.has_note else "") if change.note is None else change.note,
        extension_days=change.extension_days or event.extension_days,
        confirm_same_day=change.confirm_same_day,
    )


def _check_later_reports(letter: Letter, event: MailEvent, sent_on: date) -> None:
    # A new "sent" cannot predate anything (record_event); a corrected one must not follow
    # what was reported after it.
    later = [other.happened_on for other in letter.events if other is not event]
    if later and sent_on > min(later):
        raise DomainError(
            "date",
            _l(
                "Another report is dated %(date)s: the letter cannot have been sent after it.",
                date=format_date(min(later)),
            ),
        )


def _same_day(sent_on: date, channel: Channel | None, outcome_on: date) -> bool:
    return channel in PAPER_POST and sent_on == outcome_on


def _check_same_day(letter: Letter, event: MailEvent, report: EventInput) -> None:
    """Refuse a correction that makes an arrival or a reply fall on the day a post letter was
    sent, unless the writer confirms it; one that was so already (and confirmed) stays."""
    if report.confirm_same_day:
        return
    if event.kind in SAME_DAY_KINDS:
        sent = letter.first_event(EventKind.SENT)
        if (
            sent is not None
            and _same_day(sent.happened_on, sent.channel, report.happened_on)
            and not _same_day(sent.happened_on, sent.channel, event.happened_on)
        ):
            raise DomainError("confirm_same_day", SAME_DAY)
    if event.kind is EventKind.SENT:
        for other in letter.events:
            if other.kind in SAME_DAY_KINDS and (
                _same_day(report.happened_on, report.channel, other.happened_on)
                and not _same_day(event.happened_on, event.channel, other.happened_on)
            ):
                raise DomainError("confirm_same_day", SAME_DAY)


def correct_event(letter: Letter, event: MailEvent, change: EventChange, today: date) -> MailEvent:
    """Change a report's date and details after the same checks as a new report; the caller
    commits. The kind stays: a report of the wrong kind is withdrawn and reported again."""
    lock(letter)
    _refuse_organisations(letter, event)
    report = _as_report(event, change)
    check_dates(letter, report, today, ignoring=event)
    if event.kind is EventKind.SENT:
        _check_later_reports(letter, event, report.happened_on)
    _check_same_day(letter, event, report)
    extension_days, note, tracking_number = checked_details(report)
    event.happened_on = report.happened_on
    event.channel = report.stored_channel
    event.tracking_number = tracking_number
    event.extension_days = extension_days
    event.note = note
    if event.kind is EventKind.SENT:
        attribute_facility(letter, report.happened_on)
    db.session.flush()
    return event


def withdraw_event(letter: Letter, event: MailEvent) -> None:
    """Delete a report the writer made; the caller commits. "Sent" goes last, as every other
    report needs it."""
    lock(letter)
    _refuse_organisations(letter, event)
    if event.kind is EventKind.SENT and len(letter.events) > 1:
        raise DomainError(
            "event",
            _l(
                "Withdraw the later reports first: each of them needs the report that it was sent."
            ),
        )
    letter.events.remove(event)  # delete-orphan: the row goes on the flush
    db.session.flush()
