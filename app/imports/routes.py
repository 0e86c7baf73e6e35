"""Import pages: upload → dry-run report → confirmed import; and export downloads.

Thin views over app.imports.services, which checks that the user is an organizer.
"""

from __future__ import annotations

import re

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app import edge
from app.auth.permissions import login_required
from app.extensions import db
from app.imports import bp, services
from app.imports.forms import ConfirmForm, ImportForm
from app.imports.report import ImportReport, render_text

Page = str | tuple[str, int] | Response


def _display_name(filename: str | None) -> str:
    """The uploaded file's own name, for the report only (never used as a path)."""
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    return name[:200] or "upload"


def _index_page(form: ImportForm) -> str:
    return render_template(
        "imports/index.html",
        form=form,
        column_help=services.COLUMN_HELP,
    )


def _report_page(report: ImportReport, confirm_form: ConfirmForm | None = None) -> str:
    return render_template(
        "imports/report.html",
        report=report,
        report_text=render_text(report),
        confirm_form=confirm_form,
    )


@bp.get("/")
@login_required
def index() -> Page:
    """Choose what to import and upload the file; links to the exports."""
    services.check_access(current_user)
    return _index_page(ImportForm())


@bp.post("/preview")
@login_required
def preview() -> Page:
    """Dry-run the uploaded file and show what it would do, with a button to import it."""
    services.check_access(current_user)
    form = ImportForm()
    if not form.validate():
        return _index_page(form), 422
    upload = form.file.data
    data = upload.read()
    report = services.preview_upload(
        current_user, form.kind.data or "facilities", _display_name(upload.filename), data
    )
    db.session.rollback()  # a dry run keeps nothing of its own; only the file is kept, next
    token = services.keep_upload(current_user, report, data)
    if token is None:
        return _report_page(report), (200 if report.ok else 422)
    confirm_form = ConfirmForm(formdata=None)
    confirm_form.token.data = token
    return _report_page(report, confirm_form)


@bp.post("/confirm")
@login_required
def confirm() -> Page:
    """Import the previewed file: every row, or none if any is refused now."""
    services.check_access(current_user)
    form = ConfirmForm()
    upload = None
    if form.validate():
        upload = services.claim_upload(current_user, form.token.data or "")
    if upload is None:
        flash(
            _("That upload has expired (files are kept for an hour). Upload the file again."),
            "warning",
        )
        return redirect(url_for("imports.index"))
    # Used up now, on every machine: a refused import starts again from the upload, and a
    # second click finds it gone rather than importing it twice.
    edge.commit_used_up()
    report = services.import_upload(current_user, upload)
    if not report.imported:
        return _report_page(report), 422
    flash(
        _(
            "Imported: %(created)d created, %(updated)d updated.",
            created=len(report.created),
            updated=len(report.updated),
        ),
        "success",
    )
    return _report_page(report)


@bp.get("/export/<any(facilities, prisoners):kind>.<any(csv, json):file_format>")
@login_required
def export(kind: str, file_format: str) -> Response:
    """Download every facility or prisoner in the import format (``?bom=1``: CSV with a byte
    order mark, for spreadsheet programs)."""
    bom = request.args.get("bom") == "1"
    exported = services.export_for_organizer(current_user, kind, file_format, bom=bom)
    response = current_app.response_class(exported.data, mimetype=exported.mimetype)
    if file_format == "csv":
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
