"""Pages of the mailroom's incoming post: uploading a reply's scan, the holding pen, and
recording a returned envelope. Thin views over app.mailroom.incoming."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app.auth.permissions import login_required, require_mailroom
from app.domain import DomainError
from app.extensions import db
from app.mailroom import bp, incoming, returns
from app.mailroom.incoming_forms import (
    ChoosePrisonerForm,
    GiveUpForm,
    MatchForm,
    ReplyForm,
    ReturnForm,
)
from app.mailroom.scans import MAX_TOTAL_BYTES, ScanPage
from app.models import IncomingMail, ReturnReason, StoredFile
from app.refusals import flash_refusal, show_on_form
from app.stored_files import file_response

#: Room for a whole scan and the form around it; other pages keep the usual limit.
UPLOAD_LIMIT = MAX_TOTAL_BYTES + 1024 * 1024
UPLOAD_ENDPOINTS = frozenset({"mailroom.new_reply"})

Page = str | tuple[str, int] | Response


@bp.url_value_preprocessor
def _allow_scans(endpoint: str | None, _values: dict[str, object] | None) -> None:
    """Let the scan upload be as large as a scan may be. It runs before every before-request
    check (the input guard and CSRF read the form, and so the body), hence here."""
    if endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = UPLOAD_LIMIT


def scan_pages(files: Sequence[object]) -> list[ScanPage]:
    """The uploaded files as the scan service takes them. Files left empty are skipped, and so
    is a ``scan`` sent as a plain form field instead of a file (a script's mistake, or a
    forged request): it holds no page."""
    return [
        ScanPage(name=(upload.filename or "scan")[-100:], content=upload.read())
        for upload in files
        if isinstance(upload, FileStorage) and upload.filename
    ]


def _prisoner_choices(form: ReplyForm, today: date) -> None:
    form.prisoner_id.choices = [("", _("Not known"))] + [
        (str(prisoner.id), prisoner.full_name) for prisoner in incoming.prisoners_in_window(today)
    ]


@bp.route("/replies/new", methods=["GET", "POST"])
@login_required
def new_reply() -> Page:
    """Upload the scan of a reply, with its code when the prisoner wrote one."""
    require_mailroom(current_user)
    today = date.today()
    form = ReplyForm()
    _prisoner_choices(form, today)
    if request.method == "GET":
        form.received_on.data = today
        return render_template("mailroom/incoming_reply.html", form=form, today=today)
    loose: list[str] = []
    if form.validate():
        assert form.received_on.data is not None  # InputRequired
        reply = incoming.ReplyInput(
            files=scan_pages(form.scan.data or []),
            received_on=form.received_on.data,
            reference=form.reference.data or "",
            prisoner_id=int(form.prisoner_id.data) if form.prisoner_id.data else None,
        )
        try:
            result = incoming.receive_reply(current_user, reply, today)
        except DomainError as error:
            loose = show_on_form(form, error)
        else:
            return _after_reply(result)
    page = render_template("mailroom/incoming_reply.html", form=form, today=today, loose=loose)
    return page, 422


def _after_reply(result: incoming.ReplyResult) -> Response:
    if result.held_because is None:
        flash(
            _(
                "Matched to the letter %(reference)s: its writer can now open the scan "
                "through their link, and the organisation's copy was deleted.",
                reference=incoming.reference_of(result.incoming),
            ),
            "success",
        )
        return redirect(url_for("mailroom.new_reply"))
    flash(
        _(
            "The reply went to the holding pen: %(reason)s",
            reason=incoming.hold_message(result.held_because),
        ),
        "warning",
    )
    return redirect(url_for("mailroom.held") + f"#held-{result.incoming.id}")


@bp.get("/held")
@login_required
def held() -> str:
    """The holding pen: each held reply with the letters it may answer."""
    require_mailroom(current_user)
    rows = []
    for reply in incoming.held_replies():
        choose = _choose_form(reply.id, blank=True)
        choose.prisoner_id.choices = _prisoner_options(reply)
        choose.prisoner_id.data = reply.prisoner_id
        rows.append((reply, incoming.candidates(reply), choose))
    return render_template(
        "mailroom/held.html", rows=rows, give_up=GiveUpForm(formdata=None), match=MatchForm
    )


def _choose_form(incoming_id: int, *, blank: bool = False) -> ChoosePrisonerForm:
    # One form per held reply on the page: a prefix keeps their ids apart. The page's CSRF
    # token is checked by CSRFProtect for every post, as for the other buttons there.
    if blank:
        return ChoosePrisonerForm(formdata=None, prefix=f"h{incoming_id}", meta={"csrf": False})
    return ChoosePrisonerForm(prefix=f"h{incoming_id}", meta={"csrf": False})


def _prisoner_options(reply: IncomingMail) -> list[tuple[int | str, str]]:
    """Whom a held reply may be from: a prompt, then those written to within its window."""
    people = incoming.prisoners_in_window(reply.received_on)
    return [("", _("— choose —")), *((prisoner.id, prisoner.full_name) for prisoner in people)]


def _held_or_404(incoming_id: int) -> IncomingMail:
    found = incoming.held_scan(current_user, incoming_id)
    return found or abort(404)


@bp.get("/held/<int:incoming_id>/scan")
@login_required
def held_scan(incoming_id: int) -> Response:
    """A held reply's scan, to read it before matching it by hand."""
    found = _held_or_404(incoming_id)
    assert found.scan_file_id is not None  # held_scan returns only replies with a scan
    stored = db.session.get(StoredFile, found.scan_file_id) or abort(404)
    return file_response(stored, "konvert-held-reply.pdf")  # no-store: app.caching


@bp.post("/held/<int:incoming_id>/prisoner")
@login_required
def choose_prisoner(incoming_id: int) -> Response:
    """Say whom a held reply is from; their letters are listed next."""
    reply = _held_or_404(incoming_id)
    form = _choose_form(incoming_id)
    form.prisoner_id.choices = _prisoner_options(reply)
    if not form.validate() or form.prisoner_id.data is None:
        flash(_("Choose the prisoner the reply is from."), "warning")
    else:
        try:
            incoming.choose_prisoner(current_user, incoming_id, form.prisoner_id.data)
        except DomainError as error:
            flash_refusal(error)
    return redirect(url_for("mailroom.held") + f"#held-{incoming_id}")


@bp.post("/held/<int:incoming_id>/match")
@login_required
def match_held(incoming_id: int) -> Response:
    """Match a held reply to the letter chosen among its candidates."""
    require_mailroom(current_user)
    form = MatchForm()
    if not form.validate() or form.letter_id.data is None:
        abort(400)
    try:
        incoming.match_held(current_user, incoming_id, form.letter_id.data, date.today())
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("mailroom.held") + f"#held-{incoming_id}")
    flash(
        _(
            "Matched: the writer can now open the scan through their link, and the "
            "organisation's copy was deleted."
        ),
        "success",
    )
    return redirect(url_for("mailroom.held"))


@bp.post("/held/<int:incoming_id>/unmatched")
@login_required
def give_up(incoming_id: int) -> Response:
    """Take a reply out of the holding pen as unmatched (deleted when its time is up)."""
    require_mailroom(current_user)
    if not GiveUpForm().validate():
        abort(400)
    try:
        reply = incoming.give_up(current_user, incoming_id)
    except DomainError as error:
        flash_refusal(error)
    else:
        assert reply.delete_after is not None
        flash(
            _("Marked unmatched. Its scan will be deleted on %(date)s.",
              date=reply.delete_after.isoformat()),
            "success",
        )  # fmt: skip
    return redirect(url_for("mailroom.held"))


@bp.route("/returns/new", methods=["GET", "POST"])
@login_required
def new_return() -> Page:
    """Record a returned envelope by its code, with why it came back."""
    require_mailroom(current_user)
    today = date.today()
    form = ReturnForm()
    if request.method == "GET":
        form.received_on.data = today
        return render_template("mailroom/incoming_return.html", form=form, today=today)
    loose: list[str] = []
    if form.validate():
        assert form.received_on.data is not None  # InputRequired
        returned = returns.ReturnInput(
            reference=form.reference.data or "",
            received_on=form.received_on.data,
            reason=ReturnReason(form.reason.data),
        )
        try:
            returns.record_return(current_user, returned, today)
        except DomainError as error:
            loose = show_on_form(form, error)
        else:
            flash(
                _("The return of %(reference)s was recorded; its writer sees it on their page.",
                  reference=form.reference.data),
                "success",
            )  # fmt: skip
            return redirect(url_for("mailroom.new_return"))
    page = render_template("mailroom/incoming_return.html", form=form, today=today, loose=loose)
    return page, 422
