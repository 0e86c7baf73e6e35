"""Importing facilities and prisoners from CSV or JSON, and exporting them in the same format.

An import reads the file (app.imports.parsing), checks every row (app.imports.schema), matches
it to a record, and plans what would change — without touching the database. A dry run stops
there. A real import writes the plan only when no row was refused: the file is imported whole
or not at all. The caller commits (the route or the command), never this module.

The steps have modules of their own: matching rows to records (app.imports.matching), the plan
of the dry run (app.imports.planning), writing it (app.imports.apply), and the export
(app.imports.export). This module holds the entry points that routes and the command line call,
which check who may import, and the import page's column reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.permissions import Actor, require_organizer
from app.imports import schema, uploads
from app.imports.apply import apply_plan
from app.imports.export import ExportFile, export_file
from app.imports.parsing import FileRefused, ParsedFile, parse_file, quote
from app.imports.planning import plan_facilities, plan_prisoners
from app.imports.report import ImportReport
from app.models import User
from app.models.base import utcnow

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


# Entry points ---------------------------------------------------------------------------------


def check_access(actor: Actor) -> User:
    """The actor if they may import and export (organizers and admins); else Forbidden."""
    return require_organizer(actor)


def preview_upload(actor: Actor, kind: str, filename: str, data: bytes) -> ImportReport:
    """Dry-run an uploaded file: what it would create, update, leave or refuse."""
    user = require_organizer(actor)
    return _run_import(kind, data, filename, dry_run=True, actor=user, via="web")


def keep_upload(actor: Actor, report: ImportReport, data: bytes) -> str | None:
    """Keep the file of a dry run for its confirmation, when it can be imported.

    Returns the token the confirmation brings back, or None when there is nothing to import.
    The file is kept in the current transaction: call this after the dry run's own changes, if
    any, were rolled back.
    """
    user = require_organizer(actor)
    if not (report.ok and report.rows_to_import):
        return None
    return uploads.store_upload(user.id, report.kind, report.filename, data, utcnow())


def claim_upload(actor: Actor, token: str) -> uploads.ClaimedUpload | None:
    """Take out the file kept under ``token`` for the actor to import it now.

    None when it expired, was used already or is someone else's. The file is deleted in the
    current transaction: once that is committed, the token is used up, whatever the import
    does next (a refused import starts again from the upload).
    """
    user = require_organizer(actor)
    return uploads.claim_upload(user.id, token, utcnow())


def import_upload(actor: Actor, upload: uploads.ClaimedUpload) -> ImportReport:
    """Import a claimed file: every row, or none if any is refused now."""
    user = require_organizer(actor)
    return _run_import(
        upload.kind, upload.data, upload.filename, dry_run=False, actor=user, via="web"
    )


def import_from_cli(kind: str, data: bytes, filename: str, *, dry_run: bool) -> ImportReport:
    """`flask import …`: the command line is trusted, and audited as "cli"."""
    return _run_import(kind, data, filename, dry_run=dry_run, actor=None, via="cli")


def export_for_organizer(
    actor: Actor, kind: str, file_format: str, *, bom: bool = False
) -> ExportFile:
    """The download behind the export links (organizers only); ``bom``: see `export_file`."""
    require_organizer(actor)
    return export_file(kind, file_format, bom=bom)


def _run_import(
    kind: str, data: bytes, filename: str, *, dry_run: bool, actor: User | None, via: str
) -> ImportReport:
    """Check every row of ``data`` and, unless ``dry_run`` or a row is refused, write them.

    Callers check who ``actor`` is; use preview_upload/import_upload or import_from_cli.
    """
    if kind not in schema.KINDS:
        raise ValueError(kind)
    with _reader_locale():
        report = ImportReport(kind=kind, filename=filename, dry_run=dry_run)
        try:
            parsed = parse_file(data, filename, schema.LAYOUTS[kind])
            _check_column_pairs(parsed, kind)
        except FileRefused as error:
            report.file_error = error.message
            return report
        report.unit = parsed.unit
        report.file_format = parsed.file_format
        report.encoding = parsed.encoding
        report.delimiter = parsed.delimiter
        report.warnings.extend(parsed.warnings)
        today = date.today()
        if kind == "facilities":
            plans = plan_facilities(parsed, today, report.where)
        else:
            plans = plan_prisoners(parsed, today, report.where)
        for plan in plans:
            getattr(report, plan.action).append(plan.result)
        if report.ok and not dry_run:
            apply_plan(kind, plans, actor, via, filename, report)
            report.imported = True
        return report


@contextmanager
def _reader_locale() -> Iterator[None]:
    """Messages in the reader's language; outside a request (CLI, jobs) the default one."""
    if has_request_context():
        yield
    else:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            yield


def _check_column_pairs(parsed: ParsedFile, kind: str) -> None:
    if kind != "prisoners":
        return
    has = set(parsed.columns)
    if ("facility" in has) != ("since" in has):
        raise FileRefused(
            _(
                "The columns “facility” and “since” go together: the file has only %(one)s.",
                one=quote("facility" if "facility" in has else "since"),
            )
        )


# The import page's column reference -----------------------------------------------------------

COLUMN_HELP: dict[str, list[tuple[str, bool, Any]]] = {
    "facilities": [
        ("external_id", False, _l("Your stable id for the facility; prisoner files refer to it.")),
        ("code", True, _l("Short code, e.g. ИК-3.")),
        ("name", True, _l("Full official name, as on the envelope.")),
        ("kind", True, _l("pretrial, colony, prison, settlement, hospital or other.")),
        ("region", True, _l("Region, e.g. Владимирская область.")),
        ("country", False, _l("Two-letter code; empty means RU.")),
        ("postcode", True, _l("6 digits for Russia.")),
        (
            "address",
            True,
            _l(
                "Street address. Without a locality column, a locality at its start or end "
                "(«…, г. Покров») is split off."
            ),
        ),
        ("locality", False, _l("Town or settlement, e.g. г. Покров.")),
        ("source_url", False, _l("Where the address was checked (http or https).")),
        ("electronic_services", False, _l("E.g. ФСИН-письмо, Зонателеком.")),
        ("mail_rules", False, _l("Rules for letters to this facility.")),
        ("max_letter_pages", False, _l("Page limit for one letter, if announced.")),
    ],
    "prisoners": [
        ("external_id", False, _l("Your stable id for the person.")),
        ("last_name", True, _l("In Cyrillic, nominative.")),
        ("first_name", True, _l("In Cyrillic, nominative.")),
        ("patronymic", False, _l("In Cyrillic, nominative.")),
        ("gender", False, _l("m or f (also м/ж); empty: guessed from the patronymic.")),
        ("birth_date", False, _l("YYYY-MM-DD, or the year alone.")),
        ("status", True, _l("pretrial, convicted, in_transit, released or deceased.")),
        ("facility", False, _l("The external_id of the facility they are in now.")),
        (
            "since",
            False,
            _l("YYYY-MM-DD: since when. A new facility or date records a transfer."),
        ),
        ("accepts_letters", False, _l("yes or no; empty means yes.")),
        ("source_url", False, _l("Where the information comes from (http or https).")),
        (
            "name_dative",
            False,
            _l("The full name in the dative for the envelope, where the rules get it wrong."),
        ),
        ("last_name_latin", False, _l("As the person spells it in Latin letters.")),
        ("first_name_latin", False, _l("As the person spells it in Latin letters.")),
        ("languages", False, _l("Codes of languages they read, e.g. ru,en.")),
        ("detained_on", False, _l("YYYY-MM-DD.")),
        ("sentence", False, _l("E.g. 7 лет колонии общего режима.")),
        ("case_summary", False, _l("A few sentences about the case.")),
        ("interests", False, _l("What they like to read or talk about.")),
        ("notes_for_writers", False, _l("Advice for people writing to them.")),
    ],
}
