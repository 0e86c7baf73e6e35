"""Writing emails into the outbox, in the same transaction as whatever caused them."""

from __future__ import annotations

import re
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import OutboxMessage

# Content-neutral subjects: no prisoner names, nothing that says what the letter was about.
SUBJECTS = {
    "invitation": _l("Your invitation to Konvert"),
    "password_reset": _l("Reset your Konvert password"),
    "drive_invitation": _l("A letter-writing evening"),
    "reminder": _l("A reminder from Konvert"),
    "transfer_alert": _l("An update from Konvert"),
    "digest": _l("Your weekly Konvert summary"),
}
_HEADER_BREAK = re.compile(r"[\r\n]")
_EMAIL = re.compile(r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+$")


class MailError(ValueError):
    """An address or subject that must not be sent (e.g. header injection)."""


def valid_address(address: str) -> bool:
    """A single plain address, no display name, no line breaks."""
    return bool(_EMAIL.match(address)) and not _HEADER_BREAK.search(address)


def queue_email(
    recipient: str, kind: str, context: dict[str, Any], language: str = "en"
) -> OutboxMessage:
    """Render templates/emails/<kind>.txt and .html and add the message to the outbox.

    Nothing is sent here: the caller commits, and the outbox job delivers after the commit.
    """
    recipient = recipient.strip()
    if not valid_address(recipient):
        raise MailError(f"refusing to mail {recipient!r}")
    with force_locale(language):
        subject = str(SUBJECTS[kind])
        body_text = render_template(f"emails/{kind}.txt", **context)
        body_html = render_template(f"emails/{kind}.html", **context)
    if _HEADER_BREAK.search(subject):
        raise MailError("line break in a subject")
    message = OutboxMessage(
        kind=kind, recipient=recipient, subject=subject, body_text=body_text, body_html=body_html
    )
    db.session.add(message)
    return message
