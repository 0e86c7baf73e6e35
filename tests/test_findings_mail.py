"""Issue 13, findings 1, 2 and 10: the mail feature after the outside audit.

1. Anyone could subscribe anyone's address: follows and reminders now need double opt-in.
2. The outbox kept secrets forever: sent (and long-dead) messages keep only kind, status and
   times, and deleting an address deletes its mail.
10. The Host header reached emails: every emailed link is built on KONVERT_PUBLIC_URL.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.drives import services as drives
from app.extensions import db
from app.mail import tasks as mail_tasks
from app.mail.services import confirm_address, follow_prisoner, notify_followers_of_transfer
from app.models import (
    EventKind,
    Follow,
    OutboxMessage,
    OutboxStatus,
    ReminderSubscription,
    Role,
)
from app.models.base import utcnow
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_prisoner, make_user
from tests.mailbox import sent_mail

ROOT = Path(__file__).resolve().parent.parent
TODAY = date.today()
PUBLIC_URL = "https://konvert.example.org"
CONFIRM_LINK = re.compile(r"https?://\S+/confirm/([A-Za-z0-9_-]{43})")


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


@pytest.fixture
def smtp_down(app) -> None:
    """Mail goes to a loopback port nothing listens on: every message stays pending."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)


def confirm_link(mail) -> str:
    """The path of the confirmation link in a confirmation email."""
    match = CONFIRM_LINK.search(mail.body_text)
    assert match, mail.body_text
    assert match.group(0) in mail.body_html
    return f"/confirm/{match.group(1)}"


def every_stored_value() -> str:
    """Everything the database holds, as text: what a copy of the disk would reveal."""
    db.session.expire_all()
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            values.extend(str(value) for value in row)
    return "\n".join(values)


def run_hourly_job_at(monkeypatch, moment) -> None:
    """The hourly job that forgets expired mail, as if it ran at ``moment``."""
    monkeypatch.setattr(mail_tasks, "utcnow", lambda: moment)
    mail_tasks.forget_expired_mail.call_local()


# --- finding 1: double opt-in ----------------------------------------------------------------


def test_finding_01_a_follow_gets_one_neutral_confirmation_and_no_alert_until_confirmed(
    app, client, prisoner
):
    response = submit(
        client, f"/prisoners/{prisoner.id}/follow", {"email": "stranger@example.org"}
    )
    [notice] = flashed(follow(client, response))
    assert notice.startswith(
        "Check your mailbox: Konvert sent a link to confirm this address. Nothing else will be "
        "sent to it until the link is opened"
    )

    [mail] = sent_mail()
    assert mail.recipient == "stranger@example.org"
    assert mail.subject == "Confirm your email address"
    for revealing in ("Горинов", "Алексей", "Gorinov", "prisoner", "transfer", "facility"):
        assert revealing not in mail.subject + mail.body_text + mail.body_html
    link = confirm_link(mail)
    following = db.session.scalar(select(Follow))
    assert not following.confirmed
    # Only a keyed hash of the link's token is kept.
    assert link.rsplit("/", 1)[1] not in every_stored_value()

    # A transfer before confirmation: nothing goes to the address.
    assert notify_followers_of_transfer(prisoner) == 0
    db.session.commit()
    assert sent_mail("transfer_alert") == []

    # A mail scanner opening the link confirms nothing; the page says what it is about.
    page = client.get(link)
    assert page.status_code == 200
    assert "Горинов Алексей Александрович" in page_text(page)
    db.session.expire_all()
    assert not db.session.scalar(select(Follow)).confirmed

    done = submit(client, page, action=link)
    assert "Your address is confirmed" in page_text(done)
    assert notify_followers_of_transfer(prisoner) == 1
    db.session.commit()
    [alert] = sent_mail("transfer_alert")
    assert alert.recipient == "stranger@example.org"

    # The link works once.
    again = client.get(link)
    assert again.status_code == 404
    assert "This link does not work" in page_text(again)
    assert len(sent_mail("confirm_address")) == 1


def test_finding_01_a_reminder_address_gets_only_the_confirmation_until_confirmed(
    app, client, prisoner
):
    letter = make_letter(prisoner, written=TODAY - timedelta(days=21), language="en")
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=20))
    response = submit(client, f"/t/{letter.token}/reminders", {"email": "someone@example.org"})
    assert "Waiting for confirmation" in page_text(follow(client, response))

    [mail] = sent_mail()
    assert mail.subject == "Confirm your email address"
    body = mail.body_text + mail.body_html
    assert letter.token not in body  # the letter's private link never goes to the address
    assert "Горинов" not in body and "Тбилиси" not in body and "letter" not in body

    mail_tasks.send_reminders.call_local()
    assert sent_mail("reminder") == []

    submit(client, confirm_link(mail))
    mail_tasks.send_reminders.call_local()
    [reminder] = sent_mail("reminder")
    assert reminder.recipient == "someone@example.org"


def test_finding_01_unconfirmed_addresses_are_deleted_after_48_hours(
    app, client, prisoner, monkeypatch
):
    letter = make_letter(prisoner)
    submit(client, f"/t/{letter.token}/reminders", {"email": "unconfirmed@example.org"})
    submit(client, f"/prisoners/{prisoner.id}/follow", {"email": "unconfirmed@example.org"})
    confirm_address(follow_prisoner(prisoner, "confirmed@example.org"))
    db.session.commit()
    links = [confirm_link(mail) for mail in sent_mail(to="unconfirmed@example.org")]
    assert len(links) == 2

    now = utcnow()
    run_hourly_job_at(monkeypatch, now + timedelta(hours=47))
    assert db.session.scalar(select(ReminderSubscription)) is not None
    assert len(db.session.scalars(select(Follow)).all()) == 2

    # Past 48 hours the links stop working even before the job runs…
    monkeypatch.setattr("app.mail.services.utcnow", lambda: now + timedelta(hours=49))
    assert all(client.get(link).status_code == 404 for link in links)
    # …and the job deletes the addresses with their mail.
    run_hourly_job_at(monkeypatch, now + timedelta(hours=49))
    db.session.expire_all()
    assert db.session.scalar(select(ReminderSubscription)) is None
    [kept] = db.session.scalars(select(Follow)).all()
    assert kept.email == "confirmed@example.org"
    assert "unconfirmed@example.org" not in every_stored_value()
    assert db.session.scalars(select(OutboxMessage.follow_id)).all() == [kept.id]


def test_finding_01_opt_ins_are_rate_limited_per_address_and_per_prisoner(app, client):
    app.config["RATELIMIT_OPTIN_ADDRESS"] = "2 per hour"
    app.config["RATELIMIT_OPTIN_PRISONER"] = "3 per hour"
    facility = make_facility()
    people = [make_prisoner(facility, last_name=name) for name in ("Иванов", "Петров", "Сидоров")]
    letter = make_letter(people[0])

    # One address: across follows and reminders, whatever its case.
    for url, address in (
        (f"/prisoners/{people[0].id}/follow", "x@example.org"),
        (f"/t/{letter.token}/reminders", "X@Example.org"),
    ):
        assert submit(client, url, {"email": address}).status_code == 302
    refused = submit(client, f"/prisoners/{people[1].id}/follow", {"email": " x@example.org"})
    assert refused.status_code == 429
    assert "Too many requests" in page_text(refused)
    assert len(sent_mail()) == 2

    # One prisoner: a list of addresses cannot all be subscribed to them.
    for number in range(3):
        answer = submit(client, f"/prisoners/{people[2].id}/follow", {"email": f"{number}@a.org"})
        assert answer.status_code == 302
    refused = submit(client, f"/prisoners/{people[2].id}/follow", {"email": "4@a.org"})
    assert refused.status_code == 429
    assert db.session.scalar(select(Follow).filter_by(email="4@a.org")) is None


# --- finding 2: the outbox forgets ---------------------------------------------------------------


def test_finding_02_sent_mail_keeps_only_kind_status_and_times(app, client, organizer, admin):
    submit(client, "/password/forgot", {"email": "organizer@example.org"})
    log_in(client, admin)
    invited = submit(
        client,
        "/admin/users",
        {"email": "new@example.org", "role": "organizer"},
        action="/admin/invitations",
    )
    assert flashed(follow(client, invited)) == ["Invitation sent to new@example.org."]
    reset, invitation = sent_mail("password_reset"), sent_mail("invitation")
    tokens = [
        re.search(r"/password/reset/([A-Za-z0-9_-]{43})", reset[0].body_text).group(1),
        re.search(r"/invitations/([A-Za-z0-9_-]{43})", invitation[0].body_text).group(1),
    ]

    stored = every_stored_value()
    for token in tokens:
        assert token not in stored
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.kind for m in messages] == ["password_reset", "invitation"]
    for message in messages:
        assert message.status is OutboxStatus.SENT
        assert message.created_at and message.sent_at
        assert (message.recipient, message.subject, message.body_text, message.body_html) == (
            "",
            "",
            "",
            "",
        )

    # The admins' page still lists them: kind, status and times.
    page = client.get("/admin/outbox")
    text = page_text(page)
    assert page.status_code == 200
    assert "Password reset" in text and "Account invitation" in text and "Sent (2)" in text
    assert "password_reset" not in text  # the kind in words, not its key
    assert "new@example.org" not in text and "Send again" not in text


def test_finding_02_dead_mail_loses_its_content_after_n_days(
    app, client, admin, smtp_down, monkeypatch
):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    app.config["OUTBOX_DEAD_KEEP_DAYS"] = 7
    submit(client, "/password/forgot", {"email": "admin@example.org"})
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.status is OutboxStatus.DEAD
    assert "/password/reset/" in message.body_text  # an admin may still send it again
    died = message.next_attempt_at

    run_hourly_job_at(monkeypatch, died + timedelta(days=6))
    db.session.expire_all()
    assert "/password/reset/" in db.session.get(OutboxMessage, message.id).body_text

    run_hourly_job_at(monkeypatch, died + timedelta(days=7))
    db.session.expire_all()
    pruned = db.session.get(OutboxMessage, message.id)
    assert (pruned.kind, pruned.status) == ("password_reset", OutboxStatus.DEAD)
    assert (pruned.created_at, pruned.next_attempt_at) == (message.created_at, died)
    assert (
        pruned.recipient,
        pruned.subject,
        pruned.body_text,
        pruned.body_html,
        pruned.last_error,
    ) == ("",) * 5

    log_in(client, admin)
    page = client.get("/admin/outbox?status=dead")
    assert "Gave up (1)" in page_text(page) and "Send again" not in page_text(page)
    # Re-queueing by hand (with a token from another form) is refused: nothing is left to send.
    refused = submit(
        client, "/admin/users", action=f"/admin/outbox/{message.id}/requeue?status=dead"
    )
    assert "its content is deleted, it cannot be sent" in page_text(follow(client, refused))


def test_finding_02_deleting_an_address_deletes_its_mail(app, client, prisoner, smtp_down):
    letter = make_letter(prisoner, written=TODAY - timedelta(days=21), language="en")
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=20))
    subscription = ReminderSubscription.made(
        letter_id=letter.id, letter_token=letter.token, token="r" * 43, email="r@example.org"
    )
    follow_row = Follow.made(prisoner_id=prisoner.id, token="f" * 43, email="f@example.org")
    for row in (subscription, follow_row):
        confirm_address(row)
        db.session.add(row)
    db.session.commit()
    mail_tasks.send_reminders.call_local()
    assert notify_followers_of_transfer(prisoner) == 1
    db.session.commit()
    pending = db.session.scalars(select(OutboxMessage.status)).all()
    assert pending == [OutboxStatus.PENDING] * 2  # the server is down: both wait

    for url in ("/unsubscribe/reminder/" + "r" * 43, "/unfollow/" + "f" * 43):
        assert "Your address is deleted" in page_text(submit(client, url))
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert "r@example.org" not in every_stored_value()
    assert "f@example.org" not in every_stored_value()


def test_finding_02_a_replaced_reminder_address_loses_its_mail(app, client, prisoner, smtp_down):
    letter = make_letter(prisoner)
    url = f"/t/{letter.token}/reminders"
    submit(client, url, {"email": "old@example.org"})
    submit(client, url, {"email": "new@example.org"})
    assert "old@example.org" not in every_stored_value()
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient == "new@example.org"


# --- finding 10: links only on KONVERT_PUBLIC_URL ------------------------------------------------


def test_finding_10_emailed_links_ignore_a_forged_host_header(app, client, prisoner):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    organizer = make_user(email="organizer@example.org", role=Role.ORGANIZER)
    drive = drives.create_drive(
        organizer,
        drives.DriveInput(
            title="Вечер писем",
            held_on=TODAY,
            place="",
            prisoner_ids=[prisoner.id],
            template_ids=[],
            target_per_prisoner=1,
        ),
    )
    db.session.commit()
    letter = make_letter(prisoner)
    forged = {"base_url": "http://evil.example"}
    log_in(client, organizer, **forged)

    invite = f"/drives/{drive.id}/invite"
    submit(client, f"/drives/{drive.id}", {"emails": "guest@example.org"}, invite, **forged)
    submit(client, f"/prisoners/{prisoner.id}/follow", {"email": "a@example.org"}, **forged)
    submit(client, f"/t/{letter.token}/reminders", {"email": "b@example.org"}, **forged)
    submit(client, "/password/forgot", {"email": "organizer@example.org"}, **forged)

    mails = sent_mail()
    assert {mail.recipient for mail in mails} == {
        "guest@example.org",
        "a@example.org",
        "b@example.org",
        "organizer@example.org",
    }
    for mail in mails:
        links = re.findall(r"https?://[^\s\"<>]+", mail.body_text + mail.body_html)
        assert links, mail.body_text
        assert all(link.startswith(PUBLIC_URL + "/") for link in links), links
    assert drive.join_token in sent_mail("drive_invitation", language="ru")[0].body_text


def test_finding_10_production_refuses_to_start_without_public_url(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KONVERT_") and not key.startswith("FLASK_")
    }
    env.update(
        KONVERT_CONFIG="production",
        KONVERT_INSTANCE_PATH=str(tmp_path),
        KONVERT_SECRET_KEY="a production secret",
    )
    started = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "Set KONVERT_PUBLIC_URL to the address people open Konvert at" in started.stderr


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"HOST": "127.0.0.2", "PORT": "8123"}, "http://127.0.0.2:8123"),
        ({"HOST": "::1", "PORT": "8124"}, "http://[::1]:8124"),
        ({"PORT": "8125", "KONVERT_PUBLIC_URL": PUBLIC_URL}, PUBLIC_URL),
    ],
)
def test_finding_10_make_run_serves_links_on_its_own_host_and_port(tmp_path, settings, expected):
    # scripts/run.sh in a copy of the tree whose programs only record what they were given.
    tree = tmp_path / "konvert"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "run.sh", tree / "scripts" / "run.sh")
    programs = tree / ".venv" / "bin"
    programs.mkdir(parents=True)
    record = tmp_path / "public_urls"
    for name in ("flask", "huey_consumer", "gunicorn", "python", "python3"):
        stub = programs / name
        stub.write_text(f'#!/bin/sh\necho "$KONVERT_PUBLIC_URL" >> "{record}"\n')
        stub.chmod(0o755)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"HOST", "PORT"} and not key.startswith("KONVERT_")
    }
    env.update(KONVERT_INSTANCE_PATH=str(tmp_path / "instance"), KONVERT_DEMO="0", **settings)
    done = subprocess.run(
        ["bash", str(tree / "scripts" / "run.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert set(record.read_text().split()) == {expected}
