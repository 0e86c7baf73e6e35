"""Tracking pages: thin views over app.tracking.services."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.extensions import db, limiter
from app.models import Channel, EventKind, Letter
from app.pdf.render import SUPPORTED_ENVELOPES, render_letter_pdf
from app.tracking import bp, services
from app.tracking.forms import EventForm, PrintForm


def _public_write_limit() -> str:
    return str(current_app.config["RATELIMIT_PUBLIC_WRITES"])


def _letter_or_404(token: str) -> Letter:
    return services.get_letter(token) or abort(404)


def _page(
    letter: Letter, event_form: EventForm | None = None, print_form: PrintForm | None = None
) -> str:
    print_form = print_form or PrintForm(formdata=None)
    if not print_form.sender_name.data:
        print_form.sender_name.data = letter.signature
    if event_form is None:
        event_form = EventForm()
        event_form.kind.data = _suggested_next_kind(letter).value
        event_form.happened_on.data = date.today()
    return render_template(
        "tracking/letter.html",
        letter=letter,
        saved=request.args.get("saved") == "1",
        print_form=print_form,
        event_form=event_form,
        delays=services.delays(letter),
        destination=services.destination(letter),
        today_iso=date.today().isoformat(),
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
@limiter.limit(_public_write_limit)
def report(token: str) -> Response | tuple[str, int]:
    """Record what happened to the letter; on a refusal, keep what was typed."""
    found = _letter_or_404(token)
    form = EventForm()
    if form.validate():
        report = services.EventInput(
            kind=EventKind(form.kind.data),
            happened_on=form.happened_on.data,
            channel=Channel(form.channel.data) if form.channel.data else None,
            tracking_number=form.tracking_number.data or "",
            note=form.note.data or "",
        )
        try:
            services.record_event(found, report, date.today())
        except services.EventRejected as error:
            field = {"date": form.happened_on}.get(error.field) or getattr(form, error.field)
            field.errors = [*field.errors, error.message]
        else:
            db.session.commit()
            flash(_("Thank you. Your report was recorded."), "success")
            return redirect(url_for("tracking.letter", token=token) + "#timeline")
    db.session.rollback()
    return _page(found, event_form=form), 422


def _pdf_response(letter: Letter, envelope_size: str, form: PrintForm | None) -> Response:
    envelope = None
    if envelope_size != "none":
        envelope = services.envelope_document(
            letter,
            envelope_size,
            sender_name=(form.sender_name.data or "") if form else "",
            sender_address=(form.sender_address.data or "") if form else "",
            sender_country=(form.sender_country.data or "") if form else "",
        )
    pdf = render_letter_pdf(services.letter_document(letter), envelope)
    response = current_app.response_class(pdf, mimetype="application/pdf")
    # A neutral file name: nothing in it says who the letter is to or from.
    response.headers["Content-Disposition"] = 'inline; filename="konvert-letter.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/t/<token>/pdf")
def pdf(token: str) -> Response:
    """The letter and an envelope with blank sender lines (?envelope=dl|c5|none)."""
    found = _letter_or_404(token)
    size = request.args.get("envelope", "dl")
    if size not in (*SUPPORTED_ENVELOPES, "none"):
        abort(400)
    return _pdf_response(found, size, None)


@bp.post("/t/<token>/pdf")
@limiter.limit(_public_write_limit)
def pdf_with_sender(token: str) -> Response | tuple[str, int]:
    """The letter and an envelope with the sender's typed return address (not stored)."""
    found = _letter_or_404(token)
    form = PrintForm()
    if not form.validate():
        return _page(found, print_form=form), 422
    return _pdf_response(found, form.envelope.data or "dl", form)
