"""`flask …` commands: setting up the database, the template library and demo data."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.extensions import db

letters_cli = AppGroup("letters", help="The letter template library in letters/.")
demo_cli = AppGroup("demo", help="Fictional demonstration data.")
officials_cli = AppGroup("officials", help="Addressees of appeals.")


@officials_cli.command("sync")
def officials_sync() -> None:
    """Create or update the federal bodies that receive appeals (idempotent)."""
    from app.appeals.federal import FEDERAL_BODIES, sync_federal_officials

    changed = sync_federal_officials()
    db.session.commit()
    click.echo(f"officials: {len(FEDERAL_BODIES)} federal bodies, {changed} created or changed")


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


@letters_cli.command("check")
@click.option("--directory", type=click.Path(file_okay=False, path_type=Path), default=None)
def letters_check(directory: Path | None) -> None:
    """Validate every template: front matter, syntax, variables, rendering, censor risks."""
    from app.library.checks import check_library

    folder = directory or Path(current_app.config["LETTERS_DIR"])
    results = check_library(folder)
    failed = [result for result in results if not result.ok]
    for result in failed:
        click.echo(f"{result.path}:")
        for problem in result.problems:
            click.echo(f"  - {problem}")
    click.echo(f"templates: {len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise SystemExit(1)


@letters_cli.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace a template with the same slug.")
def letters_add(path: Path, replace: bool) -> None:
    """Check a new template file, copy it into the library and load it."""
    from app.library.checks import check_file
    from app.library.services import sync_templates

    result = check_file(path)
    if not result.ok or result.spec is None:
        for problem in result.problems:
            click.echo(f"  - {problem}")
        raise click.ClickException(f"{path} did not pass the check; nothing was added")
    library = Path(current_app.config["LETTERS_DIR"])
    target = library / result.spec.language / f"{result.spec.slug}.md"
    if target.exists() and not replace:
        raise click.ClickException(f"{target} exists; use --replace to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    report = sync_templates(library)
    db.session.commit()
    click.echo(f"added {target}; {len(report.created)} created, {len(report.updated)} updated")


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


# In the instance folder once the demo data was loaded there: it is never loaded again, even
# when an organizer deleted it (bench/generate_large.py writes it too).
DEMO_MARKER = ".demo-loaded"


@click.command("setup")
@with_appcontext
def setup() -> None:
    """Make the database ready to serve: migrate it, load the letter templates and the federal
    addressees of appeals and, the first time (unless KONVERT_DEMO=0), the demo data.

    Idempotent. Every role of scripts/run.sh needs it done first (`scripts/run.sh setup`, or
    `run.sh all`, which runs it); setups started at once wait for each other.
    """
    from flask_migrate import upgrade

    from app.database import setup_lock

    context = click.get_current_context()
    with setup_lock(current_app):
        upgrade()
        context.invoke(letters_sync, directory=None)
        context.invoke(officials_sync)
        marker = Path(current_app.instance_path) / DEMO_MARKER
        if current_app.config["DEMO"] and not marker.exists():
            context.invoke(demo_load)
            marker.touch()
    click.echo("setup: the database is ready")


def register_cli(app: Flask) -> None:
    """Attach the commands and command groups to the app."""
    app.cli.add_command(setup)
    app.cli.add_command(letters_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(officials_cli)
    from app.auth.cli import users_cli

    app.cli.add_command(users_cli)
    from app.mail.cli import outbox_cli

    app.cli.add_command(outbox_cli)
    from app.imports.cli import export_cli, import_cli

    app.cli.add_command(import_cli)
    app.cli.add_command(export_cli)
    from app.stats.cli import stats_cli

    app.cli.add_command(stats_cli)
    from app.backup.cli import backup_cli

    app.cli.add_command(backup_cli)
    from app.mailroom.cli import organisation_cli

    app.cli.add_command(organisation_cli)
