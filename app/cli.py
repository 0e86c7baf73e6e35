"""`flask …` commands: the template library and demo data."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db

letters_cli = AppGroup("letters", help="The letter template library in letters/.")
demo_cli = AppGroup("demo", help="Fictional demonstration data.")


@letters_cli.command("sync")
@click.option("--directory", type=click.Path(file_okay=False, path_type=Path), default=None)
def letters_sync(directory: Path | None) -> None:
    """Load letters/ into the database: create, update, retire (never delete)."""
    from app.library.files import TemplateFileError
    from app.library.services import sync_templates

    folder = directory or Path(current_app.config["LETTERS_DIR"])
    try:
        report = sync_templates(folder)
    except TemplateFileError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(
        f"templates: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.retired)} retired"
    )


@demo_cli.command("load")
def demo_load() -> None:
    """Load the fictional demo prisoners, facilities and letters (idempotent)."""
    from app.demo.services import load_demo_data

    report = load_demo_data()
    db.session.commit()
    if report.skipped:
        click.echo("demo: already loaded; nothing changed")
    else:
        click.echo(
            f"demo: {report.facilities} facilities, {report.prisoners} prisoners, "
            f"{report.letters} letters, {report.events} events"
        )


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(letters_cli)
    app.cli.add_command(demo_cli)
