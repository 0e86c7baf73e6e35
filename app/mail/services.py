"""Writing emails into the outbox, in the same transaction as whatever caused them."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import selectinload

from app.database import forget_freed_pages
from app.domain import DomainError
from app.edge import after_commit
from app.extensions import db
from app.mail import confirmation
from app.mail.confirmation import Subscription, forget_mail
from app.models import (
    EventKind,
    Follow,
    Letter,
    MailEvent,
    OutboxMessage,
    Prisoner,
    ReminderSubscription,
)
from app.models.base import utcnow
from app.models.mail import follow_address_hash, follow_link_hash, reminder_link_hash
from app.tokens import looks_like_token, new_tracking_token

# Content-neutral subjects: no prisoner names, nothing that says what the letter was about.
SUBJECTS = {
    "confirm_address": _l("Confirm your email address"),
    "invitation": _l("Your invitation to Konvert"),
    "password_reset": _l("Reset your Konvert password"),
    "login_link": _l("Log in to Konvert"),
    "drive_invitation": _l("A letter-writing evening"),
    "reminder": _l("A reminder from Konvert"),
    "transfer_alert": _l("An update from Konvert"),
    "digest": _l("Your weekly Konvert summary"),
    "letter_news": _l("There is news about your letter"),
    "translation_digest": _l("Translations waiting at the desk"),
}
_HEADER_BREAK = re.compile(r"[\r\n]")
_EMAIL = re.compile(r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+$")


class MailError(ValueError):
    """An address or subject that must not be sent (e.g. header injection)."""


def valid_address(address: str) -> bool:
    """A single plain address, no display name, no line breaks."""
    return bool(_EMAIL.match(address)) and not _HEADER_BREAK.search(address)


def queue_email(
    recipient: str,
    kind: str,
    context: dict[str, Any],
    language: str = "en",
    *,
    unsubscribe_url: str | None = None,
) -> OutboxMessage:
    """Render templates/emails/<kind>.txt and .html and add the message to the outbox.

    ``unsubscribe_url``: the link in the message that ends what it belongs to; it is also
    given in the List-Unsubscribe headers, so that mail programs offer it as one click (RFC
    8058: they POST ``List-Unsubscribe=One-Click`` to it).
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
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        unsubscribe_url=unsubscribe_url or "",
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


def email_language(code: str | None) -> str:
    """A language the emails exist in: ``code`` if supported, else the default."""
    if code in current_app.config["LANGUAGES"]:
        return str(code)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _checked_address(email: str) -> str:
    address = email.strip()
    if len(address) > 254 or not valid_address(address):
        raise DomainError("email", _l("Enter one email address, like name@example.org."))
    return address


def _tie(message: OutboxMessage, subscription: Subscription) -> None:
    """Link a message to the subscription it is for: deleting the address deletes it."""
    if isinstance(subscription, ReminderSubscription):
        message.reminder = subscription
    else:
        message.follow = subscription


def _ask_to_confirm(subscription: Subscription, language: str) -> None:
    """Queue the one email an address gets before its owner confirms it.

    It names nobody and says nothing of a letter: it may reach a stranger whose address
    someone else typed. What is being confirmed is said on the page the link opens.
    """
    token = confirmation.start(subscription, utcnow())
    message = queue_email(
        subscription.email,
        "confirm_address",
        {
            "confirm_url": external_url("mail.confirm_address", token=token),
            "hours": confirmation.confirm_hours(),
        },
        email_language(language),
    )
    _tie(message, subscription)


def find_unconfirmed(token: str) -> Subscription | None:
    """The subscription behind a confirmation link that still works, or None."""
    return confirmation.find_unconfirmed(token, utcnow())


def confirm_address(subscription: Subscription) -> None:
    """The owner of the address confirmed it: reminders or alerts may now go to it."""
    confirmation.confirm(subscription, utcnow())


# --- reminders to report back ----------------------------------------------------------------


def reminder_for(letter: Letter) -> ReminderSubscription | None:
    """The reminder subscription of a letter, if its writer left an email."""
    return db.session.scalar(
        select(ReminderSubscription).where(ReminderSubscription.letter_id == letter.id)
    )


def subscribe_to_reminders(
    letter: Letter, email: str, language: str = "en"
) -> ReminderSubscription:
    """Keep an email (apart from the letter) to remind its writer to report back, once its
    owner confirms it: until then it gets one confirmation email (in ``language``) and nothing
    else. ``letter`` must be unlocked by its link (the request that presents it): the
    subscription keeps that link, encrypted with the instance key, for the reminders.

    A second subscription with another address replaces the address, which must then be
    confirmed in its turn; the mail to the old one is deleted. The delete token stays, so the
    links in mails already sent keep working. The same address again changes nothing and
    sends nothing: it is confirmed, or its one confirmation email went already.
    """
    address = _checked_address(email)
    subscription = reminder_for(letter)
    if subscription is not None and subscription.email.lower() == address.lower():
        return subscription
    if subscription is None:
        subscription = ReminderSubscription.made(
            letter_id=letter.id,
            letter_token=letter.token,
            token=new_tracking_token(),
            email=address,
        )
        db.session.add(subscription)
    else:
        forget_mail(subscription)
        subscription.email = address
    _ask_to_confirm(subscription, language)
    return subscription


def find_reminder(token: str) -> ReminderSubscription | None:
    """The subscription behind a one-click delete link, or None."""
    if not looks_like_token(token):
        return None
    return db.session.scalar(
        select(ReminderSubscription).where(
            ReminderSubscription.token_hash == reminder_link_hash(token)
        )
    )


def delete_reminder(subscription: ReminderSubscription) -> None:
    """Forget the address: the row and every message written to it go, nothing is kept."""
    forget_mail(subscription)
    db.session.delete(subscription)
    after_commit(forget_freed_pages)


def send_due_reminders(today: date) -> int:
    """Queue the reminders that are due today; return how many.

    A reminder is due REMINDER_DAYS (14, then 45) days after the letter was reported sent when
    nothing else was reported since. Each goes once: the reminded_* column is claimed by an
    UPDATE that only succeeds while it is still empty, in the same transaction as the email,
    so two consumers running this at once cannot both send it. A subscription first seen past
    the second date gets one reminder, not two at once.

    The last reminder deletes its subscription in the same transaction: from then on the
    server keeps neither the address nor the letter's link (the queued message holds them,
    encrypted, until it is sent). That message is not tied to the subscription, which it
    outlives by the moments until delivery, and it has no delete link: nothing is left to
    delete.
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
            ReminderSubscription.confirmed_at.is_not(None),
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
        final = age >= second_days
        _write_to_writer(
            subscription,
            "reminder",
            {"days": age, "sent_on": sent_date, "is_appeal": letter.is_appeal, "final": final},
            final=final,
        )
        queued += 1
    return queued


def _write_to_writer(
    subscription: ReminderSubscription, kind: str, context: dict[str, Any], *, final: bool
) -> None:
    """Queue an email about a letter to the address its writer left, with the letter's link
    and, unless it is the ``final`` one, the link that deletes the address. The final one
    deletes the subscription in the same transaction: the message, untied and without a
    delete link, keeps the address and the letter's link (encrypted) only until it is sent.
    """
    delete_url = (
        None if final else external_url("mail.unsubscribe_reminder", token=subscription.token)
    )
    message = queue_email(
        subscription.email,
        kind,
        {
            **context,
            "tracking_url": external_url("tracking.letter", token=subscription.letter_token),
            "delete_url": delete_url,
        },
        email_language(subscription.letter.language),
        unsubscribe_url=delete_url,
    )
    if final:
        delete_reminder(subscription)
    else:
        _tie(message, subscription)


def queue_letter_news(letter: Letter, *, final: bool = False) -> bool:
    """Tell the writer who left (and confirmed) an email for this letter that there is news,
    and nothing more: "There is news about your letter. Open your link." with the link.

    Returns False when there is nobody to tell. ``final``: the story ends with this news
    (the letter was refused or came back): the address is deleted with it, as with the last
    reminder.
    """
    subscription = reminder_for(letter)
    if subscription is None or not subscription.confirmed:
        return False
    _write_to_writer(subscription, "letter_news", {}, final=final)
    return True


# --- transfer alerts -------------------------------------------------------------------------


def follow_prisoner(prisoner: Prisoner, email: str, language: str = "en") -> Follow:
    """Ask to be told when this prisoner is transferred (double opt-in).

    The address gets one confirmation email (in ``language``) that names nobody, and no alert
    until its owner confirms. Following twice with one address keeps one row and sends
    nothing more; the page answers the same either way, so nobody learns whether an address
    already follows someone.
    """
    address = _checked_address(email)
    existing = db.session.scalar(
        select(Follow).where(
            Follow.prisoner_id == prisoner.id,
            Follow.address_hash == follow_address_hash(prisoner.id, address),
        )
    )
    if existing is not None:
        return existing
    follow = Follow.made(prisoner_id=prisoner.id, token=new_tracking_token(), email=address)
    db.session.add(follow)
    _ask_to_confirm(follow, language)
    return follow


def find_follow(token: str) -> Follow | None:
    """The follow behind a one-click unfollow link, or None."""
    if not looks_like_token(token):
        return None
    return db.session.scalar(select(Follow).where(Follow.token_hash == follow_link_hash(token)))


def unfollow(follow: Follow) -> None:
    """Forget the address for this prisoner, and every message written to it."""
    forget_mail(follow)
    db.session.delete(follow)
    after_commit(forget_freed_pages)


def notify_followers_of_transfer(prisoner: Prisoner) -> int:
    """Queue a transfer alert to everyone who follows the prisoner and confirmed their
    address; return how many.

    Call it in the transaction that records the transfer: the alerts are sent only if that
    commits. The name is in the body (the reader asked about this person), never the subject.
    """
    follows = db.session.scalars(
        select(Follow)
        .where(Follow.prisoner_id == prisoner.id, Follow.confirmed_at.is_not(None))
        .order_by(Follow.id)
    ).all()
    prisoner_url = external_url("directory.prisoner", prisoner_id=prisoner.id)
    for follow in follows:
        unfollow_url = external_url("mail.unfollow", token=follow.token)
        message = queue_email(
            follow.email,
            "transfer_alert",
            {
                "prisoner_name": prisoner.full_name,
                "prisoner_latin_name": prisoner.latin_name,
                "in_transit": prisoner.current_facility is None,
                "prisoner_url": prisoner_url,
                "unfollow_url": unfollow_url,
            },
            email_language(None),
            unsubscribe_url=unfollow_url,
        )
        _tie(message, follow)
    return len(follows)
