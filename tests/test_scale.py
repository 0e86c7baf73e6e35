"""`make scale-test`: Konvert as an organisation scales it, with faults, on loopback.

Two "machines" share a PostgreSQL database, a real redis-server (the job queue and the rate-limit
counts) and an SMTP sink (tests/scale_cluster.py). The scenarios fail on any server error
outside a deliberate outage, any write the server confirmed and then lost, any duplicate, or
any job that does not end within its lease: the same report on both machines at once, SMTP
down, a PostgreSQL restart under writers, joins through both machines at once, a consumer
killed (kill -9) or stopped (TERM) while it builds a print pack, Redis stopped or killed, and
"build" pressed on both machines at once.

Not part of `make test` (the marker ``scale`` is deselected there): `make scale-test` runs it,
and `.ci/run` after the tests.
"""

from __future__ import annotations

import io
import json
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.drives import print_jobs
from app.extensions import db
from app.mail.services import queue_email
from app.models import (
    EventKind,
    Letter,
    MailEvent,
    OutboxMessage,
    OutboxStatus,
    PrintJob,
    PrintJobStatus,
)
from app.models.base import utcnow
from app.models.letter import letter_link_hash
from tests.factories import make_facility, make_letter, make_prisoner
from tests.postgres import PostgresServer, restart_server
from tests.scale_cluster import Cluster, running_cluster, wait_gone
from tests.test_concurrent_writes import (
    Browser,
    _assignment_counts,
    _drive,
    _organizer,
    _prisoners,
    at_once,
)
from tests.test_mail import Inbox, reminder_context, smtp_server
from tests.test_print_consumer import children, renderers
from tests.test_print_jobs import INTERRUPTED_TEXT, QUEUE_TEXT
from tests.test_resilience import _reported_letters

pytestmark = pytest.mark.scale

END_SECONDS = 90  # a job, a delivery or a retry must end within this (leases are shorter)
LEASE_SECONDS = 10  # KONVERT_JOB_LEASE_SECONDS of the cluster
QUEUE_TIMEOUT_SECONDS = 30  # KONVERT_JOB_QUEUE_TIMEOUT_SECONDS: a job queued longer was lost
#: Enough letters that a consumer is still rendering the pack when the scenario stops it.
LETTERS = 40
BUILD = {"envelope": "dl", "sender_country": "Грузия"}  # from abroad: envelopes say RUSSIA
ENVELOPE = "РОССИЯ / RUSSIA"
ALREADY_BUILDING = "A print pack is already being built."
TRY_AGAIN = QUEUE_TEXT
CONFIRMATION_SENT = (
    "Check your mailbox: Konvert sent a link to confirm this address. Nothing else will be "
    "sent to it until the link is opened and its button pressed; an address not confirmed "
    "within 48 hours is deleted."
)


@pytest.fixture(scope="module")
def cluster(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """PostgreSQL, Redis, an SMTP port and two machines serving from them (tests/scale_cluster.py).

    Leases are short (a job whose consumer was killed ends within seconds, not minutes, and one
    lost with its queue within half a minute), and a consumer stopped with TERM waits one second
    for the pack at hand before releasing it.
    """
    settings = {
        "RATELIMIT_PUBLIC_WRITES": "100000 per minute",
        "RATELIMIT_PDF": "100000 per minute",
        "OUTBOX_BACKOFF_SECONDS": "1",
        "OUTBOX_BACKOFF_MAX_SECONDS": "2",
        "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "JOB_QUEUE_TIMEOUT_SECONDS": str(QUEUE_TIMEOUT_SECONDS),
        "JOB_STOP_SECONDS": "1",
    }
    with running_cluster(postgres_server, tmp_path_factory.mktemp("scale"), settings) as running:
        yield running


@pytest.fixture(autouse=True)
def _errors_of_this_scenario(cluster: Cluster) -> None:
    """Each scenario starts with machine 1's worker running (one that an earlier scenario
    killed is started again) and answers for the server errors logged while it ran."""
    cluster.ensure_worker()
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


def _wait_for(
    condition: Callable[[], bool], seconds: float = END_SECONDS, every: float = 0.5
) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
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
        by_hash = {letter_link_hash(token): token for token in tokens}
        stored = db.session.execute(
            select(Letter.token_hash, func.count(MailEvent.id))
            .join(MailEvent, MailEvent.letter_id == Letter.id)
            .where(Letter.token_hash.in_(by_hash), MailEvent.kind == EventKind.SENT)
            .group_by(Letter.token_hash)
        ).all()
    assert {by_hash[link_hash]: count for link_hash, count in stored} == dict.fromkeys(tokens, 1)
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


# --- print packs: a consumer killed or stopped mid-pack, builds at the same moment --------------


def _drive_with_letters(email: str, letters: int) -> int:
    """A drive of the organizer ``email`` at which ``letters`` letters were written (to four
    prisoners, in a facility of their own); its id."""
    prisoners = _prisoners(4)
    drive = _drive(email, prisoners)
    for number in range(letters):
        make_letter(
            prisoners[number % len(prisoners)],
            drive_id=drive.id,
            body=f"Здравствуйте! Письмо номер {number + 1}.\n",
        )
    return drive.id


@contextmanager
def _organizer_on_both_machines(cluster: Cluster) -> Iterator[tuple[str, list[Browser]]]:
    """An organizer (their email) logged in once, on machine 0, and the same browser on each
    machine (one session: the machines share the secret key and the database)."""
    email = _organizer()
    first = Browser(cluster.machines[0].url)
    first.log_in(email)
    browsers = [first, *(_tab(first, machine.url) for machine in cluster.machines[1:])]
    try:
        yield email, browsers
    finally:
        for browser in browsers:
            browser.http.close()


def _tab(browser: Browser, url: str) -> Browser:
    """Another tab of ``browser`` (same cookies, same form token), on the machine at ``url``."""
    tab = Browser(url)
    tab.http.cookies.update(browser.http.cookies)
    tab.token = browser.token
    return tab


def _press_build(browser: Browser, drive_id: int) -> list[str]:
    """Press "Build the print pack" on the drive page; the notices the next page shows."""
    browser.open(f"/drives/{drive_id}")
    return browser.follow(browser.post(f"/drives/{drive_id}/print", BUILD))


def _jobs_of(drive_id: int) -> list[PrintJob]:
    """The drive's print jobs as the database has them now, oldest first."""
    db.session.rollback()
    return list(
        db.session.scalars(
            select(PrintJob).where(PrintJob.drive_id == drive_id).order_by(PrintJob.id)
        )
    )


def _job_now(job_id: int) -> PrintJob:
    db.session.rollback()
    job = db.session.get(PrintJob, job_id)
    assert job is not None
    return job


def _ended(job_id: int, seconds: float = END_SECONDS) -> PrintJob:
    """The job once it has ended (done or failed); fails when it is still active."""
    _wait_for(lambda: _job_now(job_id).status not in print_jobs.ACTIVE, seconds)
    job = _job_now(job_id)
    assert job.status not in print_jobs.ACTIVE, f"job {job_id} still {job.status}"
    return job


def _building(pid: int, job_id: int) -> bool:
    """Whether the consumer ``pid`` renders the job's pack now (it claimed the job and its
    rendering processes run)."""
    return _job_now(job_id).status is PrintJobStatus.RUNNING and bool(renderers(pid))


def _downloads_from_every_machine(browsers: list[Browser], drive_id: int, job_id: int) -> int:
    """Download the pack from each machine's web server: the same PDF from each; the number
    of envelopes in it (one per letter)."""
    bodies = []
    for browser in browsers:
        response = browser.http.get(f"{browser.url}/drives/{drive_id}/print/{job_id}.pdf")
        assert response.status_code == 200, (browser.url, response.status_code)
        assert response.headers["Content-Type"] == "application/pdf"
        bodies.append(response.content)
    assert all(body == bodies[0] for body in bodies)
    pages = PdfReader(io.BytesIO(bodies[0])).pages
    return len([page for page in pages if ENVELOPE in page.extract_text()])


def _no_job_active() -> bool:
    db.session.rollback()
    return not db.session.scalar(
        select(func.count()).select_from(PrintJob).where(PrintJob.status.in_(print_jobs.ACTIVE))
    )


def test_a_consumer_killed_mid_pack_leaves_the_pack_to_the_other_machine(cluster: Cluster):
    """kill -9 of the worker rendering a pack: its rendering processes die with it, its job
    ends as interrupted once its lease has run out, a new build is accepted, and the other
    machine's consumer builds the pack, which both machines serve whole."""
    with cluster.context(), _organizer_on_both_machines(cluster) as (email, browsers):
        drive_id = _drive_with_letters(email, LETTERS)
        killed = cluster.worker
        with cluster.only_machine_1_consumes():
            assert _press_build(browsers[0], drive_id) == []
            (job,) = _jobs_of(drive_id)
            assert _wait_for(lambda: _building(killed.process.pid, job.id), every=0.1), (
                killed.log_text()
            )
            family = children(killed.process.pid)
            killed.process.kill()  # kill -9: nothing in the consumer can react
            killed.process.wait()
        assert wait_gone(family), "the killed consumer's rendering processes are still running"

        stuck = _job_now(job.id)
        assert stuck.status is PrintJobStatus.RUNNING  # nobody was left to say otherwise
        assert stuck.done < LETTERS and stuck.lease_until is not None  # killed mid-pack
        while utcnow() <= stuck.lease_until:  # the lease is not renewed any more
            time.sleep(0.2)
        # Built again from the other machine: the request ends the lost job first.
        assert _press_build(browsers[1], drive_id) == []
        interrupted, rebuilt = _jobs_of(drive_id)
        assert interrupted.id == job.id and interrupted.status is PrintJobStatus.FAILED
        assert interrupted.error == print_jobs.INTERRUPTED and interrupted.lease_until is None
        progress = browsers[1].http.get(f"{browsers[1].url}/drives/{drive_id}/print/{job.id}.json")
        assert progress.json()["error"].startswith(INTERRUPTED_TEXT)

        # Machine 1 has no consumer now: machine 0's builds the pack.
        assert _ended(rebuilt.id).status is PrintJobStatus.DONE
        assert _downloads_from_every_machine(browsers, drive_id, rebuilt.id) == LETTERS
        assert _no_job_active()
        db.session.remove()
    assert cluster.server_errors() == []


def test_a_consumer_stopped_with_term_mid_pack_ends_its_job_at_once(cluster: Cluster):
    """TERM of the worker rendering a pack: it exits cleanly, with its rendering processes, and
    its job is never left running: done, or released as interrupted so that a new build is
    accepted at once (not when a lease runs out), which the other machine's consumer builds."""
    with cluster.context(), _organizer_on_both_machines(cluster) as (email, browsers):
        drive_id = _drive_with_letters(email, LETTERS)
        stopped = cluster.worker
        with cluster.only_machine_1_consumes():
            assert _press_build(browsers[0], drive_id) == []
            (job,) = _jobs_of(drive_id)
            assert _wait_for(lambda: _building(stopped.process.pid, job.id), every=0.1), (
                stopped.log_text()
            )
            family = children(stopped.process.pid)
            stopped.process.send_signal(signal.SIGTERM)
            assert stopped.process.wait(timeout=END_SECONDS) == 0, stopped.log_text()[-3000:]
        assert wait_gone(family), "the stopped consumer's rendering processes are still running"

        ended = _job_now(job.id)
        assert ended.status in (PrintJobStatus.DONE, PrintJobStatus.FAILED), ended.status
        assert ended.lease_until is None
        if ended.status is PrintJobStatus.FAILED:  # released: the pack was not finished
            assert ended.error == print_jobs.INTERRUPTED
            assert "interrupted by shutdown" in stopped.log_text()
            assert _press_build(browsers[1], drive_id) == []  # at once
            _, job = _jobs_of(drive_id)
            assert _ended(job.id).status is PrintJobStatus.DONE
        assert _job_now(job.id).status is PrintJobStatus.DONE
        assert _downloads_from_every_machine(browsers, drive_id, job.id) == LETTERS
        assert _no_job_active()
        db.session.remove()
    assert cluster.server_errors() == []  # a graceful stop logs none


def test_build_pressed_on_both_machines_at_once_makes_one_job(cluster: Cluster):
    """A double click on each machine at the same moment, three times over: each time one
    build is accepted, the three others are told it is already being built, and no answer is
    a 500; each pack is built once and both machines serve it."""
    with cluster.context(), _organizer_on_both_machines(cluster) as (email, browsers):
        built = []
        for trial in range(3):
            drive_id = _drive_with_letters(email, 2)
            browsers[0].open(f"/drives/{drive_id}")
            tabs = [_tab(browsers[0], browser.url) for browser in browsers for _ in range(2)]
            path = f"/drives/{drive_id}/print"
            answers = at_once([partial(tab.post, path, BUILD) for tab in tabs])
            assert [answer.status_code for answer in answers] == [302] * 4, f"trial {trial}"
            notices = sorted(tab.follow(answer) for tab, answer in zip(tabs, answers, strict=True))
            assert notices == [[], *[[ALREADY_BUILDING]] * 3], f"trial {trial}"
            for tab in tabs:
                tab.http.close()
            (job,) = _jobs_of(drive_id)
            built.append((drive_id, job.id))
        for drive_id, job_id in built:
            assert _ended(job_id).status is PrintJobStatus.DONE
            assert _downloads_from_every_machine(browsers, drive_id, job_id) == 2
        db.session.remove()
    assert cluster.server_errors() == []


# --- Redis stopped or killed ---------------------------------------------------------------------


def _stats_row(code: str) -> re.Pattern[str]:
    """The facility's row in the slowest facilities of /stats: median 40 days, 5 letters."""
    return re.compile(re.escape(code) + r"</a>.*?>40</td>.*?>5</td>", re.DOTALL)


def _stats_show(url: str, row: re.Pattern[str]) -> bool:
    with urllib.request.urlopen(url + "/stats", timeout=30) as response:
        return response.status == 200 and bool(row.search(response.read().decode()))


def _ask_for_reminders(browser: Browser, token: str, address: str) -> list[str]:
    """A supporter leaves an address for reminders (a confirmation email is queued)."""
    browser.open(f"/t/{token}/reminders")
    return browser.follow(browser.post(f"/t/{token}/reminders", {"email": address}))


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_with_redis_down_builds_say_try_again_and_nothing_fails(cluster: Cluster, how: str):
    """Redis stopped (TERM), or killed outright, and started again empty. Meanwhile "build"
    says to try again in a minute and leaves no job, /stats serves its last figures, reports
    are accepted, an organizer can log in, and a confirmation email waits in the outbox; no
    request fails. Once Redis is back a build goes through, and the waiting email is delivered
    once: by the delivery of the next email (stopped), or by the scheduler's every-minute run
    (killed). Killed, Redis also loses a pack that was still queued: that job ends as
    interrupted once it has waited longer than a queue holds a job, and is built again."""
    code = f"ЛИУ-{1 if how == 'stopped' else 2}"  # a facility code no other scenario uses
    with cluster.context():
        prisoner = make_prisoner(make_facility(code=code, name=f"ФКУ {code}"))
        _reported_letters(prisoner, [30, 34, 40, 41, 50])  # median 40 days
        tokens = [make_letter(prisoner).token for _ in range(4)]
        db.session.commit()
    row = _stats_row(code)
    for machine in cluster.machines:  # the figures are recounted by a consumer, then kept
        assert _wait_for(lambda url=machine.url: _stats_show(url, row)), "figures never shown"
    report = {"kind": "sent", "date": date.today().isoformat(), "channel": "post"}
    waiting, after = f"waiting-{how}@example.org", f"after-{how}@example.org"
    with (
        cluster.context(),
        _organizer_on_both_machines(cluster) as (email, browsers),
        smtp_server(cluster.smtp_port) as inbox,
    ):
        drive_id = _drive_with_letters(email, 2)
        supporter = Browser(cluster.machines[1].url)
        if how == "stopped":
            cluster.redis.stop()
        else:
            # A pack queued while the consumers were busy: Redis dies with it in its queue.
            lost_drive = _drive_with_letters(email, 2)
            with cluster.no_consumer_takes_jobs():
                assert _press_build(browsers[0], lost_drive) == []
                (lost,) = _jobs_of(lost_drive)
                cluster.redis.kill()
        try:
            for browser in browsers:
                assert _press_build(browser, drive_id) == [TRY_AGAIN], browser.url
            assert _jobs_of(drive_id) == []  # no job made, so none left waiting
            reported = [
                _post_json(f"{cluster.machines[n % 2].url}/api/v1/letters/{token}/events", report)
                for n, token in enumerate(tokens[:2])
            ]
            assert [status for status, _ in reported] == [201, 201]
            for machine in cluster.machines:  # out of date now, and no recount can be queued
                assert _stats_show(machine.url, row)  # the last figures, not a 500
            assert _ask_for_reminders(supporter, tokens[2], waiting) == [CONFIRMATION_SENT]
            late = Browser(cluster.machines[1].url)  # logging in counts in the limiter's Redis
            late.log_in(email)
            late.http.close()
            [(message_id, status)] = _outbox_of(waiting)
            assert status is OutboxStatus.PENDING  # kept, to be sent once Redis is back
            assert cluster.failed_requests() == []
        finally:
            cluster.redis.start()

        assert _press_build(browsers[1], drive_id) == []
        (job,) = _jobs_of(drive_id)
        assert _ended(job.id).status is PrintJobStatus.DONE
        assert _downloads_from_every_machine(browsers, drive_id, job.id) == 2
        if how == "killed":
            # The lost pack stays queued no longer than a queue holds a job; then it ends as
            # interrupted (here by the next build, else by the sweeper) and is built again.
            never_taken = _job_now(lost.id)  # queued still, or ended by the sweeper already
            assert never_taken.status in (PrintJobStatus.QUEUED, PrintJobStatus.FAILED)
            while utcnow() <= lost.created_at + timedelta(seconds=QUEUE_TIMEOUT_SECONDS):
                time.sleep(0.5)
            assert _press_build(browsers[1], lost_drive) == []
            interrupted, rebuilt = _jobs_of(lost_drive)
            assert interrupted.status is PrintJobStatus.FAILED
            assert interrupted.error == print_jobs.INTERRUPTED
            assert _ended(rebuilt.id).status is PrintJobStatus.DONE
            assert _downloads_from_every_machine(browsers, lost_drive, rebuilt.id) == 2
        addresses = [waiting]
        if how == "stopped":
            assert _ask_for_reminders(supporter, tokens[3], after) == [CONFIRMATION_SENT]
            addresses.append(after)
        assert _wait_for(lambda: len(inbox.messages) >= len(addresses)), _outbox_now()
        time.sleep(3)  # time for a duplicate to arrive, if there were one
        assert sorted(message["To"] for message in inbox.messages) == sorted(addresses)
        db.session.rollback()
        sent = db.session.get(OutboxMessage, message_id)
        assert sent is not None and sent.status is OutboxStatus.SENT
        supporter.http.close()

        db.session.rollback()
        stored = db.session.scalars(
            select(func.count(MailEvent.id))
            .join(Letter, Letter.id == MailEvent.letter_id)
            .where(
                Letter.token_hash.in_([letter_link_hash(token) for token in tokens[:2]]),
                MailEvent.kind == EventKind.SENT,
            )
            .group_by(Letter.token_hash)
        ).all()
        assert stored == [1, 1]
        db.session.remove()
    assert cluster.failed_requests() == []


def _outbox_now() -> list[tuple[str, str, int]]:
    db.session.rollback()
    return [
        (message.status.value, message.last_error[:200], message.attempts)
        for message in db.session.scalars(select(OutboxMessage))
    ]


def _outbox_of(address: str) -> list[tuple[int, OutboxStatus]]:
    """The messages to ``address`` waiting in the outbox (id, status)."""
    db.session.rollback()
    # Recipients are kept only encrypted: read each message as the delivery job does.
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [(message.id, message.status) for message in messages if message.recipient == address]
