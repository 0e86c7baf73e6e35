"""`flask users …`: accounts from the command line (the first admin, scripted set-ups), personal
API tokens, and a list of accounts."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User

users_cli = AppGroup(
    "users", help="Accounts: organizers, admins, mailroom volunteers and translators."
)

_PASSWORD_FILE = click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the password from the first line of this file instead of asking for it.",
)
_NAME = click.option("--name", default="", help="The name shown to other organizers.")


def _read_password_file(path: Path) -> str:
    """The password in a file: its first line, without the line break (nothing else stripped)."""
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[0] if text else ""


def _create(email: str, role: Role, password_file: Path | None, name: str) -> None:
    """Create the account and say so, or stop with the reason (nothing is kept then)."""
    from app.auth.services import create_account
    from app.domain import DomainError

    if password_file is not None:
        password = _read_password_file(password_file)
    else:
        # Never an option on the command line: it would stay in the shell history and `ps`.
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        # No request to take a language from: messages come in English.
        with force_locale("en"):
            user = create_account(email, password, role, name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from error
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email} (id {user.id})")


@users_cli.command("create-admin")
@click.argument("email")
@_PASSWORD_FILE
@_NAME
def create_admin(email: str, password_file: Path | None, name: str) -> None:
    """Create an admin account with EMAIL (asks for the password twice unless given a file)."""
    _create(email, Role.ADMIN, password_file, name)


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    required=True,
    help="organizer, mailroom (the mailroom only), translator, or admin.",
)
@_PASSWORD_FILE
@_NAME
def create(email: str, role: str, password_file: Path | None, name: str) -> None:
    """Create an account with EMAIL and a role (asks for the password twice unless given a
    file)."""
    _create(email, Role(role), password_file, name)


@users_cli.command("create-token")
@click.argument("email")
@click.option("--label", required=True, help="Where the token is used, e.g. 'scanner 2'.")
def create_token(email: str, label: str) -> None:
    """Print a new personal API token for the account with EMAIL. It is shown only this once:
    only a hash of it is kept."""
    from app.auth.api_tokens import ROLES_WITH_TOKENS, TokenNotAllowed, create_api_token
    from app.auth.services import find_account
    from app.domain import DomainError

    user = find_account(email)
    if user is None:
        raise click.ClickException(f"there is no account with the address {email.strip()}")
    if not user.active:
        raise click.ClickException(f"{user.email} is deactivated: reactivate it first")
    try:
        with force_locale("en"):
            _token, raw = create_api_token(user, label)
    except TokenNotAllowed as error:
        allowed = ", ".join(sorted(role.value for role in ROLES_WITH_TOKENS))
        raise click.ClickException(
            f"{user.role.value} accounts get no API tokens (only {allowed})"
        ) from error
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.field}: {error.message}") from error
    db.session.commit()
    # The token alone on standard output, for scripts; the advice on standard error.
    click.echo(raw)
    click.echo(
        f"API token for {user.email}. Copy it now: it is not shown again. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@users_cli.command("list")
def list_users() -> None:
    """Every account: id, email, role, whether it may log in, name."""
    users = db.session.scalars(select(User).order_by(User.id)).all()
    for user in users:
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.id}\t{user.email}\t{user.role.value}\t{state}\t{user.name}")
    if not users:
        click.echo("no accounts yet: create one with `flask users create-admin EMAIL`")
