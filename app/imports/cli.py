"""`flask import facilities|prisoners FILE [--dry-run]` and `flask export facilities|prisoners`.

The command line is trusted (whoever runs it can read the database anyway); its changes are
audited with no user and "via": "cli".
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.extensions import db
from app.imports.export import FORMATS, export_file
from app.imports.report import render_text
from app.imports.services import import_from_cli

import_cli = AppGroup("import", help="Import facilities or prisoners from a CSV or JSON file.")
export_cli = AppGroup("export", help="Export facilities or prisoners as CSV or JSON.")

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Check the file and show what would change; change nothing."
)


def _import(kind: str, path: Path, dry_run: bool) -> None:
    with force_locale("en"):
        try:
            report = import_from_cli(kind, path.read_bytes(), path.name, dry_run=dry_run)
        except Exception:
            db.session.rollback()
            raise
        text = render_text(report)
    if report.imported:
        db.session.commit()
    else:
        db.session.rollback()
    click.echo(text, nl=False)
    if not report.ok:
        raise SystemExit(1)


@import_cli.command("facilities")
@click.argument("path", type=_FILE)
@_DRY_RUN
def import_facilities(path: Path, dry_run: bool) -> None:
    """Import facilities from PATH (CSV or JSON): all rows or, if any is refused, none."""
    _import("facilities", path, dry_run)


@import_cli.command("prisoners")
@click.argument("path", type=_FILE)
@_DRY_RUN
def import_prisoners(path: Path, dry_run: bool) -> None:
    """Import prisoners from PATH (CSV or JSON): all rows or, if any is refused, none."""
    _import("prisoners", path, dry_run)


def _export(kind: str, file_format: str | None, output: Path | None, bom: bool) -> None:
    if file_format is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        file_format = suffix if suffix in FORMATS else "csv"
    exported = export_file(kind, file_format, bom=bom)
    if output is None:
        click.echo(exported.data, nl=False)
    else:
        output.write_bytes(exported.data)
        click.echo(f"{kind}: written to {output}", err=True)


_FORMAT = click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    default=None,
    help="csv (default, or from the -o file's extension) or json.",
)
_BOM = click.option(
    "--bom",
    is_flag=True,
    help="CSV with a UTF-8 byte order mark first, for spreadsheet programs.",
)
_OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of the standard output.",
)


@export_cli.command("facilities")
@_FORMAT
@_OUTPUT
@_BOM
def export_facilities(file_format: str | None, output: Path | None, bom: bool) -> None:
    """Export all facilities (demo ones left out) in the import format."""
    _export("facilities", file_format, output, bom)


@export_cli.command("prisoners")
@_FORMAT
@_OUTPUT
@_BOM
def export_prisoners(file_format: str | None, output: Path | None, bom: bool) -> None:
    """Export all prisoners (demo ones left out) in the import format."""
    _export("prisoners", file_format, output, bom)
