"""Drive pages: thin views over app.drives.services and app.drives.printing."""

from __future__ import annotations

from datetime import date
from functools import partial

from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

# SelectChoice is new in WTForms 3.3; types-WTForms (3.2) does not know it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]

from app.auth.permissions import login_required, require_organizer
from app.composer.drafts import drive_draft_key
from app.composer.services import available_templates
from app.composer.views import compose
from app.directory.services import facilities, regions
from app.domain import DomainError, as_id
from app.drives import bp, print_jobs, printing, services
from app.drives.forms import (
    DriveForm,
    EmptyForm,
    InviteForm,
    JoinCodeForm,
    JoinForm,
    MarkSentForm,
    PrintPackForm,
)
from app.drives.tasks import enqueue_print_job
from app.edge import after_commit
from app.extensions import db, limiter
from app.mail.services import external_url
from app.models import Channel, Drive, DriveParticipant, Letter, PrintJob
from app.models.drive import JOIN_LINK_PURPOSE
from app.privacy.instance import link_hash
from app.refusals import flash_refusal, show_on_form
from app.security import pdf_limit, public_write_limit
from app.stored_files import file_response

PARTICIPANT_SESSION_KEY = "drive_participants"


def _drive_or_404(drive_id: int) -> Drive:
    return services.get_drive(current_user, drive_id) or abort(404)


@bp.get("/drives")
@login_required
def index() -> str:
    """The organizers' drives."""
    return render_template("drives/index.html", drives=services.drives_for(current_user))


@bp.route("/drives/new", methods=["GET", "POST"])
@login_required
def new() -> Response | str | tuple[str, int]:
    """Create a drive: pool of prisoners (filter, then tick), templates, target."""
    require_organizer(current_user)
    region = request.args.get("region", "")
    facility_id = request.args.get("facility", type=as_id)
    candidates = services.pool_candidates(region, facility_id)
    form = DriveForm()
    no_address = str(_("no known address, in transit: not assigned"))
    form.prisoner_ids.choices = [
        SelectChoice(
            p.id,
            f"{p.full_name} — {p.current_facility.code if p.current_facility else no_address}",
        )
        for p in candidates
    ]
    templates = available_templates()
    form.template_ids.choices = [
        SelectChoice(t.id, f"{t.title} ({t.language})") for t in templates
    ]
    if request.method == "GET":
        # Prisoners without a known address are shown but not ticked (see choose_next_prisoner).
        form.prisoner_ids.data = [p.id for p in candidates if p.current_facility is not None]
        form.template_ids.data = [t.id for t in templates]
    if form.validate_on_submit():
        held_on = form.held_on.data
        assert held_on is not None  # InputRequired: a valid form has its date
        data = services.DriveInput(
            title=form.title.data or "",
            held_on=held_on,
            place=form.place.data or "",
            prisoner_ids=list(form.prisoner_ids.data or []),
            template_ids=list(form.template_ids.data or []),
            target_per_prisoner=form.target_per_prisoner.data or 1,
        )
        try:
            drive = services.create_drive(current_user, data)
        except DomainError as error:
            show_on_form(form, error)
        else:
            return redirect(url_for("drives.show", drive_id=drive.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "drives/new.html",
        form=form,
        regions=regions(),
        facilities=facilities(),
        region=region,
        facility_id=facility_id,
    ), status


@bp.get("/drives/<int:drive_id>")
@login_required
def show(drive_id: int) -> str:
    """The drive page: join details, participants, live figures, print pack, batch sending."""
    drive = _drive_or_404(drive_id)
    mark_form = MarkSentForm()
    if not mark_form.sent_on.data:
        mark_form.sent_on.data = date.today()
    return render_template(
        "drives/show.html",
        drive=drive,
        stats=services.drive_stats(drive),
        print_form=PrintPackForm(),
        mark_form=mark_form,
        invite_form=InviteForm(),
        retry_form=EmptyForm(),
        job=drive.print_jobs[0] if drive.print_jobs else None,
        job_failure=print_jobs.failure_text(drive.print_jobs[0]) if drive.print_jobs else "",
        join_url=url_for("drives.join", token=drive.join_token, _external=True),
    )


@bp.get("/drives/<int:drive_id>/stats.json")
@login_required
def stats(drive_id: int) -> Response:
    """Live figures for the drive page (polled every few seconds)."""
    drive = _drive_or_404(drive_id)
    figures = services.drive_stats(drive)
    job = drive.print_jobs[0] if drive.print_jobs else None
    return jsonify(
        participants=figures.participants,
        assigned=figures.assigned,
        written=figures.written,
        printed=figures.printed,
        sent=figures.sent,
        delivered=figures.delivered,
        answered=figures.answered,
        job=_job_json(job) if job else None,
    )


def _job_json(job: PrintJob) -> dict[str, object]:
    return {
        "id": job.id,
        "status": job.status.value,
        "done": job.done,
        "total": job.total,
        "error": print_jobs.failure_text(job),
        "download": url_for("drives.download", drive_id=job.drive_id, job_id=job.id)
        if print_jobs.pack_ready(job)
        else None,
    }


@bp.post("/drives/<int:drive_id>/print")
@login_required
def start_print(drive_id: int) -> Response:
    """Queue the print pack; the page shows progress and the download when done."""
    drive = _drive_or_404(drive_id)
    form = PrintPackForm()
    if not form.validate():
        abort(400)
    try:
        job = printing.start_print_job(current_user, drive)
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("drives.show", drive_id=drive.id))
    # The consumer reads the job from the database: queue it once the job is committed.
    after_commit(
        partial(
            enqueue_print_job, job.id, form.envelope.data or "dl", form.sender_country.data or ""
        )
    )
    return redirect(url_for("drives.show", drive_id=drive.id) + "#print")


@bp.get("/drives/<int:drive_id>/print/<int:job_id>.json")
@login_required
def job_status(drive_id: int, job_id: int) -> Response:
    """Progress of one print pack."""
    drive = _drive_or_404(drive_id)
    job = db.session.get(PrintJob, job_id)
    if job is None or job.drive_id != drive.id:
        abort(404)
    return jsonify(_job_json(job))


@bp.get("/drives/<int:drive_id>/print/<int:job_id>.pdf")
@login_required
@limiter.shared_limit(pdf_limit, scope="pdf")
def download(drive_id: int, job_id: int) -> Response | tuple[str, int]:
    """The finished pack; a half-built one is never served, a deleted one is gone (410)."""
    drive = _drive_or_404(drive_id)
    job = db.session.get(PrintJob, job_id)
    if job is None or job.drive_id != drive.id:
        abort(404)
    if print_jobs.pack_gone(job):
        return render_template("drives/pack_gone.html", drive=drive), 410
    stored = print_jobs.pack_of(job)
    if stored is None:
        abort(404)
    # Streamed from the database chunk by chunk: any machine serves any pack.
    return file_response(stored, f"konvert-pack-{job.id}.pdf")


@bp.post("/drives/<int:drive_id>/mark-sent")
@login_required
def mark_sent(drive_id: int) -> Response:
    """Record "sent" for every printed letter of the drive."""
    drive = _drive_or_404(drive_id)
    form = MarkSentForm()
    if not form.validate():
        flash(_("Give the date the letters were posted."), "warning")
        return redirect(url_for("drives.show", drive_id=drive.id))
    sent_on = form.sent_on.data
    assert sent_on is not None  # InputRequired: a valid form has its date
    try:
        count = services.mark_batch_sent(current_user, drive, sent_on, Channel(form.channel.data))
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("drives.show", drive_id=drive.id))
    flash(
        ngettext("%(num)d letter marked sent.", "%(num)d letters marked sent.", count), "success"
    )
    return redirect(url_for("drives.show", drive_id=drive.id))


@bp.post("/drives/<int:drive_id>/invite")
@login_required
def invite(drive_id: int) -> Response:
    """Email the join link to people the organizer names."""
    drive = _drive_or_404(drive_id)
    form = InviteForm()
    if form.validate():
        sent, refused = services.invite_by_email(
            current_user,
            drive,
            (form.emails.data or "").splitlines(),
            # On PUBLIC_URL, never the Host header: a forged one would reach the mails.
            external_url("drives.join", token=drive.join_token),
        )
        flash(
            ngettext("%(num)d invitation queued.", "%(num)d invitations queued.", sent), "success"
        )
        if refused:
            flash(_("Not valid addresses: %(list)s", list=", ".join(refused)), "warning")
    return redirect(url_for("drives.show", drive_id=drive.id))


# --- participants (no account) ---------------------------------------------------------------


def _remember_participant(participant: DriveParticipant) -> None:
    tokens = list(session.get(PARTICIPANT_SESSION_KEY, []))[-9:]
    if participant.token not in tokens:
        tokens.append(participant.token)
    session[PARTICIPANT_SESSION_KEY] = tokens


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(public_write_limit, methods=["POST"])
def join_by_code() -> Response | str | tuple[str, int]:
    """Type the short code shown at the event."""
    form = JoinCodeForm()
    if form.validate_on_submit():
        drive = services.find_drive_to_join(form.code.data or "")
        if drive is not None:
            return redirect(url_for("drives.join", token=drive.join_token))
        form.code.errors = [_("No evening has this code. Check it with the organizers.")]
        return render_template("drives/join_code.html", form=form), 422
    return render_template("drives/join_code.html", form=form)


@bp.route("/join/<token>", methods=["GET", "POST"])
@limiter.limit(public_write_limit, methods=["POST"])
def join(token: str) -> Response | str | tuple[str, int]:
    """Join a drive under any name and get prisoners to write to."""
    drive = services.find_drive_to_join(token)
    if drive is None or drive.join_token_hash != link_hash(token, JOIN_LINK_PURPOSE):
        abort(404)
    form = JoinForm()
    if form.validate_on_submit():
        try:
            participant = services.join(drive, form.name.data or "", form.languages.data or [])
        except DomainError as error:
            show_on_form(form, error)
        else:
            _remember_participant(participant)
            return redirect(url_for("drives.participant", token=participant.token))
    status = 422 if request.method == "POST" else 200
    return render_template("drives/join.html", drive=drive, form=form), status


def _participant_or_404(token: str) -> DriveParticipant:
    return services.get_participant(token) or abort(404)


@bp.get("/drives/p/<token>")
def participant(token: str) -> str:
    """A participant's assignments for the evening."""
    found = _participant_or_404(token)
    return render_template("drives/participant.html", participant=found, form=EmptyForm())


@bp.post("/drives/p/<token>/more")
@limiter.limit(public_write_limit)
def more(token: str) -> Response:
    """Ask for one more prisoner to write to."""
    found = _participant_or_404(token)
    if not EmptyForm().validate():
        abort(400)
    if services.assign_next(found) is None:
        flash(
            _("Everyone in this evening's list already has a letter from you. Thank you!"), "info"
        )
    return redirect(url_for("drives.participant", token=token))


@bp.route("/drives/p/<token>/write/<int:assignment_id>", methods=["GET", "POST"])
@limiter.limit(public_write_limit, methods=["POST"])
def write(token: str, assignment_id: int) -> Response | str | tuple[str, int]:
    """Write the assigned letter with the drive's templates; it belongs to the drive."""
    found = _participant_or_404(token)
    assignment = next((a for a in found.assignments if a.id == assignment_id), None)
    if assignment is None:
        abort(404)
    if assignment.letter_link is not None:
        return redirect(url_for("tracking.letter", token=assignment.letter_link))

    def after_save(letter: Letter) -> Response:
        services.attach_letter(assignment, letter)
        flash(_("Saved. The organizers will print it with the others."), "success")
        return redirect(url_for("drives.participant", token=token))

    return compose(
        assignment.prisoner,
        offered=services.templates_for(found) or None,
        after_save=after_save,
        draft_key=drive_draft_key(assignment.id),
        signature=found.name,
    )
