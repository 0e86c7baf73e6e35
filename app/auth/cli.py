"""`flask users …`: the first admin account, and a list of accounts."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import User

users_cli = AppGroup("users", help="Organizer and admin accounts.")


def _read_password_file(path: Path) -> str:
    """The password in a file: its first line, without the line break (nothing else stripped)."""
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[0] if text else ""


@users_cli.command("create-admin")
@click.argument("email")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from the first line of this file instead of asking for it.",
)
@click.option("--name", default="", help="The name shown to other organizers.")
def create_admin(email: str, password_file: Path | None, name: str) -> None:
    """Create an admin account with EMAIL (asks for the password twice unless given a file)."""
    from app.auth.services import create_admin as create
    from app.domain import DomainError

    if password_file is not None:
        password = _read_password_file(password_file)
    else:
        # Never an option on the command line: it would stay in the shell history and `ps`.
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        # No request to take a language from: messages come in English.
        with force_locale("en"):
            user = create(email, password, name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from error
    db.session.commit()
    click.echo(f"created admin {user.email} (id {user.id})")


@users_cli.command("list")
def list_users() -> None:
    """Every account: id, email, role, whether it may log in, name."""
    users = db.session.scalars(select(User).order_by(User.id)).all()
    for user in users:
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{state}\t{user.name}")
    if not users:
        click.echo("no accounts yet: create one with `flask users create-admin EMAIL`")
