"""Email through the outbox, sent to a real SMTP server on loopback (aiosmtpd).

Jobs run in immediate mode (TestConfig): a commit that writes mail delivers it right after
the commit, in the test's own thread, so what the server received can be checked at once.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select

from app import jobs
from app.extensions import db, mail
from app.mail import outbox as outbox_admin
from app.mail import services
from app.mail import tasks as mail_tasks
from app.mail.delivery import deliver_due, message_id, tls_context
from app.mail.services import (
    MailError,
    confirm_address,
    follow_prisoner,
    notify_followers_of_transfer,
    queue_email,
    subscribe_to_reminders,
)
from app.mail.tasks import deliver_outbox, send_reminders, send_weekly_digest
from app.models import (
    EventKind,
    Follow,
    Letter,
    OutboxMessage,
    OutboxStatus,
    ReminderSubscription,
    Role,
    Translation,
    TranslationKind,
    User,
)
from app.models.base import utcnow
from app.models.mail import OutboxContent, seal_outbox_content
from app.translation.digest import send_translator_digest
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_prisoner, make_user
from tests.mailbox import sent_mail

# Writes that must hold on both databases: each test runs on SQLite, then on PostgreSQL.
pytestmark = pytest.mark.both_databases

TODAY = date.today()
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


# --- a real SMTP server on loopback ------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def text(self, message: email.message.EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(port: int, **smtp_options) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, server_hostname="smtp.test", **smtp_options
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_port(app) -> int:
    """A loopback port the app sends to; no server listens until a test starts one."""
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    return port


@pytest.fixture
def inbox(smtp_port) -> Iterator[Inbox]:
    with smtp_server(smtp_port) as received:
        yield received


def reminder_context(**overrides) -> dict:
    context = {
        "days": 14,
        "sent_on": TODAY - timedelta(days=14),
        "is_appeal": False,
        "final": False,
        "tracking_url": "http://127.0.0.1:5000/t/x",
        "delete_url": "http://127.0.0.1:5000/unsubscribe/reminder/x",
    }
    context.update(overrides)
    return context


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- delivery ------------------------------------------------------------------------------------


def test_queued_message_is_delivered_once_right_after_commit(app, inbox):
    queue_email("reader@example.org", "reminder", reminder_context())
    db.session.flush()
    assert inbox.messages == []  # written, but not before the commit

    db.session.commit()

    assert len(inbox.messages) == 1
    received = inbox.messages[0]
    assert received["To"] == "reader@example.org"
    assert received["Subject"] == "A reminder from Konvert"
    assert "http://127.0.0.1:5000/t/x" in inbox.text(received)
    assert inbox.envelopes[0][1] == ["reader@example.org"]
    [message] = outbox()
    assert message.status is OutboxStatus.SENT
    assert message.sent_at is not None
    assert message.attempts == 0
    # Nothing is sent twice: another run and another commit find nothing to do.
    deliver_due(utcnow() + timedelta(days=1))
    make_facility()
    assert len(inbox.messages) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(app, inbox):
    queue_email("reader@example.org", "reminder", reminder_context())
    db.session.flush()
    db.session.rollback()
    make_facility()  # a later, unrelated commit
    deliver_due(utcnow() + timedelta(days=1))
    assert inbox.messages == []
    assert outbox() == []


def test_smtp_down_then_up_delivers_every_message_exactly_once(app, smtp_port):
    app.config["OUTBOX_BACKOFF_SECONDS"] = 60
    recipients = [f"reader{number}@example.org" for number in range(3)]
    for recipient in recipients:
        queue_email(recipient, "reminder", reminder_context())
    db.session.commit()  # delivery is tried at once, but nothing listens on the port

    first = outbox()
    assert [m.status for m in first] == [OutboxStatus.PENDING] * 3
    assert [m.attempts for m in first] == [1, 1, 1]
    assert all("cannot reach 127.0.0.1" in m.last_error for m in first)
    failed_at = first[0].next_attempt_at - timedelta(seconds=60)

    # Backing off: a run before the pause is over does not try again.
    deliver_due(failed_at + timedelta(seconds=59))
    assert [m.attempts for m in outbox()] == [1, 1, 1]

    # Still down: the second failure doubles the pause.
    report = deliver_due(failed_at + timedelta(seconds=60))
    assert report.retrying == 3
    second = outbox()
    assert [m.attempts for m in second] == [2, 2, 2]
    second_try = failed_at + timedelta(seconds=60)
    assert all(m.next_attempt_at == second_try + timedelta(seconds=120) for m in second)

    # The Message-ID of each attempt (from the row as it waits; once sent, its times are cut
    # to the hour).
    sender = app.config["MAIL_DEFAULT_SENDER"]
    expected_ids = sorted(message_id(m, sender) for m in second)
    with smtp_server(smtp_port) as inbox:
        assert deliver_due(second_try + timedelta(seconds=119)).sent == 0
        assert deliver_due(second_try + timedelta(seconds=120)).sent == 3
        assert deliver_due(second_try + timedelta(days=1)).sent == 0
        deliver_outbox()  # the job itself, as the consumer runs it
        assert len(inbox.messages) == 3

    delivered = outbox()
    assert all(m.status is OutboxStatus.SENT for m in delivered)
    ids = [m["Message-ID"] for m in inbox.messages]
    assert len(set(ids)) == 3
    assert sorted(ids) == expected_ids
    assert sorted(to for _from, [to] in inbox.envelopes) == recipients


def test_after_the_last_attempt_a_message_is_dead_until_an_admin_requeues_it(
    app, smtp_port, admin, organizer
):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    queue_email("reader@example.org", "reminder", reminder_context())
    db.session.commit()  # attempt 1: server down
    deliver_due(utcnow() + timedelta(days=1))  # attempt 2: the last
    [message] = outbox()
    assert message.status is OutboxStatus.DEAD
    assert message.attempts == 2

    anonymous = app.test_client()
    sent_away = anonymous.get("/admin/outbox")
    assert sent_away.status_code == 302
    assert sent_away.headers["Location"].startswith("/login?next=")
    as_organizer = app.test_client()
    log_in(as_organizer, organizer)
    forbidden = as_organizer.get("/admin/outbox")
    assert forbidden.status_code == 403
    assert "reader@example.org" not in forbidden.get_data(as_text=True)
    # A valid CSRF token from a page the organizer may open: the refusal is about the role.
    refused = submit(
        as_organizer,
        f"/prisoners/{make_prisoner().id}/follow",
        action=f"/admin/outbox/{message.id}/requeue",
    )
    assert refused.status_code == 403
    assert outbox()[0].status is OutboxStatus.DEAD

    as_admin = app.test_client()
    log_in(as_admin, admin)
    page = as_admin.get("/admin/outbox?status=dead")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # A supporter's reminder: admins see its kind and status, never the address.
    assert "reader@example.org" not in html
    assert "a supporter (not shown)" in page_text(page)
    assert "cannot reach 127.0.0.1" in html
    assert "Gave up (1)" in html
    assert "reader@example.org" not in as_admin.get("/admin/outbox?status=sent").get_data(
        as_text=True
    )

    with smtp_server(app.config["MAIL_PORT"]) as inbox:
        response = submit(as_admin, page, action=f"/admin/outbox/{message.id}/requeue?status=dead")
        assert response.headers["Location"] == "/admin/outbox?status=dead"
        assert len(inbox.messages) == 1
    assert flashed(follow(as_admin, response)) == ["The message is queued again."]
    [message] = outbox()
    assert message.status is OutboxStatus.SENT
    assert message.attempts == 0
    assert "Sent (1)" in as_admin.get("/admin/outbox").get_data(as_text=True)


def test_the_outbox_list_is_paged_newest_first(app, admin):
    size = outbox_admin.OUTBOX_PAGE_SIZE
    for number in range(size + 1):
        # Sent or dead rows: nothing is queued for delivery by the commit.
        db.session.add(
            OutboxMessage(
                kind="invitation",
                recipient=f"reader{number}@example.org",
                subject="Your invitation to Konvert",
                body_text="…",
                status=OutboxStatus.DEAD if number == 0 else OutboxStatus.SENT,
            )
        )
    db.session.commit()

    first = outbox_admin.list_outbox(admin, None, 0)  # a page below one is the first
    assert (first.page, first.total, first.pages, len(first.rows)) == (1, size + 1, 2, size)
    assert first.rows[0].recipient == f"reader{size}@example.org"  # newest first
    second = outbox_admin.list_outbox(admin, None, 2)
    assert [message.recipient for message in second.rows] == ["reader0@example.org"]
    dead = outbox_admin.list_outbox(admin, OutboxStatus.DEAD)
    assert (dead.total, dead.pages) == (1, 1)
    assert dead.counts == {OutboxStatus.PENDING: 0, OutboxStatus.SENT: size, OutboxStatus.DEAD: 1}

    as_admin = app.test_client()
    log_in(as_admin, admin)
    html = as_admin.get("/admin/outbox").get_data(as_text=True)
    assert "Older" in html and "Newer" not in html
    html = as_admin.get("/admin/outbox?page=2").get_data(as_text=True)
    assert "Newer" in html and "Older" not in html
    assert "reader0@example.org" in html


def test_two_delivery_runs_at_once_send_each_message_once(app, smtp_port):
    for number in range(20):
        queue_email(f"reader{number}@example.org", "reminder", reminder_context())
    db.session.commit()  # the server is down: all twenty wait for a retry
    later = utcnow() + timedelta(days=1)
    reports = []
    start = threading.Barrier(2)

    def consumer() -> None:
        with app.app_context():
            start.wait()
            reports.append(deliver_due(later))

    with smtp_server(smtp_port) as inbox:
        runs = [threading.Thread(target=consumer) for _ in range(2)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=60)
    assert sum(report.sent for report in reports) == 20
    assert len(inbox.messages) == 20
    assert len({m["Message-ID"] for m in inbox.messages}) == 20
    assert all(m.status is OutboxStatus.SENT for m in outbox())


class RefusingInbox(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return "550 5.1.1 No such mailbox here"


def test_an_address_the_server_says_does_not_exist_is_dead_at_once(app, smtp_port):
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        queue_email("nobody@example.org", "reminder", reminder_context())
        db.session.commit()
    finally:
        controller.stop()
    [message] = outbox()
    assert message.status is OutboxStatus.DEAD
    assert message.attempts == 1
    assert "550" in message.last_error
    assert "nobody@example.org" not in message.last_error  # errors are logged: no addresses


def test_queue_email_refuses_line_breaks_in_headers(app, monkeypatch):
    with pytest.raises(MailError):
        queue_email("reader@example.org\r\nBcc: everyone@example.org", "reminder", {})
    monkeypatch.setitem(services.SUBJECTS, "reminder", "Hello\r\nBcc: everyone@example.org")
    with pytest.raises(MailError):
        queue_email("reader@example.org", "reminder", reminder_context())


@pytest.mark.parametrize(
    ("recipient", "subject"),
    [
        ("reader@example.org\r\nBcc: everyone@example.org", "A reminder from Konvert"),
        ("reader@example.org", "Hello\r\nBcc: everyone@example.org"),
        ("reader@example.org", "Hello\nBcc: everyone@example.org"),
    ],
)
def test_delivery_refuses_header_injection_and_never_sends(app, inbox, recipient, subject):
    # A row that got into the outbox without queue_email's check is refused at delivery.
    db.session.add(
        OutboxMessage(
            kind="reminder", recipient=recipient, subject=subject, body_text="Hello", body_html=""
        )
    )
    db.session.commit()
    [message] = outbox()
    assert message.status is OutboxStatus.DEAD
    assert "header injection" in message.last_error
    assert inbox.messages == []


def test_console_mode_logs_the_message_and_marks_it_sent(app, caplog, monkeypatch):
    assert app.config["MAIL_SERVER"] is None
    # Alembic's fileConfig (migrations/env.py, run by the database fixture) disables every
    # logger that existed before it; in a real process migrations run on their own.
    monkeypatch.setattr(logging.getLogger("konvert.mail"), "disabled", False)
    with caplog.at_level(logging.INFO, logger="konvert.mail"), mail.record_messages() as sent:
        queue_email("reader@example.org", "reminder", reminder_context())
        db.session.commit()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "konvert.mail")
    assert "To: reader@example.org" in logged
    assert "Subject: A reminder from Konvert" in logged
    assert "http://127.0.0.1:5000/t/x" in logged
    assert [m.recipients for m in sent] == [["reader@example.org"]]
    assert outbox()[0].status is OutboxStatus.SENT


def test_cli_delivers_due_messages(app, runner, inbox):
    # Written past the ORM and its session hook, as a crashed process might have left it.
    db.session.execute(
        insert(OutboxMessage).values(
            kind="reminder",
            content_encrypted=seal_outbox_content(
                OutboxContent("reader@example.org", "A reminder from Konvert", "Hello")
            ),
            status=OutboxStatus.PENDING,
        )
    )
    db.session.commit()
    assert inbox.messages == []
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    assert len(inbox.messages) == 1


# --- TLS -----------------------------------------------------------------------------------------


def test_tls_context_verifies_certificate_and_host_name():
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_no_fallback_to_plain_text_when_the_server_offers_no_starttls(app, inbox):
    app.config["MAIL_USE_TLS"] = True
    queue_email("reader@example.org", "reminder", reminder_context())
    db.session.commit()
    assert inbox.messages == []
    [message] = outbox()
    assert message.status is OutboxStatus.PENDING
    assert "STARTTLS" in message.last_error


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no system CA signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_starttls_refuses_an_untrusted_certificate_and_sends_to_a_trusted_one(
    app, smtp_port, self_signed
):
    cert_file, key_file = self_signed
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    app.config["MAIL_USE_TLS"] = True
    with smtp_server(smtp_port, tls_context=server_context, require_starttls=True) as inbox:
        queue_email("reader@example.org", "reminder", reminder_context())
        db.session.commit()
        assert inbox.messages == []
        [message] = outbox()
        assert message.status is OutboxStatus.PENDING
        assert "CERTIFICATE_VERIFY_FAILED" in message.last_error

        # The same server, once its certificate is trusted: sent, encrypted.
        app.config["MAIL_CA_FILE"] = str(cert_file)
        deliver_due(utcnow() + timedelta(days=1))
        assert len(inbox.messages) == 1
    assert outbox()[0].status is OutboxStatus.SENT


# --- reminders to report back ------------------------------------------------------------------


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


def sent_letter(prisoner, days_ago: int, email: str = "writer@example.org") -> Letter:
    # Reminders are written in the letter's language; English keeps these assertions readable.
    letter = make_letter(prisoner, written=TODAY - timedelta(days=days_ago + 1), language="en")
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=days_ago))
    confirm_address(subscribe_to_reminders(letter, email))
    db.session.commit()
    return letter


def on_day(monkeypatch, day: date) -> None:
    """Let the reminder job believe today is ``day``."""

    class Clock(date):
        @classmethod
        def today(cls):
            return day

    monkeypatch.setattr(mail_tasks, "date", Clock)


def reminders():
    """The reminders sent, as they left (once sent, the outbox keeps no content)."""
    return sent_mail("reminder")


def test_reminders_at_14_and_45_days_once_each(app, prisoner, monkeypatch):
    letter = sent_letter(prisoner, days_ago=14)
    sent_letter(prisoner, days_ago=13, email="too-early@example.org")

    send_reminders.call_local()
    send_reminders.call_local()

    [first] = reminders()
    assert first.recipient == "writer@example.org"
    assert first.subject == "A reminder from Konvert"
    assert "Горинов" not in first.subject
    subscription = db.session.scalar(select(ReminderSubscription).filter_by(letter_id=letter.id))
    assert f"/t/{letter.token}" in first.body_text
    assert f"/unsubscribe/reminder/{subscription.token}" in first.body_text
    assert f"/unsubscribe/reminder/{subscription.token}" in first.body_html
    assert "in the 14 days since" in first.body_text
    assert subscription.reminded_14_at is not None
    assert subscription.reminded_45_at is None

    # 31 days later, still no news: the second and last reminder, once.
    on_day(monkeypatch, TODAY + timedelta(days=31))
    send_reminders.call_local()
    send_reminders.call_local()
    mine = [m for m in reminders() if m.recipient == "writer@example.org"]
    assert len(mine) == 2
    assert "in the 45 days since" in mine[1].body_text
    assert "This is the last reminder." in mine[1].body_text
    # The letter that was 13 days old is now 44: its first reminder only.
    assert [m.recipient for m in reminders()].count("too-early@example.org") == 1

    on_day(monkeypatch, TODAY + timedelta(days=200))
    send_reminders.call_local()
    assert len([m for m in reminders() if m.recipient == "writer@example.org"]) == 2


def test_no_reminder_once_something_else_was_reported(app, prisoner):
    letter = sent_letter(prisoner, days_ago=20)
    add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=2))
    send_reminders.call_local()
    assert reminders() == []


def test_a_subscription_first_seen_late_gets_one_reminder_not_two(app, prisoner):
    letter = sent_letter(prisoner, days_ago=50)
    send_reminders.call_local()
    send_reminders.call_local()
    [only] = reminders()
    assert "This is the last reminder." in only.body_text
    # The last reminder deleted the subscription: nothing is left to send, or to read.
    assert db.session.scalar(select(ReminderSubscription).filter_by(letter_id=letter.id)) is None


def test_supporter_leaves_an_email_apart_from_the_letter(app, client, prisoner):
    letter = make_letter(prisoner)
    url = f"/t/{letter.token}/reminders"

    bad = submit(client, url, {"email": "not an address"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'value="not an address"' in html
    assert "Enter one email address" in html
    assert db.session.scalar(select(ReminderSubscription)) is None

    good = submit(client, url, {"email": "me@example.org"})
    assert good.status_code == 302
    subscription = db.session.scalar(select(ReminderSubscription))
    assert subscription.letter_id == letter.id
    assert subscription.email == "me@example.org"
    assert not subscription.confirmed
    db.session.refresh(letter)
    assert all(
        "me@example.org" not in str(getattr(letter, column.key))
        for column in Letter.__table__.columns
    )
    waiting = follow(client, good)
    [notice] = flashed(waiting)
    assert notice.startswith("Check your mailbox: Konvert sent a link to confirm this address.")
    # The writer sees which address is kept, and that it waits for confirmation.
    assert "Waiting for confirmation: Konvert sent a link to me@example.org." in page_text(waiting)

    [mail] = sent_mail("confirm_address", to="me@example.org")
    link = "/confirm/" + mail.body_text.split("/confirm/")[1].split()[0]
    confirmed = submit(client, link)
    assert "Your address is confirmed" in page_text(confirmed)
    again = follow(client, submit(client, url, {"email": "me@example.org"}))
    [notice] = flashed(again)
    assert notice.startswith("Done: Konvert will remind you if there is no news 14 and 45 days")
    assert "deletes your address" in notice
    assert "Reminders for this letter go to me@example.org." in page_text(again)
    assert len(sent_mail("confirm_address")) == 1  # confirmed already: nothing more sent


def test_one_click_delete_takes_a_post_and_get_changes_nothing(app, client, prisoner):
    letter = sent_letter(prisoner, days_ago=3)
    subscription = db.session.scalar(select(ReminderSubscription))
    url = f"/unsubscribe/reminder/{subscription.token}"

    page = client.get(url)
    assert page.status_code == 200
    assert "Delete your address" in page_text(page)
    # A link scanner's prefetch deletes nothing.
    assert db.session.scalar(select(ReminderSubscription)) is not None

    done = submit(client, page, action=url)
    assert done.status_code == 200
    assert "Your address is deleted" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(ReminderSubscription)) is None
    assert db.session.get(Letter, letter.id) is not None
    gone = client.get(url)
    assert gone.status_code == 404
    assert "Konvert has no address for this link" in page_text(gone)


# --- transfer alerts -----------------------------------------------------------------------------


def test_follow_and_unfollow_a_prisoner(app, client, prisoner):
    url = f"/prisoners/{prisoner.id}/follow"

    bad = submit(client, url, {"email": "me@"})
    assert bad.status_code == 422
    assert 'value="me@"' in bad.get_data(as_text=True)
    assert "Enter one email address, like name@example.org." in page_text(bad)
    assert db.session.scalar(select(Follow)) is None

    for _twice in range(2):
        response = submit(client, url, {"email": "me@example.org"})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/prisoners/{prisoner.id}")
        [notice] = flashed(follow(client, response))
        assert notice.startswith("Check your mailbox: Konvert sent a link to confirm this")
        assert "an address not confirmed within 48 hours is deleted" in notice
    [following] = db.session.scalars(select(Follow)).all()  # following twice keeps one row
    assert following.email == "me@example.org"
    assert len(sent_mail("confirm_address", to="me@example.org")) == 1  # and one email

    unfollow_url = f"/unfollow/{following.token}"
    confirm = client.get(unfollow_url)
    assert confirm.status_code == 200
    assert "Delete your address" in page_text(confirm)
    assert db.session.scalar(select(Follow)) is not None
    done = submit(client, confirm, action=unfollow_url)
    assert done.status_code == 200
    assert "will not write to you about this person again" in page_text(done)
    db.session.expire_all()
    assert db.session.scalar(select(Follow)) is None
    again = submit(client, confirm, action=unfollow_url)
    assert again.status_code == 404
    assert "Nothing to delete" in page_text(again)


def test_transfer_alert_goes_to_followers_with_a_neutral_subject(app, inbox, prisoner):
    other = make_prisoner(last_name="Иванов", first_name="Иван", patronymic="Иванович")
    confirm_address(follow_prisoner(prisoner, "friend@example.org"))
    confirm_address(follow_prisoner(other, "stranger@example.org"))
    db.session.commit()

    assert notify_followers_of_transfer(prisoner) == 1
    db.session.commit()

    [received] = [m for m in inbox.messages if m["Subject"] != "Confirm your email address"]
    assert received["To"] == "friend@example.org"
    assert received["Subject"] == "An update from Konvert"
    assert "Горинов" not in received["Subject"]
    body = inbox.text(received)
    assert "Горинов Алексей Александрович" in body
    follow = db.session.scalar(select(Follow).filter_by(prisoner_id=prisoner.id))
    assert follow.email == "friend@example.org"
    assert f"/unfollow/{follow.token}" in body
    assert f"/prisoners/{prisoner.id}" in body


# --- weekly digest -------------------------------------------------------------------------------


def test_weekly_digest_goes_to_active_organizers_once_a_week(app, inbox, prisoner):
    make_user(email="organizer@example.org")
    make_user(email="admin@example.org", role=Role.ADMIN)
    make_user(email="gone@example.org", active=False)
    letter = make_letter(prisoner, written=TODAY - timedelta(days=2), signature="Секретная Аня")
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=1))
    make_letter(prisoner, written=TODAY - timedelta(days=30))  # before the week
    jobs.huey.storage.flush_all()  # the week's "digest sent" mark from an earlier test

    send_weekly_digest.call_local()
    send_weekly_digest.call_local()  # the same week: not again

    recipients = sorted(m["To"] for m in inbox.messages)
    assert recipients == ["admin@example.org", "organizer@example.org"]
    body = inbox.text(inbox.messages[0])
    assert inbox.messages[0]["Subject"] == "Your weekly Konvert summary"
    assert "Letters and appeals written: 1" in body
    assert "Reported sent: 1" in body
    assert "Секретная Аня" not in body
    assert "Горинов" not in body


def test_reminders_come_in_the_language_of_the_letter(app, prisoner):
    letter = make_letter(prisoner, written=TODAY - timedelta(days=20), language="ru")
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=15))
    confirm_address(subscribe_to_reminders(letter, "pisatel@example.org"))
    db.session.commit()
    send_reminders.call_local()
    [message] = sent_mail("reminder", language="ru")
    assert message.subject == "Напоминание от Konvert"


# --- one click in the mail program (RFC 8058) ------------------------------------------------


def _one_click_link(message) -> str:
    """The path of the message's List-Unsubscribe link, checked to be a one-click one."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = str(message["List-Unsubscribe"]).strip()  # a long one is folded onto a new line
    assert header.startswith("<http") and header.endswith(">")
    return urlsplit(header[1:-1]).path


def test_one_click_in_the_mail_program_stops_the_transfer_alerts(app, client, inbox, prisoner):
    confirm_address(follow_prisoner(prisoner, "friend@example.org"))
    db.session.commit()
    notify_followers_of_transfer(prisoner)
    db.session.commit()
    [alert] = [m for m in inbox.messages if m["Subject"] == "An update from Konvert"]
    path = _one_click_link(alert)
    assert path.startswith("/unfollow/") and path in inbox.text(alert)  # the same as the body's
    # A bare POST (neither the page's token nor the one-click body) is refused.
    assert client.post(path, data={}).status_code == 400
    assert db.session.scalar(select(Follow)) is not None
    # The mail program's one click, with no page and no CSRF token, ends it.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Follow)) is None


def test_one_click_deletes_the_reminder_address_and_the_last_reminder_has_none(
    app, client, inbox, prisoner
):
    letter = make_letter(prisoner, written=TODAY - timedelta(days=20))
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=15))
    confirm_address(subscribe_to_reminders(letter, "pisatel@example.org"))
    db.session.commit()
    send_reminders.call_local()
    [reminder] = [m for m in inbox.messages if m["To"] == "pisatel@example.org"][-1:]
    path = _one_click_link(reminder)
    assert path.startswith("/unsubscribe/reminder/")
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ReminderSubscription)) is None

    # The final message deletes the address itself: nothing left to unsubscribe from.
    other = make_letter(prisoner, written=TODAY - timedelta(days=80))
    add_event(other, EventKind.SENT, TODAY - timedelta(days=75))
    confirm_address(subscribe_to_reminders(other, "last@example.org"))
    db.session.commit()
    send_reminders.call_local()
    [last] = [m for m in inbox.messages if m["To"] == "last@example.org"][-1:]
    assert last["List-Unsubscribe"] is None


def test_one_click_turns_the_translators_digest_off(app, client, inbox, prisoner):
    translator = make_user(
        email="anna@example.org", role=Role.TRANSLATOR, translates_from="en", translates_into="ru"
    )
    letter = make_letter(prisoner, language="en")
    db.session.add(
        Translation(
            letter=letter, kind=TranslationKind.LETTER, source_language="en", target_language="ru"
        )
    )
    db.session.commit()
    assert send_translator_digest(utcnow()) == 1
    db.session.commit()
    [digest] = [m for m in inbox.messages if m["To"] == "anna@example.org"]
    path = _one_click_link(digest)
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    db.session.expire_all()
    user = db.session.get(User, translator.id)
    assert user is not None and user.wants_digest is False
