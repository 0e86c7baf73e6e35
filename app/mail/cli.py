"""`flask outbox …`: the mail outbox from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.mail.delivery import deliver_due

outbox_cli = AppGroup("outbox", help="The mail outbox.")


@outbox_cli.command("deliver")
def outbox_deliver() -> None:
    """Send every due message now, in this process (no consumer needed)."""
    report = deliver_due()
    click.echo(f"outbox: {report.sent} sent, {report.retrying} to retry, {report.dead} dead")
