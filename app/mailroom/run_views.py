"""Print-run pages of the mailroom: thin views over app.mailroom.runs."""

from __future__ import annotations

from datetime import date
from functools import partial

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields import DateField, SelectField, SubmitField

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import InputRequired

from app.auth.permissions import login_required, require_mailroom
from app.domain import DomainError, as_id
from app.edge import after_commit
from app.extensions import limiter
from app.forms import Form
from app.i18n import current_language
from app.mailroom import bp, runs
from app.mailroom.reference import format_reference
from app.mailroom.tasks import enqueue_run
from app.models import PrintRun, PrintRunKind
from app.refusals import flash_refusal
from app.security import pdf_limit
from app.stored_files import file_response


class StartRunForm(Form):
    """Starting a print run: its kind and envelopes; the letters are checkboxes of the page."""

    kind = SelectField(
        _l("Kind of run"),
        choices=[SelectChoice(kind.value, label) for kind, label in runs.KIND_LABELS.items()],
        default=PrintRunKind.PAPER.value,
    )
    envelope = SelectField(
        _l("Envelopes"),
        choices=[SelectChoice("dl", _l("DL (110 × 220 mm)")), SelectChoice("c5", _l("C5"))],
        default="dl",
    )
    all_approved = SubmitField(_l("Start a run with every approved letter"))
    chosen = SubmitField(_l("Start a run with the chosen letters"))


class PostedForm(Form):
    """The day a built run was posted."""

    posted_on = DateField(_l("Posted on"), validators=[InputRequired()], default=date.today)
    submit = SubmitField(_l("Mark the run posted"))


def _run_or_404(run_id: int) -> PrintRun:
    return runs.get_run(current_user, run_id) or abort(404)


@bp.get("/runs")
@login_required
def runs_index() -> str:
    """The runs, newest first, and the form to start one from the approved letters."""
    require_mailroom(current_user)
    waiting = runs.waiting_items()
    return render_template(
        "mailroom/runs.html",
        runs=runs.recent_runs(),
        waiting=waiting,
        fits=runs.fits,
        kinds=PrintRunKind,
        form=StartRunForm(),
        reference=format_reference,
        state_labels=runs.STATE_LABELS,
        percent=runs.progress_percent,
    )


@bp.post("/runs")
@login_required
def start_run() -> Response:
    """Start a run; it is built in the background, and its page shows how far it is."""
    require_mailroom(current_user)
    form = StartRunForm()
    if not form.validate():
        abort(400)
    kind = PrintRunKind(form.kind.data)
    item_ids = None
    if not form.all_approved.data:
        try:
            item_ids = [as_id(value) for value in request.form.getlist("letters")]
        except ValueError:
            abort(400)
    try:
        run = runs.start_run(current_user, kind, item_ids)
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("mailroom.runs_index"))
    # The consumer reads the run from the database: queue it once the run is committed.
    after_commit(partial(enqueue_run, run.id, form.envelope.data or "dl", current_language()))
    return redirect(url_for("mailroom.run_show", run_id=run.id))


@bp.get("/runs/<int:run_id>")
@login_required
def run_show(run_id: int) -> str:
    """One run: how far it is, its files, and when it was posted."""
    run = _run_or_404(run_id)
    return render_template(
        "mailroom/runs_show.html",
        run=run,
        items=runs.run_items(run),
        files={which: runs.run_file(run, which) for which in runs.FILES},
        failure=runs.failure_text(run),
        state_label=runs.STATE_LABELS[run.status],
        kind_label=runs.KIND_LABELS[run.kind],
        percent=runs.progress_percent(run),
        active=runs.is_active(run),
        posted_form=PostedForm(),
        reference=format_reference,
    )


@bp.get("/runs/<int:run_id>/status")
@login_required
def run_status(run_id: int) -> Response:
    """How far a run is, for its page to follow without reloading (as a drive's pack)."""
    run = _run_or_404(run_id)
    return jsonify(
        state=run.status.value,
        label=runs.STATE_LABELS[run.status],
        done=run.done,
        total=run.total,
        percent=runs.progress_percent(run),
        active=runs.is_active(run),
    )


@bp.get("/runs/<int:run_id>/<which>")
@login_required
@limiter.shared_limit(pdf_limit, scope="pdf")
def run_download(run_id: int, which: str) -> Response:
    """One of the run's files, once built and while kept (private, never cached)."""
    run = _run_or_404(run_id)
    stored = runs.run_file(run, which)
    if stored is None:
        abort(404)
    return file_response(stored, runs.file_name(run, which))


@bp.post("/runs/<int:run_id>/posted")
@login_required
def run_posted(run_id: int) -> Response:
    """Record "sent" on the day the run was posted, for every letter of it."""
    run = _run_or_404(run_id)
    form = PostedForm()
    if not form.validate() or form.posted_on.data is None:
        flash(_("Give the date the letters were posted."), "warning")
        return redirect(url_for("mailroom.run_show", run_id=run.id))
    try:
        count = runs.mark_posted(current_user, run, form.posted_on.data, date.today())
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("mailroom.run_show", run_id=run.id))
    flash(
        ngettext("%(num)d letter marked posted.", "%(num)d letters marked posted.", count),
        "success",
    )
    return redirect(url_for("mailroom.run_show", run_id=run.id))
