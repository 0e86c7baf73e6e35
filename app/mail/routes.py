"""The outbox for admins, and the supporters' opt-ins: confirmed by a link in one email
(double opt-in), removed with one click.

Thin views over app.mail.services and app.mail.outbox.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import login_required
from app.directory.services import get_prisoner, parse_page
from app.domain import DomainError
from app.extensions import limiter
from app.i18n import current_language
from app.mail import bp, services
from app.mail import outbox as outbox_admin
from app.mail.confirmation import Subscription, confirm_hours
from app.mail.forms import ConfirmAddressForm, ConfirmForm, FollowForm, ReminderForm, RequeueForm
from app.mail.one_click import accepts_one_click, confirmed
from app.mailroom.services import item_for
from app.models import Letter, OutboxStatus, Prisoner, ReminderSubscription
from app.refusals import flash_refusal, show_on_form
from app.security import public_write_limit
from app.tokens import keyed_hash
from app.tracking.services import get_letter

# --- rate limits on opt-ins ----------------------------------------------------------------------
# Each opt-in sends a confirmation email, so they are counted per address (across reminders
# and follows: nobody can flood a stranger's mailbox) and per prisoner (nobody can subscribe a
# list of addresses to one person), besides the limit on every public write. Only opt-ins
# that were stored count: typing mistakes cost nothing.


def _optin_address_limit() -> str:
    return str(current_app.config["RATELIMIT_OPTIN_ADDRESS"])


def _optin_prisoner_limit() -> str:
    return str(current_app.config["RATELIMIT_OPTIN_PRISONER"])


def _address_key() -> str:
    # A keyed hash of the address: the limiter's storage never holds an address.
    address = (request.form.get("email") or "").strip().lower()
    return "optin-address:" + keyed_hash(address, "ratelimit-optin")


def _prisoner_key() -> str:
    return f"optin-prisoner:{(request.view_args or {}).get('prisoner_id')}"


def _stored(response: Response) -> bool:
    return response.status_code in (302, 303)


def _confirmation_sent_notice() -> str:
    hours = confirm_hours()
    return ngettext(
        "Check your mailbox: Konvert sent a link to confirm this address. Nothing else will "
        "be sent to it until the link is opened and its button pressed; an address not "
        "confirmed within %(num)d hour is deleted.",
        "Check your mailbox: Konvert sent a link to confirm this address. Nothing else will "
        "be sent to it until the link is opened and its button pressed; an address not "
        "confirmed within %(num)d hours is deleted.",
        hours,
    )


# --- admins: the outbox ------------------------------------------------------------------------


@bp.get("/admin/outbox")
@login_required
def outbox() -> str:
    """Messages with their status, attempts and last error; ?status=pending|sent|dead."""
    raw_status = request.args.get("status", "")
    status = OutboxStatus(raw_status) if raw_status in set(OutboxStatus) else None
    try:
        page = parse_page(request.args.get("page"))
    except DomainError:
        abort(400)
    listing = outbox_admin.list_outbox(current_user, status, page)
    return render_template(
        "mail/outbox.html",
        listing=listing,
        requeue_form=RequeueForm(),
        dead_keep_days=int(current_app.config["OUTBOX_DEAD_KEEP_DAYS"]),
    )


@bp.post("/admin/outbox/<int:message_id>/requeue")
@login_required
def requeue(message_id: int) -> Response:
    """Give a dead message a fresh set of attempts; it is sent right after the commit."""
    form = RequeueForm()
    if not form.validate():
        abort(400)
    try:
        message = outbox_admin.requeue_message(current_user, message_id)
    except DomainError as error:
        flash_refusal(error)
    else:
        if message is None:
            abort(404)
        flash(_("The message is queued again."), "success")
    return redirect(url_for("mail.outbox", status=request.args.get("status") or None))


# --- supporters: reminders to report back ---------------------------------------------------


def _letter_or_404(token: str) -> Letter:
    return get_letter(token) or abort(404)


def _reminder_page(letter: Letter, form: ReminderForm, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "mail/reminders.html",
            letter=letter,
            form=form,
            subscription=services.reminder_for(letter),
            # A letter sent through the organisation: its writer hears of news too.
            news=item_for(letter) is not None,
        ),
        status,
    )


@bp.get("/t/<token>/reminders")
def reminders(token: str) -> tuple[str, int]:
    """The reminder form on a page of its own (the tracking page embeds the same form)."""
    return _reminder_page(_letter_or_404(token), ReminderForm(formdata=None))


@bp.post("/t/<token>/reminders")
@limiter.limit(public_write_limit)
@limiter.shared_limit(
    _optin_address_limit, scope="optin-address", key_func=_address_key, deduct_when=_stored
)
def subscribe_reminders(token: str) -> Response | tuple[str, int]:
    """Keep an email, apart from the letter, to remind its writer to report back, once the
    address is confirmed through the link mailed to it."""
    letter = _letter_or_404(token)
    form = ReminderForm()
    if form.validate():
        try:
            subscription = services.subscribe_to_reminders(
                letter, form.email.data or "", current_language()
            )
        except DomainError as error:
            show_on_form(form, error)
        else:
            if subscription.confirmed:
                flash(
                    _(
                        "Done: Konvert will remind you if there is no news 14 and 45 days "
                        "after the letter was sent. Each reminder has a link that deletes "
                        "your address at once; the link below does the same."
                    ),
                    "success",
                )
            else:
                flash(_confirmation_sent_notice(), "success")
            return redirect(url_for("mail.reminders", token=token))
    return _reminder_page(letter, form, 422)


# Deleting an address takes a POST. Mail scanners and link previews open (GET) every link in
# a message: if GET deleted, a subscription would vanish before its owner ever clicked. So
# GET only shows the button, which deletes with one click.


@bp.get("/unsubscribe/reminder/<token>")
def unsubscribe_reminder(token: str) -> tuple[str, int]:
    """Ask to confirm deleting the address (changes nothing)."""
    if services.find_reminder(token) is None:
        return render_template("mail/link_gone.html"), 404
    return render_template("mail/confirm_delete.html", what="reminder", form=ConfirmForm()), 200


@bp.post("/unsubscribe/reminder/<token>")
@limiter.limit(public_write_limit)
@accepts_one_click
def delete_reminder(token: str) -> tuple[str, int]:
    """Delete the reminder subscription: the address is gone (the page's button, or one click
    in the mail program)."""
    if not confirmed(ConfirmForm()):
        abort(400)
    subscription = services.find_reminder(token)
    if subscription is None:
        return render_template("mail/link_gone.html"), 404
    services.delete_reminder(subscription)
    return render_template("mail/deleted.html", what="reminder"), 200


# --- supporters: transfer alerts -----------------------------------------------------------


def _prisoner_or_404(prisoner_id: int) -> Prisoner:
    return get_prisoner(prisoner_id) or abort(404)


@bp.get("/prisoners/<int:prisoner_id>/follow")
def follow_form(prisoner_id: int) -> str:
    """The follow form on a page of its own (the prisoner's page embeds the same form)."""
    prisoner = _prisoner_or_404(prisoner_id)
    return render_template("mail/follow.html", prisoner=prisoner, form=FollowForm(formdata=None))


@bp.post("/prisoners/<int:prisoner_id>/follow")
@limiter.limit(public_write_limit)
@limiter.shared_limit(
    _optin_address_limit, scope="optin-address", key_func=_address_key, deduct_when=_stored
)
@limiter.limit(_optin_prisoner_limit, key_func=_prisoner_key, deduct_when=_stored)
def follow(prisoner_id: int) -> Response | tuple[str, int]:
    """Keep an email to tell when this prisoner is transferred, once the address is confirmed
    through the link mailed to it."""
    prisoner = _prisoner_or_404(prisoner_id)
    form = FollowForm()
    if form.validate():
        try:
            services.follow_prisoner(prisoner, form.email.data or "", current_language())
        except DomainError as error:
            show_on_form(form, error)
        else:
            # The same answer whether the address followed this person already (confirmed or
            # not) or not: the page must not tell who follows whom.
            flash(_confirmation_sent_notice(), "success")
            return redirect(url_for("directory.prisoner", prisoner_id=prisoner.id))
    return render_template("mail/follow.html", prisoner=prisoner, form=form), 422


@bp.get("/unfollow/<token>")
def unfollow(token: str) -> tuple[str, int]:
    """Ask to confirm deleting the address (changes nothing; see above)."""
    if services.find_follow(token) is None:
        return render_template("mail/link_gone.html"), 404
    return render_template("mail/confirm_delete.html", what="follow", form=ConfirmForm()), 200


@bp.post("/unfollow/<token>")
@limiter.limit(public_write_limit)
@accepts_one_click
def delete_follow(token: str) -> tuple[str, int]:
    """Stop the transfer alerts: the address is gone (the page's button, or one click in the
    mail program)."""
    if not confirmed(ConfirmForm()):
        abort(400)
    found = services.find_follow(token)
    if found is None:
        return render_template("mail/link_gone.html"), 404
    services.unfollow(found)
    return render_template("mail/deleted.html", what="follow"), 200


# --- supporters: confirming an address -----------------------------------------------------------
# Like deleting, confirming takes a POST behind a page with a button: a mail scanner that opens
# every link must not confirm an address its owner never saw.


def _what(subscription: Subscription) -> str:
    return "reminder" if isinstance(subscription, ReminderSubscription) else "follow"


def _confirmation_gone() -> tuple[str, int]:
    return render_template("mail/confirm_gone.html", hours=confirm_hours()), 404


@bp.get("/confirm/<token>")
def confirm_address(token: str) -> tuple[str, int]:
    """Say what the address would receive, with a button to confirm it (changes nothing)."""
    subscription = services.find_unconfirmed(token)
    if subscription is None:
        return _confirmation_gone()
    return render_template(
        "mail/confirm_address.html",
        what=_what(subscription),
        subscription=subscription,
        hours=confirm_hours(),
        form=ConfirmAddressForm(),
    ), 200


@bp.post("/confirm/<token>")
@limiter.limit(public_write_limit)
def confirm_address_now(token: str) -> tuple[str, int]:
    """Confirm the address: from now on it gets the reminders or alerts it asked for."""
    form = ConfirmAddressForm()
    if not form.validate():
        abort(400)
    subscription = services.find_unconfirmed(token)
    if subscription is None:
        return _confirmation_gone()
    services.confirm_address(subscription)
    return render_template(
        "mail/confirmed.html", what=_what(subscription), subscription=subscription
    ), 200
