"""The print runs in the JSON API, for mailroom volunteers' scripts: start a run, follow it,
download its files, and say when it was posted. Thin views over app.mailroom.runs on the
API blueprint; every operation takes a personal API token (`app.api.auth.api_account`)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

from flask import abort, jsonify, url_for
from pydantic import BeforeValidator, Field, model_validator
from werkzeug.wrappers import Response

from app.api import bp
from app.api.auth import api_account
from app.api.openapi import operation
from app.api.responses import HttpErrorBody, ResponseModel
from app.api.schemas import N_, IdNumber, RequestModel, _iso_date, described
from app.domain import MAX_ID, DomainError
from app.edge import after_commit
from app.extensions import limiter
from app.i18n import current_language
from app.mailroom import runs
from app.mailroom.tasks import enqueue_run
from app.models import PrintRun, PrintRunKind
from app.refusals import json_refusal
from app.security import pdf_limit
from app.stored_files import file_response

NOT_FOUND = N_("No print run has this id.")
RUN_ID = {"run_id": N_("The print run's id.")}
RUN = f"/mailroom/runs/<int(min=1, max={MAX_ID}):run_id>"
#: Most letters one request may choose (a run of every approved letter takes "all_approved").
MAX_CHOSEN = 5000

RunState = Literal["queued", "running", "done", "failed"]


@described(N_("The letters of a new print run: a selection, or every approved letter."))
class RunRequest(RequestModel):
    letters: list[IdNumber] | None = Field(
        default=None,
        max_length=MAX_CHOSEN,
        description=N_("The mailroom items to print (their ids); or send all_approved."),
    )
    all_approved: bool | None = Field(
        default=None, description=N_("true: every approved letter waiting for a run.")
    )
    kind: Literal["paper", "electronic"] = Field(
        default="paper",
        description=N_(
            "paper: letters, envelopes and a list for the post office; electronic: text cut "
            "into pages, for facilities with an electronic letter service."
        ),
    )
    envelope: Literal["dl", "c5"] = Field(
        default="dl", description=N_("The envelopes' size, for a paper run.")
    )

    @model_validator(mode="after")
    def _one_way(self) -> RunRequest:
        if (self.letters is None) == (self.all_approved is not True):
            raise ValueError("send either letters or all_approved: true")
        return self


@described(N_("The day a print run was posted."))
class PostedRequest(RequestModel):
    date: Annotated[
        date,
        BeforeValidator(_iso_date),
        Field(description=N_("When it was posted: not in the future, not before it was built.")),
    ]


@described(N_("A print run just started: it is built in the background."))
class RunStarted(ResponseModel):
    id: int
    state: RunState = Field(description=N_("queued until a job consumer takes it."))


@described(N_("Download links of a print run's files; null until built, or once deleted."))
class RunFiles(ResponseModel):
    letters: str | None = Field(
        description=N_(
            "The letters (PDF), or their text cut into pages (ZIP) for an electronic run."
        )
    )
    envelopes: str | None = Field(description=N_("The envelopes, in the letters' order (PDF)."))
    cover: str | None = Field(
        description=N_("The list for the post office: letters, weight and postage (PDF).")
    )


@described(N_("A print run: how far it is, its files, and when it was posted."))
class Run(ResponseModel):
    id: int
    kind: Literal["paper", "electronic"]
    state: RunState
    progress: int = Field(description=N_("How far the build is, 0 to 100."))
    letters: int = Field(description=N_("How many letters the run holds."))
    error: str = Field(description=N_("Why it failed, in the reader's language; empty otherwise."))
    posted_on: date | None = Field(description=N_("When it was posted, once recorded."))
    files: RunFiles


@described(N_("A print run marked posted."))
class RunPosted(ResponseModel):
    id: int
    posted_on: date
    letters: int = Field(description=N_("How many letters were recorded sent."))


def _run_json(run: PrintRun) -> dict[str, Any]:
    files = {
        which: url_for("api.mailroom_run_file", run_id=run.id, which=which)
        if runs.run_file(run, which) is not None
        else None
        for which in runs.FILES
    }
    return {
        "id": run.id,
        "kind": run.kind.value,
        "state": run.status.value,
        "progress": runs.progress_percent(run),
        "letters": run.total,
        "error": runs.failure_text(run),
        "posted_on": run.posted_on.isoformat() if run.posted_on else None,
        "files": files,
    }


def _run_or_404(run_id: int) -> PrintRun:
    return runs.get_run(api_account(), run_id) or abort(404)


@bp.post("/mailroom/runs")
@operation(
    "startPrintRun",
    N_("Start a print run"),
    N_(
        "Claims the chosen approved letters (or every approved letter) for a new run and "
        "queues it; follow it with getPrintRun. Refused with nothing to print, and while a "
        "run of the same kind is being built."
    ),
    tag="mailroom",
    body=RunRequest,
    refused_status=422,
    bearer=True,
    responses={202: (RunStarted, N_("Started: it is built in the background."))},
)
def start_run(json: RunRequest) -> Response | tuple[Response, int]:
    """Start a print run: {"letters": [ids]} or {"all_approved": true}."""
    user = api_account()
    try:
        run = runs.start_run(user, PrintRunKind(json.kind), json.letters)
    except DomainError as error:
        return json_refusal(error)
    after_commit(partial(enqueue_run, run.id, json.envelope, current_language()))
    return jsonify(id=run.id, state=run.status.value), 202


@bp.get(RUN)
@operation(
    "getPrintRun",
    N_("A print run"),
    N_("Its state and progress, and its files' download links once it is built."),
    tag="mailroom",
    bearer=True,
    responses={200: (Run, N_("The run; never cached.")), 404: (HttpErrorBody, NOT_FOUND)},
    path_parameters=RUN_ID,
)
def get_run(run_id: int) -> Response:
    """A print run's state, progress and files."""
    return jsonify(_run_json(_run_or_404(run_id)))


@bp.get(f"{RUN}/files/<which>")
@limiter.shared_limit(pdf_limit, scope="pdf")
@operation(
    "getPrintRunFile",
    N_("A print run's file"),
    N_(
        "letters, envelopes or cover, once the run is built and while the file is kept (the "
        "letters' file is deleted when the run is posted). Never cached."
    ),
    tag="mailroom",
    bearer=True,
    responses={
        200: (None, N_("The file: a PDF, or a ZIP of text files for an electronic run.")),
        404: (HttpErrorBody, N_("No such run, or the file is not built or no longer kept.")),
    },
    path_parameters={**RUN_ID, "which": N_("letters, envelopes or cover.")},
    path_schemas={"which": {"type": "string", "enum": list(runs.FILES)}},
)
def mailroom_run_file(run_id: int, which: str) -> Response:
    """One file of a built run."""
    run = _run_or_404(run_id)
    stored = runs.run_file(run, which) or abort(404)
    return file_response(stored, runs.file_name(run, which))


@bp.post(f"{RUN}/posted")
@operation(
    "markPrintRunPosted",
    N_("Mark a print run posted"),
    N_(
        "Records sent on that date for every letter of the built run (channel organisation, "
        "or electronic for an electronic run). The same date again records nothing more; "
        "another date is refused once one is recorded."
    ),
    tag="mailroom",
    body=PostedRequest,
    refused_status=422,
    bearer=True,
    responses={200: (RunPosted, N_("Recorded.")), 404: (HttpErrorBody, NOT_FOUND)},
    path_parameters=RUN_ID,
)
def mark_posted(run_id: int, json: PostedRequest) -> Response | tuple[Response, int]:
    """Record the day a run was posted."""
    run = _run_or_404(run_id)
    try:
        count = runs.mark_posted(api_account(), run, json.date, date.today())
    except DomainError as error:
        return json_refusal(error)
    return jsonify(id=run.id, posted_on=json.date.isoformat(), letters=count)
