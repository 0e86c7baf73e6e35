"""Correcting and withdrawing a report on the tracking page: thin views over
app.tracking.corrections."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.domain import DomainError
from app.extensions import limiter
from app.models import Channel, EventKind, Letter, MailEvent
from app.refusals import flash_refusal, show_on_form
from app.security import public_write_limit
from app.tracking import bp, corrections, services
from app.tracking.forms import CorrectEventForm, WithdrawEventForm


def _letter_and_event(token: str, event_id: int) -> tuple[Letter, MailEvent]:
    letter = services.get_letter(token) or abort(404)
    return letter, corrections.find_event(letter, event_id) or abort(404)


def _timeline(token: str) -> str:
    return url_for("tracking.letter", token=token) + "#timeline"


def _correct_page(
    letter: Letter, event: MailEvent, form: CorrectEventForm, loose: list[str] | None = None
) -> str:
    return render_template(
        "tracking/correct_event.html",
        letter=letter,
        event=event,
        form=form,
        loose=loose or [],
        locked=corrections.made_by_organisation(letter, event),
        today=date.today(),
    )


@bp.get("/t/<token>/events/<int:event_id>/correct")
def correct_event_form(token: str, event_id: int) -> str:
    """The report's date and details, to correct."""
    letter, event = _letter_and_event(token, event_id)
    form = CorrectEventForm(formdata=None)
    form.happened_on.data = event.happened_on
    form.channel.data = event.channel.value if event.channel else Channel.POST.value
    form.tracking_number.data = event.tracking_number or ""
    form.extension_days.data = event.extension_days
    form.note.data = event.note
    return _correct_page(letter, event, form)


@bp.post("/t/<token>/events/<int:event_id>/correct")
@limiter.limit(public_write_limit)
def correct_event(token: str, event_id: int) -> Response | tuple[str, int]:
    """Save the correction; on a refusal, the form again with what was typed and why."""
    letter, event = _letter_and_event(token, event_id)
    form = CorrectEventForm()
    loose: list[str] = []
    if form.validate():
        assert form.happened_on.data is not None  # InputRequired
        change = corrections.EventChange(
            happened_on=form.happened_on.data,
            channel=Channel(form.channel.data) if form.channel.data else None,
            tracking_number=form.tracking_number.data or "",
            note=form.note.data or "",
            extension_days=form.extension_days.data,
            confirm_same_day=bool(form.confirm_same_day.data),
        )
        try:
            corrections.correct_event(letter, event, change, date.today())
        except DomainError as error:
            loose = show_on_form(form, error, aliases={"date": "happened_on"})
        else:
            flash(_("Your report was corrected."), "success")
            return redirect(_timeline(token))
    return _correct_page(letter, event, form, loose), 422


@bp.get("/t/<token>/events/<int:event_id>/withdraw")
def withdraw_event_form(token: str, event_id: int) -> str:
    """What withdrawing the report does, and the button to do it."""
    letter, event = _letter_and_event(token, event_id)
    return _withdraw_page(letter, event)


def _withdraw_page(letter: Letter, event: MailEvent) -> str:
    return render_template(
        "tracking/withdraw_event.html",
        letter=letter,
        event=event,
        form=WithdrawEventForm(),
        locked=corrections.made_by_organisation(letter, event),
        has_later=event.kind is EventKind.SENT and len(letter.events) > 1,
    )


@bp.post("/t/<token>/events/<int:event_id>/withdraw")
@limiter.limit(public_write_limit)
def withdraw_event(token: str, event_id: int) -> Response:
    """Delete the report; the letter's status and the statistics go back with it."""
    letter, event = _letter_and_event(token, event_id)
    if not WithdrawEventForm().validate():
        abort(400)
    try:
        corrections.withdraw_event(letter, event)
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("tracking.withdraw_event_form", token=token, event_id=event_id))
    flash(_("Your report was withdrawn."), "success")
    return redirect(_timeline(token))
