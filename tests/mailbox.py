"""The mail the app sent during a test, as it left.

Once sent, an outbox row keeps only its kind, status and times (issue 13, finding 2), so
tests read what was sent from Flask-Mail's ``email_dispatched`` signal, which both
transports send. The list is emptied before every test (an autouse fixture in conftest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_mail import Message, email_dispatched

from app.mail.services import SUBJECTS


@dataclass(frozen=True)
class SentMail:
    """One message as one recipient received it."""

    recipient: str
    subject: str
    body_text: str
    body_html: str


_sent: list[SentMail] = []


def _record(_app: Any, message: Message, **_extra: Any) -> None:
    for recipient in message.recipients:
        _sent.append(
            SentMail(str(recipient), str(message.subject), message.body or "", message.html or "")
        )


email_dispatched.connect(_record)


def clear_sent_mail() -> None:
    """Forget what earlier tests sent."""
    _sent.clear()


def sent_mail(
    kind: str | None = None, to: str | None = None, language: str = "en"
) -> list[SentMail]:
    """What was sent, oldest first: all of it, or of one kind (told by its subject in
    ``language``), or to one address."""
    subject = None
    if kind is not None:
        with force_locale(language):
            subject = str(SUBJECTS[kind])
    return [
        mail
        for mail in _sent
        if (subject is None or mail.subject == subject) and (to is None or mail.recipient == to)
    ]
