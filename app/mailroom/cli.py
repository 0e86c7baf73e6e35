"""`flask organisation …`: the organisation's settings from the command line, with the same
rules as the admin's page (app.mailroom.settings)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.extensions import db

organisation_cli = AppGroup(
    "organisation", help="The organisation running this Konvert, and its mailroom."
)


def _next_run(value: str | None) -> date | bool | None:
    """The date given to --next-run-on: a date, None for "none", False when not given."""
    if value is None:
        return False
    if value.strip().lower() == "none":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM-DD, or none", param_hint="--next-run-on") from error


@organisation_cli.command("set")
@click.option("--name", help="The organisation's name, printed as the sender on its envelopes.")
@click.option(
    "--address-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A UTF-8 file with the return address, one line per line, without postcode and country.",
)
@click.option("--postcode", help="6 digits when the country is RU.")
@click.option("--country", help="ISO 3166 two-letter code, e.g. RU.")
@click.option(
    "--mailroom",
    type=click.Choice(["on", "off"]),
    help="Open or close the mailroom (opening needs a name and a return address).",
)
@click.option("--reply-window-days", type=int, help="Days after posting replies are expected.")
@click.option("--daily-cap", type=int, help="Letters the mailroom takes in per day.")
@click.option("--prisoner-daily-cap", type=int, help="Letters to one prisoner per day.")
@click.option("--next-run-on", help="The date of the next print run (YYYY-MM-DD), or none.")
def set_organisation(
    name: str | None,
    address_file: Path | None,
    postcode: str | None,
    country: str | None,
    mailroom: str | None,
    reply_window_days: int | None,
    daily_cap: int | None,
    prisoner_daily_cap: int | None,
    next_run_on: str | None,
) -> None:
    """Change the settings given; the others stay as they are. Nothing changes when any of
    them is refused."""
    from app.domain import DomainError
    from app.mailroom.organisation import current_organisation
    from app.mailroom.settings import configure_organisation, settings_of

    typed: dict[str, Any] = {
        "name": name,
        "return_address": address_file.read_text(encoding="utf-8") if address_file else None,
        "postcode": postcode,
        "country": country,
        "mailroom_open": None if mailroom is None else mailroom == "on",
        "reply_window_days": reply_window_days,
        "daily_intake_cap": daily_cap,
        "prisoner_daily_cap": prisoner_daily_cap,
    }
    given = {field: value for field, value in typed.items() if value is not None}
    if (run := _next_run(next_run_on)) is not False:
        given["next_run_on"] = run  # None too: "none" clears the date
    settings = replace(settings_of(current_organisation()), **given)
    try:
        # No request to take a language from: messages come in English.
        with force_locale("en"):
            changes = configure_organisation(settings)
    except DomainError as error:
        db.session.rollback()
        problems = "\n".join(f"  {field}: {message}" for field, message in error.errors.items())
        raise click.ClickException(f"nothing was changed:\n{problems}") from error
    db.session.commit()
    if changes:
        click.echo(f"organisation: changed {', '.join(sorted(changes))}")
    else:
        click.echo("organisation: nothing changed")
    _show()


@organisation_cli.command("show")
def show_organisation() -> None:
    """Print the organisation's settings."""
    _show()


def _show() -> None:
    from app.mailroom.organisation import current_organisation

    organisation = current_organisation()
    if organisation.mailroom_open and not organisation.can_take_letters:
        state = "open, but takes no letters (no name or return address)"
    else:
        state = "open" if organisation.mailroom_open else "closed"
    lines = organisation.return_lines or ["(none)"]
    next_run = organisation.next_run_on.isoformat() if organisation.next_run_on else "not planned"
    click.echo(f"name: {organisation.name or '(none)'}")
    click.echo("return address:")
    for line in lines:
        click.echo(f"  {line}")
    click.echo(f"postcode: {organisation.postcode or '(none)'}")
    click.echo(f"country: {organisation.country}")
    click.echo(f"mailroom: {state}")
    click.echo(f"reply window: {organisation.reply_window_days} days")
    click.echo(f"daily intake cap: {organisation.daily_intake_cap} letters")
    click.echo(f"per-prisoner daily cap: {organisation.prisoner_daily_cap} letters")
    click.echo(f"next print run: {next_run}")
