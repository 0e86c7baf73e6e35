"""Issue 15, privacy at rest, for mail: a copy of the database (its files, as a seized server
would give them) holds no supporter's address and no link of theirs, while reminders and
transfer alerts still arrive with links that work, and a reminder subscription is gone once
its last reminder is sent.

Mail goes to a real SMTP server on loopback (aiosmtpd); each test runs on SQLite, then on
PostgreSQL, and reads the database's own files: SQLite's file with its -wal and -journal, and
every file of the throwaway PostgreSQL cluster (after a CHECKPOINT).
"""

from __future__ import annotations

import email
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from app.extensions import db
from app.mail import confirmation, services
from app.mail import tasks as mail_tasks
from app.mail.delivery import deliver_due
from app.models import (
    EventKind,
    Follow,
    Letter,
    OutboxMessage,
    OutboxStatus,
    ReminderSubscription,
)
from app.models.base import utcnow
from config import BASE_DIR
from tests.conftest import page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_prisoner

pytestmark = pytest.mark.both_databases

TODAY = date.today()
THIS_REVISION = "4d8f1b6e0c12"


# --- a real SMTP server, and what a seized server holds --------------------------------------


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def texts(self, subject: str) -> list[str]:
        """The plain-text bodies of the messages with this subject, oldest first."""
        return [
            message.get_body(preferencelist=("plain",)).get_content()
            for message in self.messages
            if message["Subject"] == subject
        ]


@contextmanager
def smtp_server(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def inbox(app) -> Iterator[Inbox]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    with smtp_server(port) as received:
        yield received


def database_files(request) -> list[Path]:
    """The files a copy of the server's database consists of, written out now."""
    if db.engine.dialect.name == "sqlite":
        path = Path(str(db.engine.url.database))
        return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
    # Everything PostgreSQL wrote (tables, WAL), once its buffers are on disk.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CHECKPOINT"))
    folder = request.getfixturevalue("postgres_server").folder
    return [path for path in folder.rglob("*") if path.is_file()]


def stored_rows() -> str:
    """Every value of every row, as text (binary values as their repr)."""
    db.session.expire_all()
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            values.extend(str(value) for value in row)
    return "\n".join(values)


def found_on_disk(request, *needles: str) -> set[str]:
    """Which of ``needles`` appear in the database's rows or anywhere in its files."""
    rows = stored_rows()
    found = {needle for needle in needles if needle in rows}
    wanted = {needle: needle.encode() for needle in needles}
    for path in database_files(request):
        data = path.read_bytes()
        found |= {needle for needle, raw in wanted.items() if raw in data}
    return found


def path_of(link: str) -> str:
    return urlsplit(link).path


def links(body: str, kind: str) -> list[str]:
    """The paths of the links of one kind (t, unsubscribe/reminder, unfollow, confirm)."""
    return [
        path_of(link) for link in re.findall(rf"https?://\S+/{kind}/[A-Za-z0-9_-]{{43}}", body)
    ]


def on_day(monkeypatch, day: date) -> None:
    """Let the reminder job believe today is ``day``."""

    class Clock(date):
        @classmethod
        def today(cls):
            return day

    monkeypatch.setattr(mail_tasks, "date", Clock)


# --- subscribing, reminders, alerts ------------------------------------------------------------


def test_a_seized_database_holds_no_supporters_address_or_link(
    app, client, inbox, request, monkeypatch
):
    canary = secrets.token_hex(6)
    prisoner = make_prisoner(make_facility(), last_name=f"Канареечный{canary}")
    letter = make_letter(prisoner, written=TODAY - timedelta(days=15), language="en")
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=14))
    reminder_address = f"writer-{canary}@example.org"
    follow_address = f"friend-{canary}@example.org"

    # The writer leaves an address on the tracking page; a reader follows the prisoner.
    page = client.get(f"/t/{letter.token}")
    assert (
        "To send these two reminders, Konvert keeps your email address and your letter's "
        "private link, encrypted and apart from the letter. It deletes both once the last "
        "reminder is sent."
    ) in page_text(page)
    assert (
        submit(
            client, page, {"email": reminder_address}, action=f"/t/{letter.token}/reminders"
        ).status_code
        == 302
    )
    assert (
        submit(client, f"/prisoners/{prisoner.id}/follow", {"email": follow_address}).status_code
        == 302
    )
    confirmations = inbox.texts("Confirm your email address")
    confirm_paths = [path for body in confirmations for path in links(body, "confirm")]
    assert len(confirm_paths) == 2
    for path in confirm_paths:
        assert "Your address is confirmed" in page_text(submit(client, path))

    subscription = db.session.scalar(select(ReminderSubscription))
    following = db.session.scalar(select(Follow))
    assert (subscription.email, following.email) == (reminder_address, follow_address)
    delete_token, unfollow_token = subscription.token, following.token
    confirm_tokens = [path.rsplit("/", 1)[1] for path in confirm_paths]
    secret_values = [
        reminder_address,
        follow_address,
        delete_token,
        unfollow_token,
        *confirm_tokens,
    ]
    if "token" not in Letter.__table__.c:
        # Until the letters' own migration (issue 15), the letter's table keeps its link in
        # clear; from then on the reminder's encrypted copy must be the only one.
        secret_values.append(letter.token)
    # What is stored in clear is found in the files: the search itself works.
    assert found_on_disk(request, f"Канареечный{canary}") == {f"Канареечный{canary}"}
    assert found_on_disk(request, *secret_values) == set()
    # The mail tables hold no copy of the letter's link either.
    for model in (ReminderSubscription, Follow, OutboxMessage):
        for row in db.session.execute(select(model.__table__)):
            assert letter.token not in " ".join(str(value) for value in row)

    # The first reminder arrives, with the letter's link and a delete link that both work.
    mail_tasks.send_reminders.call_local()
    [first] = inbox.texts("A reminder from Konvert")
    [tracking_path] = links(first, "t")
    assert tracking_path == f"/t/{letter.token}"
    assert client.get(tracking_path).status_code == 200
    [delete_path] = links(first, "unsubscribe/reminder")
    assert delete_path == f"/unsubscribe/reminder/{delete_token}"
    assert "Delete your address" in page_text(client.get(delete_path))

    # A transfer alert arrives, with an unfollow link.
    assert services.notify_followers_of_transfer(prisoner) == 1
    db.session.commit()
    [alert] = inbox.texts("An update from Konvert")
    [unfollow_path] = links(alert, "unfollow")
    assert unfollow_path == f"/unfollow/{unfollow_token}"

    # After sending, the outbox holds no content, and nothing is readable on disk.
    assert all(
        m.status is OutboxStatus.SENT and m.is_pruned
        for m in db.session.scalars(select(OutboxMessage))
    )
    assert found_on_disk(request, *secret_values) == set()

    # The last reminder: still a working link to the letter, no delete link, and the
    # subscription is gone in the same transaction.
    on_day(monkeypatch, TODAY + timedelta(days=31))
    mail_tasks.send_reminders.call_local()
    [_first, last] = inbox.texts("A reminder from Konvert")
    assert "This is the last reminder." in last
    assert "Konvert has already deleted your email address and its copy of this link" in last
    assert links(last, "unsubscribe/reminder") == []
    assert links(last, "t") == [f"/t/{letter.token}"]
    assert client.get(f"/t/{letter.token}").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ReminderSubscription)) is None
    assert client.get(delete_path).status_code == 404  # nothing left to delete
    mail_tasks.send_reminders.call_local()
    assert len(inbox.texts("A reminder from Konvert")) == 2

    # The unfollow link works.
    done = submit(client, unfollow_path)
    assert "Your address is deleted" in page_text(done)
    assert db.session.scalar(select(Follow)) is None
    assert found_on_disk(request, *secret_values) == set()


def test_the_reminder_form_says_what_is_kept_in_russian_too(app, client):
    letter = make_letter(make_prisoner(make_facility()))
    text_ru = page_text(
        client.get(f"/t/{letter.token}/reminders", headers={"Accept-Language": "ru"})
    )
    assert (
        "Чтобы отправить эти два напоминания, Konvert хранит ваш адрес электронной почты и "
        "личную ссылку на письмо — в зашифрованном виде и отдельно от письма."
    ) in text_ru
    assert "После последнего напоминания он удаляет и то и другое." in text_ru


def test_deleting_the_letter_deletes_its_reminder_address_and_mail(app, client, inbox):
    letter = make_letter(make_prisoner(make_facility()), language="en")
    submit(client, f"/t/{letter.token}/reminders", {"email": "gone@example.org"})
    assert db.session.scalar(select(ReminderSubscription)) is not None
    db.session.execute(Letter.__table__.delete().where(Letter.__table__.c.id == letter.id))
    db.session.commit()
    assert db.session.scalar(select(ReminderSubscription)) is None  # ON DELETE CASCADE


def test_one_address_follows_a_prisoner_once_whatever_its_case(app):
    prisoner = make_prisoner(make_facility())
    other = make_prisoner(make_facility(), last_name="Иванов")
    first = services.follow_prisoner(prisoner, "Me@Example.org")
    db.session.commit()
    assert services.follow_prisoner(prisoner, "me@example.ORG").id == first.id
    elsewhere = services.follow_prisoner(other, "me@example.org")
    db.session.commit()
    assert elsewhere.id != first.id
    # The keyed hashes of one address following two people do not match.
    assert elsewhere.address_hash != first.address_hash
    assert services.find_follow(first.token).id == first.id
    assert services.find_follow(elsewhere.token).id == elsewhere.id
    assert services.find_follow("x" * 43) is None


def test_times_of_a_supporters_actions_are_kept_to_the_hour(app, client):
    letter = make_letter(make_prisoner(make_facility()), language="en")
    submit(client, f"/t/{letter.token}/reminders", {"email": "hour@example.org"})
    subscription = db.session.scalar(select(ReminderSubscription))
    for moment in (subscription.created_at, subscription.confirm_requested_at):
        assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)
    services.confirm_address(subscription)
    db.session.commit()
    assert subscription.confirmed_at.minute == subscription.confirmed_at.second == 0


def test_a_confirmation_link_works_at_least_as_long_as_it_says(app):
    """The request time is cut to the hour; the link then works one hour longer, so the
    promised hours always hold, and it is deleted within one hour after that."""
    hours = confirmation.confirm_hours()
    follow = services.follow_prisoner(make_prisoner(make_facility()), "late@example.org")
    requested = datetime(2026, 3, 1, 10, 59, 30)
    token = confirmation.start(follow, requested)
    db.session.commit()
    assert follow.confirm_requested_at == datetime(2026, 3, 1, 10, 0)

    promised = requested + timedelta(hours=hours)
    assert confirmation.find_unconfirmed(token, promised - timedelta(seconds=1)) is not None
    assert confirmation.find_unconfirmed(token, promised) is not None
    assert confirmation.purge_unconfirmed(promised) == 0
    past = datetime(2026, 3, 1, 11, 0) + timedelta(hours=hours)  # stored hour + hours + 1
    assert confirmation.find_unconfirmed(token, past) is None
    assert confirmation.purge_unconfirmed(past) == 1
    db.session.commit()
    assert db.session.scalar(select(Follow)) is None


# --- the migration -----------------------------------------------------------------------------


def _previous_revision() -> str:
    script = ScriptDirectory(str(BASE_DIR / "migrations"))
    previous = script.get_revision(THIS_REVISION).down_revision
    assert isinstance(previous, str)
    return previous


def test_the_migration_encrypts_existing_addresses_links_and_queued_mail(app, request, inbox):
    prisoner = make_prisoner(make_facility())
    prisoner_id = prisoner.id
    db.session.close()
    # Below both privacy migrations (the letters' one refuses to go down over letters): the
    # letter is written as the code before them wrote it, with its link in clear.
    downgrade(revision=_previous_revision())
    letter_id, letter_token = 1, "L" * 43
    reminder_token, follow_token = "R" * 43, "F" * 43
    at = datetime(2026, 3, 1, 10, 37, 12, 345678)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO letter (id, token, prisoner_id, kind, language, body, signature, "
                "created_at) VALUES (:id, :token, :prisoner, 'letter', 'en', 'Dear friend', "
                "'Ann', :at)"
            ),
            {"id": letter_id, "token": letter_token, "prisoner": prisoner_id, "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO reminder_subscription (id, letter_id, email, token, created_at, "
                "confirmed_at, confirm_requested_at) VALUES "
                "(1, :letter, 'old-writer@example.org', :token, :at, :at, :at)"
            ),
            {"letter": letter_id, "token": reminder_token, "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO follow (id, prisoner_id, email, token, created_at, confirmed_at, "
                "confirm_requested_at) VALUES (1, :prisoner, 'Old-Friend@example.org', :token, "
                ":at, :at, :at)"
            ),
            {"prisoner": prisoner_id, "token": follow_token, "at": at},
        )
        for values in (
            # Waiting, tied to the subscription: it must survive the tables being rebuilt.
            {
                "id": 1,
                "recipient": "old-writer@example.org",
                "subject": "A reminder from Konvert",
                "text": f"Your link: http://127.0.0.1:5000/t/{letter_token}",
                "html": "<p>link</p>",
                "status": "pending",
                "reminder": 1,
            },
            # Sent long ago: nothing left in it.
            {
                "id": 2,
                "recipient": "",
                "subject": "",
                "text": "",
                "html": "",
                "status": "sent",
                "reminder": None,
            },
        ):
            connection.execute(
                text(
                    "INSERT INTO outbox_message (id, kind, recipient, subject, body_text, "
                    "body_html, status, attempts, next_attempt_at, last_error, created_at, "
                    "reminder_id) VALUES (:id, 'reminder', :recipient, :subject, :text, :html, "
                    ":status, 0, :at, '', :at, :reminder)"
                ),
                {**values, "at": at},
            )
        if db.engine.dialect.name == "postgresql":
            for table in ("letter", "reminder_subscription", "follow", "outbox_message"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")
                )

    upgrade()

    secret_values = [
        "old-writer@example.org",
        "Old-Friend@example.org",
        reminder_token,
        follow_token,
    ]
    rows = stored_rows()
    assert [value for value in secret_values if value in rows] == []
    for model in (ReminderSubscription, Follow, OutboxMessage):
        for row in db.session.execute(select(model.__table__)):
            assert letter_token not in " ".join(str(value) for value in row)

    subscription = services.find_reminder(reminder_token)
    assert subscription is not None and subscription.letter_id == letter_id
    assert (subscription.email, subscription.letter_token) == (
        "old-writer@example.org",
        letter_token,
    )
    assert subscription.created_at == subscription.confirmed_at == datetime(2026, 3, 1, 10, 0)
    following = services.find_follow(follow_token)
    assert following is not None and following.email == "Old-Friend@example.org"
    assert (
        services.follow_prisoner(following.prisoner, "old-friend@EXAMPLE.org").id == following.id
    )
    waiting, sent = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert waiting.reminder_id == 1 and waiting.recipient == "old-writer@example.org"
    assert sent.is_pruned

    # The converted message is delivered as it was written.
    deliver_due(utcnow() + timedelta(minutes=1))
    [delivered] = inbox.messages
    assert delivered["To"] == "old-writer@example.org"
    assert f"/t/{letter_token}" in delivered.get_body(preferencelist=("plain",)).get_content()

    # The letter itself was converted by the next migration: its link opens it.
    from app.tracking.services import get_letter

    assert get_letter(letter_token).body == "Dear friend"
