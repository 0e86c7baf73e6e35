"""`make scale-test`: Konvert as an organisation scales it, with faults, on loopback.

Two "machines" share a PostgreSQL database, a real redis-server (the job queue and the rate-limit
counts) and an SMTP sink. The scenarios fail on any server error outside a deliberate outage,
any write the server confirmed and then lost, any duplicate, or any job that does not end.

Not part of `make test` (the marker ``scale`` is deselected there): `make scale-test` runs it,
and `.ci/run` after the tests.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import pytest
from flask import Flask
from flask.ctx import AppContext
from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.mail.services import queue_email
from app.models import EventKind, Letter, MailEvent, OutboxMessage, OutboxStatus
from tests.factories import make_facility, make_letter, make_prisoner
from tests.postgres import PostgresServer, restart_server, truncate_all_tables
from tests.servers import Served, consumer_sh, free_port, redis_server, run_sh
from tests.test_concurrent_writes import (
    Browser,
    _assignment_counts,
    _drive,
    _organizer,
    _prisoners,
    at_once,
)
from tests.test_mail import Inbox, reminder_context, smtp_server

pytestmark = pytest.mark.scale

END_SECONDS = 90  # a job, a delivery or a retry must end within this (leases are shorter)


@dataclass
class Cluster:
    """The running set-up: what the scenarios drive and what they check against."""

    machines: list[Served]  # the web servers, one per machine
    processes: list[Served]  # every process whose log is read for server errors
    database_url: str
    redis_url: str
    smtp_port: int
    folder: Path
    _app: Flask | None = None
    _log_marks: list[int] | None = None

    def context(self) -> AppContext:
        """An app context on the shared database and queue, for setting up data and reading
        results (the app is made once: it binds the job queue to this Redis)."""
        if self._app is None:
            self._app = create_app(
                "testing",
                {
                    "SQLALCHEMY_DATABASE_URI": self.database_url,
                    "INSTANCE_PATH": str(self.folder / "test-side"),
                    "REDIS_URL": self.redis_url,
                    "HUEY_IMMEDIATE": False,
                },
            )
        return self._app.app_context()

    def close(self) -> None:
        """Close this side's pooled database connections (left open they would be collected
        unclosed at exit, which pytest reports as an error)."""
        if self._app is not None:
            with self._app.app_context():
                db.session.remove()
                db.engine.dispose()

    def mark_logs(self) -> None:
        """From now on, server_errors() reads only what the machines log from here."""
        self._log_marks = [len(process.log_text()) for process in self.processes]

    def server_errors(self) -> list[str]:
        """Tracebacks the machines logged since the last mark: every one is a server error."""
        errors = []
        marks = self._log_marks or [0] * len(self.processes)
        for process, mark in zip(self.processes, marks, strict=True):
            text = process.log_text()[mark:]
            errors += [part[:3000] for part in text.split("Traceback (most recent")[1:]]
        return errors


@pytest.fixture(scope="module")
def cluster(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """PostgreSQL, Redis, an SMTP port and two machines serving from them."""
    folder = tmp_path_factory.mktemp("scale")
    (folder / "test-side").mkdir()
    emptying = create_app("testing", {"SQLALCHEMY_DATABASE_URI": postgres_server.url,
                                      "INSTANCE_PATH": str(folder / "test-side")})  # fmt: skip
    with emptying.app_context():
        truncate_all_tables()
        db.engine.dispose()
    smtp_port = free_port()
    with redis_server(folder) as redis_url:
        settings = {
            "DATABASE_URL": postgres_server.url,
            "REDIS_URL": redis_url,
            "RATELIMIT_PUBLIC_WRITES": "100000 per minute",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "MAIL_USE_TLS": "0",
            "OUTBOX_BACKOFF_SECONDS": "1",
            "OUTBOX_BACKOFF_MAX_SECONDS": "2",
        }
        with ExitStack() as stack:
            # Machine 0 as `make run` serves (setup, web, a consumer running the schedule);
            # machine 1 as the other machines of a deployment: a web server and a worker that
            # leaves the schedule to machine 0.
            first = folder / "machine-0"
            second = folder / "machine-1"
            first.mkdir()
            second.mkdir()
            machines = [
                stack.enter_context(run_sh(first, settings, folder / "machine-0.log")),
                stack.enter_context(run_sh(second, settings, folder / "web-1.log", role="web")),
            ]
            worker = stack.enter_context(
                consumer_sh(second, settings, folder / "worker-1.log", role="worker")
            )
            cluster = Cluster(
                machines, [*machines, worker], postgres_server.url, redis_url, smtp_port, folder
            )
            yield cluster
            cluster.close()


@pytest.fixture(autouse=True)
def _errors_of_this_scenario(cluster: Cluster) -> None:
    """Each scenario answers for the server errors logged while it ran, not before."""
    cluster.mark_logs()


def _post_json(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _all_at_once(calls: list[Callable[[], tuple[int, dict[str, object]]]]) -> list[int]:
    """Run the calls in threads released together; their statuses, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _wait_for(condition: Callable[[], bool], seconds: float = END_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def test_the_same_report_sent_to_both_machines_at_once_is_recorded_once(cluster: Cluster):
    """Two supporters' clicks (or one impatient one) on two machines: one "sent" event per
    letter, every answer the one the first report got, no server error."""
    with cluster.context():
        prisoner = make_prisoner(make_facility())
        tokens = [make_letter(prisoner).token for _ in range(10)]
        db.session.commit()
    report = {"kind": "sent", "date": date.today().isoformat(), "channel": "post"}
    for token in tokens:
        urls = [f"{machine.url}/api/v1/letters/{token}/events" for machine in cluster.machines]
        calls = [partial(_post_json, url, report) for url in urls for _ in range(2)]
        statuses = _all_at_once(calls)
        assert statuses == [201] * len(calls), statuses
    with cluster.context():
        sent = db.session.execute(
            select(MailEvent.letter_id, func.count())
            .where(MailEvent.kind == EventKind.SENT)
            .group_by(MailEvent.letter_id)
        ).all()
    assert len(sent) == len(tokens) and {count for _, count in sent} == {1}
    assert cluster.server_errors() == []


def test_mail_queued_while_smtp_is_down_is_delivered_once_when_it_is_back(cluster: Cluster):
    """Both consumers try while the SMTP server is down, back off, and deliver each message
    exactly once when it returns."""
    addresses = [f"reader{number}@example.org" for number in range(5)]
    with cluster.context():
        for address in addresses:
            queue_email(address, "reminder", reminder_context())
        db.session.commit()  # the commit enqueues delivery on Redis for either consumer

        def statuses() -> set[OutboxStatus]:
            db.session.rollback()
            return set(db.session.scalars(select(OutboxMessage.status)))

        def attempts() -> list[int]:
            db.session.rollback()
            return list(db.session.scalars(select(OutboxMessage.attempts)))

        # Down: each message is tried, fails, and waits for its retry.
        assert _wait_for(lambda: all(tried >= 1 for tried in attempts())), attempts()
        assert statuses() == {OutboxStatus.PENDING}
        inbox: Inbox
        with smtp_server(cluster.smtp_port) as inbox:
            # Back up: a new message's delivery also takes the waiting ones.
            queue_email("late@example.org", "reminder", reminder_context())
            db.session.commit()
            assert _wait_for(lambda: statuses() == {OutboxStatus.SENT}), statuses()
            time.sleep(3)  # time for a duplicate to arrive, if there were one
            received = sorted(message["To"] for message in inbox.messages)
        db.session.remove()
    assert received == sorted([*addresses, "late@example.org"])
    assert cluster.server_errors() == []


def test_a_database_restart_under_writers_loses_no_confirmed_report(
    cluster: Cluster, postgres_server: PostgresServer
):
    """Writers report on both machines while PostgreSQL restarts. What a machine confirmed
    (201) is stored once; after the restart every request succeeds (pooled connections that
    the restart closed are replaced, not handed to a request)."""
    with cluster.context():
        prisoner = make_prisoner(make_facility())
        tokens = [make_letter(prisoner).token for _ in range(40)]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # this side's pooled connection would die in the restart
    report = {"kind": "sent", "date": date.today().isoformat(), "channel": "post"}
    answers: list[tuple[str, int, float]] = []  # token, status, when the request started

    def write(share: list[str], url: str) -> None:
        for token in share:
            started = time.monotonic()
            status = _post_json(f"{url}/api/v1/letters/{token}/events", report)[0]
            answers.append((token, status, started))
            time.sleep(0.15)  # spread the writes over the restart

    writers = [
        threading.Thread(target=write, args=(tokens[i::4], cluster.machines[i % 2].url))
        for i in range(4)
    ]
    for writer in writers:
        writer.start()
    time.sleep(0.5)
    restart_server(postgres_server)
    restarted = time.monotonic()
    for writer in writers:
        writer.join()

    after_restart = [status for _, status, started in answers if started > restarted]
    assert after_restart and set(after_restart) == {201}, after_restart
    confirmed = {token for token, status, _ in answers if status == 201}
    # What was refused during the outage is sent again, as a supporter would: accepted now.
    for token in set(tokens) - confirmed:
        assert (
            _post_json(f"{cluster.machines[0].url}/api/v1/letters/{token}/events", report)[0]
            == 201
        )
    with cluster.context():
        db.session.rollback()
        stored = db.session.execute(
            select(Letter.token, func.count(MailEvent.id))
            .join(MailEvent, MailEvent.letter_id == Letter.id)
            .where(Letter.token.in_(tokens), MailEvent.kind == EventKind.SENT)
            .group_by(Letter.token)
        ).all()
    assert dict(stored) == dict.fromkeys(tokens, 1)
    for machine in cluster.machines:
        for page in ("/", "/stats", "/prisoners"):
            with urllib.request.urlopen(machine.url + page, timeout=30) as response:
                assert response.status == 200


def test_participants_joining_through_both_machines_at_once_stay_balanced(cluster: Cluster):
    """Eight people join one evening at the same moment, half through each machine, and get
    two prisoners each: every prisoner gets two writers, as if they had come one by one."""
    with cluster.context():
        prisoners = _prisoners(8)
        drive = _drive(_organizer(), prisoners)
        path = f"/join/{drive.join_token}"
        browsers = [Browser(cluster.machines[number % 2].url) for number in range(8)]
        for browser in browsers:
            browser.open(path)
        joined = at_once(
            [
                partial(browser.post, path, {"name": f"Гость {number}", "languages": "ru"})
                for number, browser in enumerate(browsers)
            ]
        )
        assert [answer.status_code for answer in joined] == [302] * 8
        db.session.rollback()
        assert _assignment_counts(drive, prisoners) == [2] * 8
        db.session.remove()
    assert cluster.server_errors() == []
