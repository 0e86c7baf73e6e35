"""Tracking pages: thin views over app.tracking.services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.appeals.services import deadlines
from app.composer.length import print_limits
from app.directory.transfers import transfer_notice
from app.domain import DomainError
from app.extensions import limiter
from app.mail.forms import ReminderForm
from app.mail.services import reminder_for
from app.mailroom import services as mailroom
from app.mailroom.organisation import current_organisation, organisation_sender
from app.mailroom.reference import format_reference
from app.models import Channel, EventKind, Letter, MailroomItem, MailroomState
from app.pdf.bounded import RenderFailed, RenderTimeout
from app.pdf.render import SUPPORTED_ENVELOPES
from app.refusals import show_on_form
from app.security import pdf_limit, public_write_limit
from app.tracking import bp, corrections, printing, services
from app.tracking.erasure import erase_letter
from app.tracking.forms import (
    DeleteLetterForm,
    EventForm,
    PrintForm,
    ResubmitForm,
    TranslationNoteForm,
)
from app.translation import requests as translation


def _letter_or_404(token: str) -> Letter:
    return services.get_letter(token) or abort(404)


def _in_the_mailroom(item: MailroomItem | None) -> MailroomItem | None:
    """The item while the organisation prints and posts the letter (not once rejected)."""
    return item if item is not None and item.state is not MailroomState.REJECTED else None


def _mailroom_context(
    letter: Letter, item: MailroomItem | None, resubmit_form: ResubmitForm | None
) -> dict[str, object]:
    if item is None:
        return {"mailroom_item": None, "in_the_mailroom": False}
    if resubmit_form is None and item.state is MailroomState.SENT_BACK:
        resubmit_form = ResubmitForm(formdata=None)
        resubmit_form.body.data = letter.body.rstrip("\n")
    return {
        "mailroom_item": item,
        "reference": format_reference(item.reference),
        "organisation": current_organisation(),
        "queue_position": mailroom.queue_position(item),
        "writer_reason": mailroom.writer_reason(item, letter.token),
        "resubmissions_left": mailroom.resubmissions_left(item),
        "resubmit_form": resubmit_form,
        "in_the_mailroom": item.state in mailroom.IN_THE_MAILROOM,
    }


def _translation_context(
    letter: Letter, note_form: TranslationNoteForm | None
) -> dict[str, object]:
    found = translation.letter_translation(letter)
    if found is None:
        return {"translation": None}
    if note_form is None:
        note_form = TranslationNoteForm(formdata=None)
        note_form.note.data = translation.note_of(letter, found)
    return {
        "translation": found,
        "translation_state": translation.writer_state(found).value,
        "translation_text": translation.done_text(letter, found),
        "translation_organisation": current_organisation(),
        "note_form": note_form,
    }


def _page(
    letter: Letter,
    event_form: EventForm | None = None,
    print_form: PrintForm | None = None,
    resubmit_form: ResubmitForm | None = None,
    note_form: TranslationNoteForm | None = None,
) -> str:
    if print_form is None:
        print_form = PrintForm(formdata=None)
        print_form.sender_name.data = letter.signature
        if letter.sender_address:
            print_form.sender_address.data = letter.sender_address
            print_form.remember_address.data = True
    if event_form is None:
        event_form = EventForm(formdata=None, appeal=letter.is_appeal)
        event_form.kind.data = _suggested_next_kind(letter).value
        event_form.happened_on.data = date.today()
    return render_template(
        "tracking/letter.html",
        letter=letter,
        saved=request.args.get("saved") == "1",
        print_form=print_form,
        event_form=event_form,
        delays=services.delays(letter),
        organisation_events={
            event.id for event in letter.events if corrections.made_by_organisation(letter, event)
        },
        destination=services.destination(letter),
        transfer=transfer_notice(letter),
        deadlines=deadlines(letter, current_app.config["APPEAL_DELIVERY_DAYS"]),
        reminder=ReminderForm(formdata=None),
        subscription=reminder_for(letter),
        today=date.today(),
        **_mailroom_context(letter, mailroom.item_for(letter), resubmit_form),
        **_translation_context(letter, note_form),
    )


def _suggested_next_kind(letter: Letter) -> EventKind:
    if letter.first_event(EventKind.SENT) is None:
        return EventKind.SENT
    if letter.first_event(EventKind.ARRIVED) is None:
        return EventKind.ARRIVED
    return EventKind.REPLY


@bp.get("/t/<token>")
def letter(token: str) -> str:
    """The letter, its timeline, print options and the report form."""
    return _page(_letter_or_404(token))


@bp.post("/t/<token>/events")
@limiter.limit(public_write_limit)
def report(token: str) -> Response | tuple[str, int]:
    """Record what happened to the letter; on a refusal, keep what was typed."""
    found = _letter_or_404(token)
    form = EventForm(appeal=found.is_appeal)
    if form.validate():
        happened_on = form.happened_on.data
        assert happened_on is not None  # InputRequired: a valid form has its date
        report = services.EventInput(
            kind=EventKind(form.kind.data),
            happened_on=happened_on,
            channel=Channel(form.channel.data) if form.channel.data else None,
            tracking_number=form.tracking_number.data or "",
            note=form.note.data or "",
            extension_days=form.extension_days.data,
            confirm_same_day=bool(form.confirm_same_day.data),
        )
        try:
            services.record_event(found, report, date.today())
        except DomainError as error:
            show_on_form(form, error, aliases={"date": "happened_on"})
        else:
            flash(_("Thank you. Your report was recorded."), "success")
            return redirect(url_for("tracking.letter", token=token) + "#timeline")
    return _page(found, event_form=form), 422


def _pdf_response(
    letter: Letter, envelope_size: str, sender_name: str, sender_address: str, country: str
) -> Response | tuple[str, int, dict[str, str]]:
    reference = ""
    item = _in_the_mailroom(mailroom.item_for(letter))
    if item is not None:
        # The organisation posts it: its code on the letter, its address on the envelope.
        reference = format_reference(item.reference)
        sender = organisation_sender()
        sender_name, sender_address, country = sender.name, sender.address, sender.country
    try:
        pdf = printing.letter_pdf(
            letter, envelope_size, sender_name, sender_address, country, print_limits(), reference
        )
    except DomainError as error:
        return _pdf_refused(letter, error.message, 422)
    except (RenderTimeout, RenderFailed) as error:
        current_app.logger.warning("a letter's PDF could not be made (%s); answered 503", error)
        message = _(
            "The PDF could not be made in time. Please try again in a minute, or choose "
            "“No envelope, letter only”."
        )
        return _pdf_refused(letter, message, 503)
    response = current_app.response_class(pdf, mimetype="application/pdf")
    # A neutral file name: nothing in it says who the letter is to or from.
    response.headers["Content-Disposition"] = 'inline; filename="konvert-letter.pdf"'
    return response


def _pdf_refused(letter: Letter, message: str, status: int) -> tuple[str, int, dict[str, str]]:
    headers = {"Retry-After": "60"} if status == 503 else {}
    page = render_template("tracking/pdf_refused.html", letter=letter, message=message)
    return page, status, headers


@bp.get("/t/<token>/pdf")
@limiter.shared_limit(pdf_limit, scope="pdf")
def pdf(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """The letter and an envelope (?envelope=dl|c5|none), sender lines blank to fill by hand.

    An appeal uses the applicant's name and, if they asked Konvert to keep it, their address.
    """
    found = _letter_or_404(token)
    size = request.args.get("envelope", "dl")
    if size not in (*SUPPORTED_ENVELOPES, "none"):
        abort(400)
    if found.is_appeal:
        return _pdf_response(found, size, found.signature, found.sender_address or "", "")
    return _pdf_response(found, size, "", "", "")


@bp.post("/t/<token>/pdf")
@limiter.limit(public_write_limit)
@limiter.shared_limit(pdf_limit, scope="pdf")
def pdf_with_sender(token: str) -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The letter and an envelope with the sender's typed return address.

    The address is not stored, except for an appeal whose applicant ticked "keep".
    """
    found = _letter_or_404(token)
    form = PrintForm()
    if not form.validate():
        return _page(found, print_form=form), 422
    address = form.sender_address.data or ""
    if found.is_appeal:
        services.remember_applicant_address(found, address, bool(form.remember_address.data))
    return _pdf_response(
        found,
        form.envelope.data or "dl",
        form.sender_name.data or "",
        address,
        form.sender_country.data or "",
    )


@bp.post("/t/<token>/resubmit")
@limiter.limit(public_write_limit)
def resubmit(token: str) -> Response | tuple[str, int]:
    """A letter the mailroom sent back, edited by its writer: to review again."""
    found = _letter_or_404(token)
    item = mailroom.item_for(found) or abort(404)
    form = ResubmitForm()
    return _writer_change(
        form,
        lambda: mailroom.resubmit(found, item, form.body.data or ""),
        _("Thank you. Your letter is waiting for review again."),
        url_for("tracking.letter", token=token) + "#mailroom",
        lambda: _page(found, resubmit_form=form),
    )


def _writer_change(
    form: FlaskForm,
    change: Callable[[], None],
    done: str,
    then: str,
    page: Callable[[], str],
    aliases: dict[str, str] | None = None,
) -> Response | tuple[str, int]:
    """A change the writer asks for on the tracking page: made and flashed as ``done``
    (then to ``then``), or the page again with what was typed and why it was refused."""
    if form.validate():
        try:
            change()
        except DomainError as error:
            show_on_form(form, error, aliases=aliases)
        else:
            flash(done, "success")
            return redirect(then)
    return page(), 422


@bp.post("/t/<token>/translation/note")
@limiter.limit(public_write_limit)
def translation_note(token: str) -> Response | tuple[str, int]:
    """The writer adds or replaces their note to the translator, while it is translated."""
    found = _letter_or_404(token)
    asked = translation.letter_translation(found) or abort(404)
    form = TranslationNoteForm()
    return _writer_change(
        form,
        lambda: translation.set_note(found, asked, form.note.data or ""),
        _("Your note to the translator was saved."),
        url_for("tracking.letter", token=token) + "#translation",
        lambda: _page(found, note_form=form),
        aliases={"translator_note": "note"},
    )


@bp.get("/t/<token>/delete")
def confirm_delete(token: str) -> str:
    """What deleting the letter removes and what it keeps, and the button to do it."""
    return render_template(
        "tracking/delete.html", letter=_letter_or_404(token), form=DeleteLetterForm()
    )


@bp.post("/t/<token>/delete")
@limiter.limit(public_write_limit)
def delete(token: str) -> Response:
    """Delete everything tied to the link; only the anonymous outcome stays."""
    found = _letter_or_404(token)
    if not DeleteLetterForm().validate():
        abort(400)
    erase_letter(found)
    flash(_("Your letter was deleted. Its link opens nothing any more."), "success")
    return redirect(url_for("main.index"))


# The replies' download route, and correcting or withdrawing reports on the page and in the API.
from app.tracking import api, replies, report_changes  # noqa: E402, F401
