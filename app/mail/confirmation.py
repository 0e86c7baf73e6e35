"""Double opt-in for supporters' addresses (reminders to report back, transfer alerts).

An address typed into a form gets one content-neutral email with a single-use link, and
nothing else until its owner opens the link and presses the button: a stranger's address
typed by someone else receives one message that names nobody, and is deleted
OPTIN_CONFIRM_HOURS later. Only a keyed hash of the link's token is stored, and it is
cleared when the link is used.

This module keeps the state; app.mail.services writes the email.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.extensions import db
from app.models import Follow, OutboxMessage, ReminderSubscription
from app.tokens import keyed_hash, looks_like_token, new_tracking_token

Subscription = ReminderSubscription | Follow
PURPOSE = "confirm-address"


def confirm_hours() -> int:
    """How long a confirmation link works; unconfirmed addresses are deleted after it."""
    return int(current_app.config["OPTIN_CONFIRM_HOURS"])


def _to_the_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _cutoff(now: datetime) -> datetime:
    # The request time is kept to the hour (cut down, up to 59 minutes early), so a link is
    # honoured one hour more than it says: it works for at least the promised hours (and
    # at most one more), never fewer.
    return now - timedelta(hours=confirm_hours() + 1)


def start(subscription: Subscription, now: datetime) -> str:
    """Mark the address unconfirmed and return a new confirmation token (only its hash is
    kept: the token exists in the email alone). The time is kept to the hour."""
    token = new_tracking_token()
    subscription.confirmed_at = None
    subscription.confirm_token_hash = keyed_hash(token, PURPOSE)
    subscription.confirm_requested_at = _to_the_hour(now)
    return token


def find_unconfirmed(token: str, now: datetime) -> Subscription | None:
    """The subscription waiting for this confirmation link, or None (unknown, used, expired)."""
    if not looks_like_token(token):
        return None
    digest = keyed_hash(token, PURPOSE)
    for model in (ReminderSubscription, Follow):
        found = db.session.scalar(
            select(model).where(
                model.confirm_token_hash == digest,
                model.confirmed_at.is_(None),
                model.confirm_requested_at > _cutoff(now),
            )
        )
        if found is not None:
            # select() of a union of two model classes is typed as their common base.
            return cast(Subscription, found)
    return None


def confirm(subscription: Subscription, now: datetime) -> None:
    """The owner confirmed the address: mail may go to it, and the link stops working. The
    time is kept to the hour."""
    subscription.confirmed_at = _to_the_hour(now)
    subscription.confirm_token_hash = None


def _mail_of(model: type[Subscription]) -> InstrumentedAttribute[int | None]:
    return OutboxMessage.reminder_id if model is ReminderSubscription else OutboxMessage.follow_id


def forget_mail(subscription: Subscription) -> None:
    """Delete every outbox message written for this subscription, sent or not.

    Called before the address is deleted or replaced, so that no copy of it (nor of the
    links in those messages) stays in the outbox, and nothing more is sent to it.
    """
    if subscription.id is None:
        return  # not written yet, so no mail either
    db.session.execute(
        delete(OutboxMessage)
        .where(_mail_of(type(subscription)) == subscription.id)
        .execution_options(synchronize_session=False)
    )


def purge_unconfirmed(now: datetime) -> int:
    """Delete the addresses nobody confirmed in time, with their mail; return how many."""
    deleted = 0
    for model in (ReminderSubscription, Follow):
        expired = select(model.id).where(
            model.confirmed_at.is_(None),
            or_(model.confirm_requested_at.is_(None), model.confirm_requested_at <= _cutoff(now)),
        )
        ids = list(db.session.scalars(expired))
        if not ids:
            continue
        db.session.execute(
            delete(OutboxMessage)
            .where(_mail_of(model).in_(ids))
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
        )
        deleted += len(ids)
    return deleted
