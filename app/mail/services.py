"""Writing emails into the outbox, in the same transaction as whatever caused them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import selectinload

from app.appeals.services import overdue_appeals
from app.auth.permissions import Actor, require_admin
from app.domain import DomainError, Page, paginate
from app.extensions import db
from app.models import (
    EventKind,
    Follow,
    Letter,
    MailEvent,
    OutboxMessage,
    OutboxStatus,
    Prisoner,
    PrisonerStatus,
    ReminderSubscription,
    Role,
    User,
)
from app.models.base import utcnow
from app.tokens import looks_like_token, new_tracking_token

# Content-neutral subjects: no prisoner names, nothing that says what the letter was about.
SUBJECTS = {
    "invitation": _l("Your invitation to Konvert"),
    "password_reset": _l("Reset your Konvert password"),
    "login_link": _l("Log in to Konvert"),
    "drive_invitation": _l("A letter-writing evening"),
    "reminder": _l("A reminder from Konvert"),
    "transfer_alert": _l("An update from Konvert"),
    "digest": _l("Your weekly Konvert summary"),
}
_HEADER_BREAK = re.compile(r"[\r\n]")
_EMAIL = re.compile(r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+$")


class MailError(ValueError):
    """An address or subject that must not be sent (e.g. header injection)."""


def valid_address(address: str) -> bool:
    """A single plain address, no display name, no line breaks."""
    return bool(_EMAIL.match(address)) and not _HEADER_BREAK.search(address)


def queue_email(
    recipient: str, kind: str, context: dict[str, Any], language: str = "en"
) -> OutboxMessage:
    """Render templates/emails/<kind>.txt and .html and add the message to the outbox.

    Nothing is sent here: the caller commits, and the outbox job delivers after the commit.
    """
    recipient = recipient.strip()
    if not valid_address(recipient):
        raise MailError(f"refusing to mail {recipient!r}")
    with force_locale(language):
        subject = str(SUBJECTS[kind])
        body_text = render_template(f"emails/{kind}.txt", **context)
        body_html = render_template(f"emails/{kind}.html", **context)
    if _HEADER_BREAK.search(subject):
        raise MailError("line break in a subject")
    message = OutboxMessage(
        kind=kind, recipient=recipient, subject=subject, body_text=body_text, body_html=body_html
    )
    db.session.add(message)
    return message


# --- links in emails -----------------------------------------------------------------------


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an email, built on PUBLIC_URL.

    Never on the request's Host header (a forged header would put another site's address in
    a mail), and it works in jobs, where there is no request at all.
    """
    base = urlsplit(str(current_app.config["PUBLIC_URL"]))
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


def _language(code: str | None) -> str:
    """A language the emails exist in: ``code`` if supported, else the default."""
    if code in current_app.config["LANGUAGES"]:
        return str(code)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _checked_address(email: str) -> str:
    address = email.strip()
    if len(address) > 254 or not valid_address(address):
        raise DomainError("email", _l("Enter one email address, like name@example.org."))
    return address


# --- reminders to report back ----------------------------------------------------------------


def reminder_for(letter: Letter) -> ReminderSubscription | None:
    """The reminder subscription of a letter, if its writer left an email."""
    return db.session.scalar(
        select(ReminderSubscription).where(ReminderSubscription.letter_id == letter.id)
    )


def subscribe_to_reminders(letter: Letter, email: str) -> ReminderSubscription:
    """Keep an email (apart from the letter) to remind its writer to report back.

    A second subscription replaces the address; the delete token stays, so the links in
    mails already sent keep working.
    """
    address = _checked_address(email)
    subscription = reminder_for(letter)
    if subscription is None:
        subscription = ReminderSubscription(letter=letter, token=new_tracking_token())
        db.session.add(subscription)
    subscription.email = address
    return subscription


def find_reminder(token: str) -> ReminderSubscription | None:
    """The subscription behind a one-click delete link, or None."""
    if not looks_like_token(token):
        return None
    return db.session.scalar(
        select(ReminderSubscription).where(ReminderSubscription.token == token)
    )


def delete_reminder(subscription: ReminderSubscription) -> None:
    """Forget the address: the row goes, nothing of it is kept."""
    db.session.delete(subscription)


def send_due_reminders(today: date) -> int:
    """Queue the reminders that are due today; return how many.

    A reminder is due REMINDER_DAYS (14, then 45) days after the letter was reported sent when
    nothing else was reported since. Each goes once: the reminded_* column is claimed by an
    UPDATE that only succeeds while it is still empty, in the same transaction as the email,
    so two consumers running this at once cannot both send it. A subscription first seen past
    the second date gets one reminder, not two at once.
    """
    first_days, second_days = current_app.config["REMINDER_DAYS"]
    sent_on = (
        select(func.min(MailEvent.happened_on))
        .where(
            MailEvent.letter_id == ReminderSubscription.letter_id,
            MailEvent.kind == EventKind.SENT,
        )
        .correlate(ReminderSubscription)
        .scalar_subquery()
    )
    later_news = (
        select(MailEvent.id)
        .where(
            MailEvent.letter_id == ReminderSubscription.letter_id,
            MailEvent.kind != EventKind.SENT,
        )
        .correlate(ReminderSubscription)
        .exists()
    )
    due = db.session.execute(
        select(ReminderSubscription, sent_on)
        .where(
            ReminderSubscription.reminded_45_at.is_(None),
            sent_on <= today - timedelta(days=first_days),
            ~later_news,
        )
        .options(selectinload(ReminderSubscription.letter))
        .order_by(ReminderSubscription.id)
    ).all()
    now = utcnow()
    queued = 0
    for subscription, sent_date in due:
        age = (today - sent_date).days
        if age >= second_days:
            claimed_column = ReminderSubscription.reminded_45_at
            values = {"reminded_45_at": now}
            if subscription.reminded_14_at is None:
                values["reminded_14_at"] = now
        elif subscription.reminded_14_at is None:
            claimed_column = ReminderSubscription.reminded_14_at
            values = {"reminded_14_at": now}
        else:
            continue
        # An UPDATE's result is a CursorResult (with rowcount); Session.execute is typed for
        # any statement, so it only promises a Result.
        claim = cast(
            CursorResult[Any],
            db.session.execute(
                update(ReminderSubscription)
                .where(ReminderSubscription.id == subscription.id, claimed_column.is_(None))
                .values(**values)
                .execution_options(synchronize_session=False)
            ),
        )
        if claim.rowcount != 1:
            continue
        letter = subscription.letter
        queue_email(
            subscription.email,
            "reminder",
            {
                "days": age,
                "sent_on": sent_date,
                "is_appeal": letter.is_appeal,
                "final": age >= second_days,
                "tracking_url": external_url("tracking.letter", token=letter.token),
                "delete_url": external_url("mail.unsubscribe_reminder", token=subscription.token),
            },
            _language(letter.language),
        )
        queued += 1
    return queued


# --- transfer alerts -------------------------------------------------------------------------


def follow_prisoner(prisoner: Prisoner, email: str) -> Follow:
    """Ask to be told when this prisoner is transferred (opt-in).

    Following twice with one address keeps one row; the page answers the same either way, so
    nobody learns whether an address already follows someone.
    """
    address = _checked_address(email)
    existing = db.session.scalar(
        select(Follow).where(Follow.prisoner_id == prisoner.id, Follow.email == address)
    )
    if existing is not None:
        return existing
    follow = Follow(prisoner=prisoner, email=address, token=new_tracking_token())
    db.session.add(follow)
    return follow


def find_follow(token: str) -> Follow | None:
    """The follow behind a one-click unfollow link, or None."""
    if not looks_like_token(token):
        return None
    return db.session.scalar(select(Follow).where(Follow.token == token))


def unfollow(follow: Follow) -> None:
    """Forget the address for this prisoner."""
    db.session.delete(follow)


def notify_followers_of_transfer(prisoner: Prisoner) -> int:
    """Queue a transfer alert to everyone who follows the prisoner; return how many.

    Call it in the transaction that records the transfer: the alerts are sent only if that
    commits. The name is in the body (the reader asked about this person), never the subject.
    """
    follows = db.session.scalars(
        select(Follow).where(Follow.prisoner_id == prisoner.id).order_by(Follow.id)
    ).all()
    prisoner_url = external_url("directory.prisoner", prisoner_id=prisoner.id)
    for follow in follows:
        queue_email(
            follow.email,
            "transfer_alert",
            {
                "prisoner_name": prisoner.full_name,
                "prisoner_latin_name": prisoner.latin_name,
                "in_transit": prisoner.current_facility is None,
                "prisoner_url": prisoner_url,
                "unfollow_url": external_url("mail.unfollow", token=follow.token),
            },
            _language(None),
        )
    return len(follows)


# --- weekly digest for organizers ----------------------------------------------------------


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
        queue_email(user.email, "digest", {**context, "name": user.name}, _language(None))
    return len(recipients)


# --- the outbox, for admins ------------------------------------------------------------------

OUTBOX_PAGE_SIZE = 50


@dataclass(frozen=True)
class OutboxPage(Page[OutboxMessage]):
    """One page of the outbox list and the number of messages in each status."""

    counts: dict[OutboxStatus, int]
    status: OutboxStatus | None


def list_outbox(actor: Actor, status: OutboxStatus | None, page: int = 1) -> OutboxPage:
    """Messages newest first, optionally of one status (admins only). Three queries per page."""
    require_admin(actor)
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    listed = paginate(query, page, OUTBOX_PAGE_SIZE, scalars=True)
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                OutboxMessage.status
            )
        ).all()
    )
    return OutboxPage(
        rows=listed.rows,
        page=listed.page,
        per_page=listed.per_page,
        total=listed.total,
        counts={member: counts.get(member, 0) for member in OutboxStatus},
        status=status,
    )


def requeue_message(actor: Actor, message_id: int) -> OutboxMessage | None:
    """Give a dead message a fresh set of attempts (admins only); None if there is none.

    The commit that follows sends it: the outbox hook enqueues delivery for re-queued rows.
    """
    require_admin(actor)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return None
    if message.status is not OutboxStatus.DEAD:
        raise DomainError("message", _l("Only messages that gave up can be queued again."))
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    return message
