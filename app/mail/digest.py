"""The weekly digest for organizers: the past week in numbers, nothing identifying."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.appeals.services import overdue_appeals
from app.extensions import db
from app.mail.services import email_language, external_url, queue_email
from app.models import EventKind, Letter, MailEvent, Prisoner, PrisonerStatus, Role, User


@dataclass(frozen=True)
class DigestCounts:
    """A week in numbers: no supporter, no letter text, nothing identifying."""

    since: date
    until: date
    written: int
    sent: int
    delivered: int
    answered: int
    returned_or_withheld: int
    overdue_appeals: int
    in_transit: int


def digest_counts(now: datetime) -> DigestCounts:
    """Letters written and events reported in the seven days before ``now``, plus what is
    overdue or in transit now."""
    since = now - timedelta(days=7)
    written = db.session.scalar(
        select(func.count(Letter.id)).where(Letter.created_at >= since, Letter.created_at < now)
    )
    by_kind = dict(
        db.session.execute(
            select(MailEvent.kind, func.count(MailEvent.id))
            .where(MailEvent.reported_at >= since, MailEvent.reported_at < now)
            .group_by(MailEvent.kind)
        ).all()
    )
    in_transit = db.session.scalar(
        select(func.count(Prisoner.id)).where(Prisoner.status == PrisonerStatus.IN_TRANSIT)
    )
    overdue = overdue_appeals(now.date(), int(current_app.config["APPEAL_DELIVERY_DAYS"]))
    return DigestCounts(
        since=since.date(),
        until=now.date(),
        written=written or 0,
        sent=by_kind.get(EventKind.SENT, 0),
        delivered=by_kind.get(EventKind.ARRIVED, 0),
        answered=by_kind.get(EventKind.REPLY, 0),
        returned_or_withheld=by_kind.get(EventKind.RETURNED, 0)
        + by_kind.get(EventKind.WITHHELD, 0),
        overdue_appeals=len(overdue),
        in_transit=in_transit or 0,
    )


def send_weekly_digest(now: datetime) -> int:
    """Queue the weekly summary to every active organizer and admin; return how many."""
    recipients = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_([Role.ORGANIZER, Role.ADMIN]))
        .order_by(User.id)
    ).all()
    if not recipients:
        return 0
    counts = digest_counts(now)
    context = {
        "counts": counts,
        "site_url": external_url("main.index"),
        "overdue_url": external_url("appeals.overdue"),
    }
    for user in recipients:
        queue_email(
            user.email, "digest", {**context, "name": user.name}, email_language(user.language)
        )
    return len(recipients)
