"""Sending what the outbox holds: claim a due message, send it, mark it sent, retried or dead.

Every step runs in its own short transaction on its own connection, never in the caller's
session: delivery may run right after the caller's commit (immediate mode, in the
session's after-commit hook), where that session can no longer be used.

Flask-Mail builds the message (MIME parts, encoded headers, its header-injection check), but
the SMTP conversation uses smtplib directly: Flask-Mail 0.10's Connection opens
``smtplib.SMTP(server, port)`` without a timeout and calls ``starttls()`` without an SSL
context, so a hung server would block a worker forever and the certificate would not be
verified. Patching its Connection would depend on its internals; a small transport here does
not. The transport still sends Flask-Mail's ``email_dispatched`` signal, so
``mail.record_messages()`` works as documented.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from types import TracebackType
from typing import Any, Protocol, Self, cast

from flask import current_app
from flask_mail import Message, email_dispatched
from sqlalchemy import CursorResult, select, update
from sqlalchemy.engine import Row

from app.extensions import db
from app.logredact import KEEP_TOKENS
from app.models import OutboxMessage, OutboxStatus
from app.models.base import kept_time, utcnow
from app.models.mail import open_outbox_content
from app.privacy.crypto import CannotDecrypt

log = logging.getLogger("konvert.mail")

_HEADER_BREAK = re.compile(r"[\r\n]")
_TABLE = OutboxMessage.__table__
MAX_ERROR_CHARS = 1000
BATCH_SIZE = 500  # messages per run; the next run (a minute later) takes the rest


class MessageRefused(Exception):
    """A message that must never be sent (e.g. header injection): it goes dead at once."""


class TemporaryFailure(Exception):
    """Sending failed in a way that may pass (server down, timeout): retry later."""


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0


def tls_context(cafile: str | None = None) -> ssl.SSLContext:
    """The TLS context for SMTP: certificate and host name verified against the system's CAs
    (or only those in ``cafile``, for a server with a private CA)."""
    context = ssl.create_default_context(cafile=cafile)
    # create_default_context() already sets both; say so explicitly, a test checks it.
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def backoff_delay(attempts: int, base: int, cap: int) -> timedelta:
    """Wait after the ``attempts``-th failure: base, 2·base, 4·base, … at most ``cap``."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def message_id(row: Any, sender: str) -> str:
    """A Message-ID that stays the same on every attempt for one outbox message.

    A retry after an uncertain failure then carries the same ID and receivers can spot the
    duplicate. It is an HMAC of the row, so it reveals neither the row id nor a count.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(secret, f"{row.id}:{row.created_at.isoformat()}".encode(), hashlib.sha256)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "konvert.invalid"
    return f"<{digest.hexdigest()[:32]}@{domain}>"


def build_message(row: Any) -> Message:
    """The Flask-Mail message for an outbox row, its content decrypted just now with the
    instance key; MessageRefused for a header injection or content that cannot be read (no
    content, altered, or encrypted under another master key)."""
    sender = str(current_app.config["MAIL_DEFAULT_SENDER"])
    if row.content_encrypted is None:
        raise MessageRefused("no content left to send")
    try:
        content = open_outbox_content(row.content_encrypted)
    except CannotDecrypt as error:
        raise MessageRefused(f"the content cannot be decrypted: {error}") from error
    for name, value in (("recipient", content.recipient), ("subject", content.subject)):
        if _HEADER_BREAK.search(value or ""):
            raise MessageRefused(f"line break in the {name}: possible header injection")
    message = Message(
        subject=content.subject,
        recipients=[content.recipient],
        body=content.body_text,
        html=content.body_html or None,
        sender=sender,
    )
    message.msgId = message_id(row, sender)
    if content.unsubscribe_url:
        # One click in the mail program ends the subscription (RFC 2369, RFC 8058).
        message.extra_headers = {
            "List-Unsubscribe": f"<{content.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    if message.has_bad_headers():
        raise MessageRefused("bad header: possible header injection")
    return message


class Transport(Protocol):
    """Sends built messages; used as a context manager for one delivery run."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> None: ...

    def send(self, message: Message) -> None:
        """Send one message or raise TemporaryFailure / MessageRefused."""


class ConsoleTransport:
    """No SMTP server configured: print each message to the log and count it as sent."""

    def __enter__(self) -> ConsoleTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: Message) -> None:
        """Log recipient, subject and text at INFO on the "konvert.mail" logger."""
        log.info(
            "Email not sent (no MAIL_SERVER configured)\nTo: %s\nSubject: %s\n\n%s",
            ", ".join(str(r) for r in message.recipients),
            message.subject,
            message.body,
            extra={KEEP_TOKENS: True},  # the links are what a developer reads this for
        )
        _dispatched(message)


class SmtpTransport:
    """One SMTP connection per run, opened on first use, with a timeout and verified TLS."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.server = str(config["MAIL_SERVER"])
        self.port = int(config["MAIL_PORT"])
        self.use_ssl = bool(config["MAIL_USE_SSL"])
        self.use_tls = bool(config["MAIL_USE_TLS"]) and not self.use_ssl
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.timeout = float(config["MAIL_TIMEOUT"])
        self.cafile = config.get("MAIL_CA_FILE") or None
        self._host: smtplib.SMTP | None = None
        # Once the server cannot be reached, the rest of the run fails fast: a server that is
        # down (or a timeout) is tried once per run, not once per message.
        self._unreachable: str | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def _connect(self) -> smtplib.SMTP:
        host: smtplib.SMTP
        if self.use_ssl:
            host = smtplib.SMTP_SSL(
                self.server, self.port, timeout=self.timeout, context=tls_context(self.cafile)
            )
        else:
            host = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
        try:
            if self.use_tls:
                # No fallback to plain text: a server without STARTTLS is an error to retry.
                host.starttls(context=tls_context(self.cafile))
                host.ehlo()
            if self.username and self.password:
                host.login(str(self.username), str(self.password))
        except BaseException:
            host.close()
            raise
        return host

    def _close(self) -> None:
        if self._host is not None:
            try:
                self._host.quit()
            except (OSError, smtplib.SMTPException):
                self._host.close()
            self._host = None

    def send(self, message: Message) -> None:
        """Send over SMTP; TemporaryFailure or MessageRefused on failure."""
        if self._unreachable is not None:
            raise TemporaryFailure(self._unreachable)
        if self._host is None:
            try:
                self._host = self._connect()
            except (OSError, smtplib.SMTPException) as error:
                self._unreachable = f"cannot reach {self.server}:{self.port}: {error!r}"
                raise TemporaryFailure(self._unreachable) from error
        try:
            self._host.sendmail(
                str(message.sender), [str(r) for r in message.recipients], message.as_bytes()
            )
        except smtplib.SMTPRecipientsRefused as error:
            self._close()
            # The server's replies only: the address itself stays out of errors and logs.
            replies = [(code, _text(reply)) for code, reply in error.recipients.values()]
            if replies and all(code >= 500 for code, _reply in replies):
                # The server says the address does not exist: retrying cannot help.
                raise MessageRefused(f"recipient refused: {replies}") from error
            raise TemporaryFailure(f"recipient refused for now: {replies}") from error
        except (OSError, smtplib.SMTPException) as error:
            self._close()
            raise TemporaryFailure(repr(error)) from error
        _dispatched(message)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _dispatched(message: Message) -> None:
    """Flask-Mail's signal, so that ``mail.record_messages()`` sees what was sent."""
    # Flask types current_app as the app itself, hiding the proxy's method.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    email_dispatched.send(app, message=message)


def transport_for(config: dict[str, Any]) -> Transport:
    """SMTP when a server is configured, else the log."""
    if config.get("MAIL_SERVER"):
        return SmtpTransport(config)
    return ConsoleTransport()


def _claim(message_id_: int, now: datetime, lease: timedelta) -> Row[Any] | None:
    """Take a due message for this run, atomically; None if another run took it first.

    Pushing next_attempt_at past ``now`` in the same UPDATE that checks it is due makes the
    claim exclusive: of two consumers, only one sees rowcount 1. A consumer that dies while
    holding the lease gives the message back when the lease ends.
    """
    with db.engine.begin() as connection:
        claimed = connection.execute(
            update(_TABLE)
            .where(
                _TABLE.c.id == message_id_,
                _TABLE.c.status == OutboxStatus.PENDING,
                _TABLE.c.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + lease)
        )
        if claimed.rowcount != 1:
            return None
        return connection.execute(select(_TABLE).where(_TABLE.c.id == message_id_)).one()


# What a message keeps once it needs no content any more: kind, status and times. The
# encrypted recipient, subject and bodies (with their reset, invitation and tracking links)
# and the server's last reply (which may quote the address) are deleted.
PRUNED: dict[str, Any] = {"content_encrypted": None, "last_error": ""}


def _mark_sent(row: Any, now: datetime) -> None:
    # A sent message's times are kept to the hour: a confirmation email goes out the moment
    # a supporter subscribes, so its exact times would date the supporter's action.
    with db.engine.begin() as connection:
        connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id == row.id)
            .values(
                status=OutboxStatus.SENT,
                sent_at=kept_time(now),
                created_at=kept_time(row.created_at),
                next_attempt_at=kept_time(now),
                **PRUNED,
            )
        )


def prune_dead(now: datetime) -> int:
    """Blank the content of messages dead for OUTBOX_DEAD_KEEP_DAYS; return how many.

    Until then an admin may re-queue them (the server may have been down for days). Sent
    messages are blanked at once, when they are marked sent.
    """
    days = int(current_app.config["OUTBOX_DEAD_KEEP_DAYS"])
    # In the caller's session (a job, which commits at its end), unlike the sending above.
    pruned = db.session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.status == OutboxStatus.DEAD,
            # A dead message's next_attempt_at is the time it gave up.
            _TABLE.c.next_attempt_at <= now - timedelta(days=days),
            _TABLE.c.content_encrypted.is_not(None),
        )
        .values(**PRUNED)
    )
    return int(cast(CursorResult[Any], pruned).rowcount)


def _mark_failed(row: Any, now: datetime, error: str, permanent: bool) -> OutboxStatus:
    config = current_app.config
    attempts = row.attempts + 1
    dead = permanent or attempts >= int(config["OUTBOX_MAX_ATTEMPTS"])
    delay = backoff_delay(
        attempts, int(config["OUTBOX_BACKOFF_SECONDS"]), int(config["OUTBOX_BACKOFF_MAX_SECONDS"])
    )
    status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
    with db.engine.begin() as connection:
        connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id == row.id)
            .values(
                status=status,
                attempts=attempts,
                last_error=error[:MAX_ERROR_CHARS],
                next_attempt_at=now if dead else now + delay,
            )
        )
    # The recipient is not logged: the log must not become a list of supporters' addresses.
    log.warning("Outbox message %s, attempt %s failed (%s): %s", row.id, attempts, status, error)
    return status


def deliver_due(now: datetime | None = None) -> DeliveryReport:
    """Send every pending message whose next attempt is due (at most BATCH_SIZE per run)."""
    config = current_app.config
    now = now or utcnow()
    lease = timedelta(seconds=int(config["OUTBOX_LEASE_SECONDS"]))
    with db.engine.connect() as connection:
        due = list(
            connection.scalars(
                select(_TABLE.c.id)
                .where(_TABLE.c.status == OutboxStatus.PENDING, _TABLE.c.next_attempt_at <= now)
                .order_by(_TABLE.c.next_attempt_at, _TABLE.c.id)
                .limit(BATCH_SIZE)
            )
        )
    report = DeliveryReport()
    if not due:
        return report
    with transport_for(config) as transport:
        for candidate in due:
            row = _claim(candidate, now, lease)
            if row is None:
                continue  # another consumer is sending it
            try:
                transport.send(build_message(row))
            except MessageRefused as error:
                _mark_failed(row, now, str(error), permanent=True)
                report.dead += 1
            except Exception as error:
                # Anything else (a bug, an unexpected server reply) is retried like a
                # temporary failure and ends "dead" on the admins' page, never lost silently.
                if not isinstance(error, TemporaryFailure):
                    log.exception("Outbox message %s: unexpected error", row.id)
                if _mark_failed(row, now, str(error), permanent=False) is OutboxStatus.DEAD:
                    report.dead += 1
                else:
                    report.retrying += 1
            else:
                _mark_sent(row, now)
                report.sent += 1
    return report
