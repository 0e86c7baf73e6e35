"""Print jobs with real Huey consumer processes on a real redis-server, as on a server: a
consumer killed outright or stopped with TERM while it builds a pack. The job always ends, the
rendering processes go with their consumer, and the pack can be built again.

Each test runs on SQLite and on PostgreSQL; the consumer has an instance folder of its own
(another machine, as far as it can tell) and reaches the test's database by its URL.
"""

from __future__ import annotations

import io
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from app import jobs
from app.drives import print_jobs
from app.drives.tasks import end_abandoned_print_jobs
from app.extensions import db
from app.models import Drive, PrintJob, PrintJobStatus
from app.models.base import utcnow
from tests.conftest import flashed, follow, log_in
from tests.servers import REPO, VENV_BIN, konvert_environment, redis_server, stop_group
from tests.test_print_jobs import drive_with_letters, start_pack

WAIT_SECONDS = 120  # the consumer imports the app, then starts and warms up its renderers
#: Enough letters that a pack is still being rendered when the test stops its consumer.
LETTERS = 40


def wait_for(condition: Callable[[], object], what: str, log: Path, seconds: float = WAIT_SECONDS):
    """Poll until ``condition()`` is true; fail with the consumer's log otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    written = log.read_text(errors="replace")[-5000:] if log.exists() else ""
    pytest.fail(f"{what}: not within {seconds} s\n{written}")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, or None when it does not exist."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, parent = text.rsplit(")", 1)[1].split()[:2]
    return state, int(parent)


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    found = _stat(pid)
    return found is not None and found[0] != "Z"


def children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        stat = _stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is not None and stat[1] == pid and stat[0] != "Z":
            found.add(int(entry.name))
    return found


def renderers(pid: int) -> set[int]:
    """The consumer's rendering processes (multiprocessing's spawned workers)."""
    found = set()
    for child in children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.add(child)
    return found


@contextmanager
def consumer(
    app: Flask, folder: Path, name: str, *flags: str, lease: int = 120, **more: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A consumer process as scripts/run.sh starts it (thread workers, TERM graceful), with
    ``flags`` and the KONVERT_* settings ``more``; no periodic jobs, so that the test decides
    when the sweeper runs."""
    instance = folder / name
    instance.mkdir()
    settings = {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "JOB_LEASE_SECONDS": str(lease),
        **more,
    }
    log = folder / f"{name}.log"
    command = [
        str(VENV_BIN / "huey_consumer"), "app.worker.huey", "--workers", "2",
        "--worker-type", "thread", "--delay", "0.1", "--max-delay", "0.5", "--no-periodic",
        "--graceful-signal", "TERM", *flags,
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=konvert_environment(instance, settings),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log
    finally:
        stop_group(process, seconds=60)


@pytest.fixture
def on_redis(any_db_app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The app queues its jobs on a real redis-server, for consumer processes to take."""
    with redis_server(tmp_path) as url:
        any_db_app.config.update(REDIS_URL=url, HUEY_IMMEDIATE=False)
        jobs.bind_queue(any_db_app)
        try:
            yield any_db_app
        finally:
            any_db_app.config.update(REDIS_URL=None, HUEY_IMMEDIATE=True)
            jobs.bind_queue(any_db_app)


def job_now(job_id: int) -> PrintJob:
    """The job as the database has it now (what the consumers wrote)."""
    db.session.rollback()
    job = db.session.get(PrintJob, job_id)
    assert job is not None
    return job


def the_only_job(drive: Drive) -> PrintJob:
    (job,) = db.session.scalars(select(PrintJob).where(PrintJob.drive_id == drive.id))
    return job


def building(process: subprocess.Popen[bytes], job_id: int) -> set[int]:
    """The renderers of ``process`` while it builds the job's pack (empty set otherwise)."""
    if job_now(job_id).status is not PrintJobStatus.RUNNING:
        return set()
    return renderers(process.pid)


def test_a_consumer_killed_mid_pack_takes_its_renderers_and_its_job_ends(on_redis, tmp_path):
    organizer, drive = drive_with_letters(LETTERS)
    client = on_redis.test_client()
    log_in(client, organizer)
    with consumer(on_redis, tmp_path, "killed", lease=10) as (process, log):
        assert start_pack(client, drive).status_code == 302
        job = the_only_job(drive)
        wait_for(lambda: building(process, job.id), "the pack being rendered", log)
        family = children(process.pid)
        assert renderers(process.pid) <= family

        process.kill()  # kill -9: nothing in the consumer can react
        process.wait()
        # Its rendering processes (a few hundred megabytes each) go with it.
        wait_for(lambda: not any(alive(pid) for pid in family), "renderers gone", log, 30)

        stuck = job_now(job.id)
        assert stuck.status is PrintJobStatus.RUNNING  # nobody was left to say otherwise
        assert stuck.lease_until is not None
        # The lease is not renewed any more: once it has run out, the sweeper ends the job.
        while utcnow() <= stuck.lease_until:
            time.sleep(0.2)
        end_abandoned_print_jobs.call_local()
        ended = job_now(job.id)
        assert ended.status is PrintJobStatus.FAILED and ended.error == print_jobs.INTERRUPTED

    with consumer(on_redis, tmp_path, "restarted") as (process, log):
        started = start_pack(client, drive)
        assert flashed(follow(client, started)) == []
        newest = db.session.scalars(
            select(PrintJob).where(PrintJob.id != job.id, PrintJob.drive_id == drive.id)
        ).one()
        wait_for(lambda: job_now(newest.id).status is PrintJobStatus.DONE, "the new pack", log)
        pdf = client.get(f"/drives/{drive.id}/print/{newest.id}.pdf")
        assert pdf.status_code == 200
        pages = PdfReader(io.BytesIO(pdf.data)).pages
        assert len([page for page in pages if "РОССИЯ / RUSSIA" in page.extract_text()]) == LETTERS


def test_a_consumer_stopped_with_term_mid_pack_releases_its_job(on_redis, tmp_path):
    organizer, drive = drive_with_letters(LETTERS)
    client = on_redis.test_client()
    log_in(client, organizer)
    # The default lease (two minutes): the job must end at once, not when its lease runs out.
    with consumer(on_redis, tmp_path, "stopped", "--shutdown-timeout", "1") as (process, log):
        assert start_pack(client, drive).status_code == 302
        job = the_only_job(drive)
        wait_for(lambda: building(process, job.id), "the pack being rendered", log)
        family = children(process.pid)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text(errors="replace")
        wait_for(lambda: not any(alive(pid) for pid in family), "renderers gone", log, 30)
        released = job_now(job.id)
        assert released.status is PrintJobStatus.FAILED
        assert released.error == print_jobs.INTERRUPTED
        assert released.lease_until is None
        assert "interrupted by shutdown" in log.read_text(errors="replace")

    again = start_pack(client, drive)  # at once: no lease to wait for
    assert flashed(follow(client, again)) == []
    db.session.rollback()
    newest = db.session.scalars(select(PrintJob).order_by(PrintJob.id.desc())).first()
    assert newest.id != job.id and newest.status is PrintJobStatus.QUEUED


def test_a_consumer_stopped_with_term_finishes_the_pack_at_hand(on_redis, tmp_path):
    organizer, drive = drive_with_letters(3)
    client = on_redis.test_client()
    log_in(client, organizer)
    with consumer(on_redis, tmp_path, "graceful", "--shutdown-timeout", "120") as (process, log):
        assert start_pack(client, drive).status_code == 302
        job = the_only_job(drive)
        wait_for(lambda: building(process, job.id), "the pack being rendered", log)
        family = children(process.pid)

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=120) == 0, log.read_text(errors="replace")
        wait_for(lambda: not any(alive(pid) for pid in family), "renderers gone", log, 30)
        finished = job_now(job.id)
        assert finished.status is PrintJobStatus.DONE, log.read_text(errors="replace")
    assert client.get(f"/drives/{drive.id}/print/{job.id}.pdf").status_code == 200


HELPER_SCRIPT = """
import sys, time
from datetime import date
from app.pdf import bounded
from app.pdf.render import LetterDocument
letter = LetterDocument(language="ru", body="Здравствуйте!", signature="Аня",
                        written_on=date(2025, 1, 1), recipient_header="Кому-то")
bounded.letter_pdf(letter, None, timeout=60)
print("ready", flush=True)
time.sleep(600)
"""


def test_a_web_process_killed_outright_takes_its_pdf_helper(tmp_path):
    """The single-letter PDF helper of a web process (app/pdf/bounded.py) goes with it too."""
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        web = subprocess.Popen(
            [str(VENV_BIN / "python"), "-c", HELPER_SCRIPT],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=output,
            start_new_session=True,
        )
    try:
        assert web.stdout is not None
        assert web.stdout.readline() == b"ready\n", log.read_text(errors="replace")
        helpers = children(web.pid)
        assert helpers, "the web process has no PDF helper"
        web.kill()
        web.wait()
        wait_for(lambda: not any(alive(pid) for pid in helpers), "helper gone", log, 30)
    finally:
        stop_group(web)
        if web.stdout is not None:
            web.stdout.close()


# A process busy with anything but its parent (no pipe to notice the parent's death by).
WATCHER_SCRIPT = """
import sys, time
from app.pdf.lifeline import die_with_parent
die_with_parent(int(sys.argv[1]), kernel_signal=sys.argv[2] == "1")
print("watching", flush=True)
time.sleep(600)
"""
# Its parent: starts it, says its pid, and waits to be killed.
PARENT_SCRIPT = """
import os, subprocess, sys, time
child = subprocess.Popen(
    [sys.executable, "-c", sys.argv[1], str(os.getpid()), sys.argv[2]], stdout=subprocess.PIPE
)
assert child.stdout.readline() == b"watching\\n"
print(child.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("kernel_signal", ["1", "0"], ids=["prctl", "polling"])
def test_a_process_that_dies_with_its_parent_does_even_when_busy(tmp_path, kernel_signal):
    """app.pdf.lifeline: by the kernel's signal (Linux), or by watching the parent's pid."""
    parent = subprocess.Popen(
        [str(VENV_BIN / "python"), "-c", PARENT_SCRIPT, WATCHER_SCRIPT, kernel_signal],
        cwd=REPO,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert alive(child)
        parent.kill()
        parent.wait()
        wait_for(lambda: not alive(child), "the child gone", tmp_path / "no.log", 30)
    finally:
        stop_group(parent)
        if parent.stdout is not None:
            parent.stdout.close()
