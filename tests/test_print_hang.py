"""A print pack whose render hangs while its consumer lives on: the lease alone would never end
it (the consumer is alive and says so), so its time limit does. The job fails as timed out,
its rendering processes are killed, and the consumer builds other packs on fresh ones.

The hang is real: a rendering process blocks for ever on a letter that holds the text named by
the test-only KONVERT_TEST_HANG_RENDER_ON (app/pdf/pool.py), as one the layout engine never
finished would. The consumer runs on SQLite and on PostgreSQL, with its queue on redis-server.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import create_app
from app.drives import print_jobs
from app.drives.tasks import end_abandoned_print_jobs
from app.extensions import db
from app.models import PrintJob, PrintJobStatus
from app.models.base import utcnow
from app.pdf.pool import TEST_HANG_VARIABLE
from tests.conftest import flashed, follow, log_in, page_text
from tests.factories import make_letter
from tests.test_print_consumer import (
    alive,
    building,
    consumer,
    job_now,
    on_redis,  # noqa: F401 - a fixture
    renderers,
    the_only_job,
    wait_for,
)
from tests.test_print_jobs import drive_with_letters, drive_with_letters_for, start_pack

#: The text that makes a rendering process hang (in these tests only).
HANGS = "ЭТО-ПИСЬМО-НЕ-СВЕРСТАТЬ"
TIMED_OUT_TEXT = "Building the print pack took much longer than it should and was stopped."


def test_a_hung_render_ends_its_job_at_the_time_limit_and_the_consumer_serves_on(
    on_redis,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    organizer, drive = drive_with_letters(2)
    make_letter(drive.letters[0].prisoner, drive_id=drive.id, body=f"Здравствуйте! {HANGS}\n")
    _, other_drive = drive_with_letters_for(organizer)
    client = on_redis.test_client()
    log_in(client, organizer)
    settings = {
        "PACK_TIME_LIMIT_SECONDS": "30",  # from the claim; the pool starts within it
        "PACK_TIME_PER_LETTER_SECONDS": "0",
        TEST_HANG_VARIABLE.removeprefix("KONVERT_"): HANGS,
    }
    with consumer(on_redis, tmp_path, "hangs", lease=4, **settings) as (process, log):
        assert start_pack(client, drive).status_code == 302
        job = the_only_job(drive)
        hung = wait_for(lambda: building(process, job.id), "the pack being rendered", log)
        first_lease = job_now(job.id).lease_until

        # The consumer is alive and renews the lease (every second here) while nothing moves:
        # the sweeper would never end this job.
        def renewed_without_progress() -> bool:
            now = job_now(job.id)
            assert now.status is PrintJobStatus.RUNNING and now.done == 0
            return now.lease_until > first_lease

        wait_for(renewed_without_progress, "the lease renewed", log)

        # Its time limit ends it, in the consumer itself (no sweeper runs in this test).
        wait_for(lambda: job_now(job.id).status is PrintJobStatus.FAILED, "the job ended", log)
        ended = job_now(job.id)
        assert ended.error == print_jobs.TIMED_OUT and ended.lease_until is None
        assert ended.file_id is None
        assert TIMED_OUT_TEXT in page_text(client.get(f"/drives/{drive.id}"))
        # The hung rendering process is killed, with the rest of the pool; the consumer lives.
        wait_for(lambda: not any(alive(pid) for pid in hung), "hung renderers gone", log, 30)
        assert process.poll() is None
        assert "timed-out" in log.read_text(errors="replace")

        # Another drive's pack is built on new rendering processes.
        assert start_pack(client, other_drive).status_code == 302
        other = the_only_job(other_drive)
        wait_for(lambda: job_now(other.id).status is PrintJobStatus.DONE, "the other pack", log)
        assert not renderers(process.pid) & hung
        pdf = client.get(f"/drives/{other_drive.id}/print/{other.id}.pdf")
        assert pdf.status_code == 200
        pages = PdfReader(io.BytesIO(pdf.data)).pages
        assert len([page for page in pages if "РОССИЯ / RUSSIA" in page.extract_text()]) == 1

    again = start_pack(client, drive)  # the timed-out job blocks nothing
    assert flashed(follow(client, again)) == []


def test_in_immediate_mode_a_hung_render_ends_at_the_time_limit_too(app, monkeypatch):
    """Without a consumer (jobs run in the process that asks), the pack's own rendering
    processes are killed on its way out."""
    monkeypatch.setenv(TEST_HANG_VARIABLE, HANGS)  # read by the rendering processes
    app.config.update(
        PACK_TIME_LIMIT_SECONDS=15, PACK_TIME_PER_LETTER_SECONDS=0, JOB_LEASE_SECONDS=4
    )
    organizer, drive = drive_with_letters(1)
    make_letter(drive.letters[0].prisoner, drive_id=drive.id, body=f"{HANGS}\n")
    client = app.test_client()
    log_in(client, organizer)
    before = renderers(os.getpid())

    started = start_pack(client, drive)  # runs the job before it answers

    assert started.status_code == 302
    (job,) = db.session.scalars(select(PrintJob).where(PrintJob.drive_id == drive.id))
    assert job.status is PrintJobStatus.FAILED and job.error == print_jobs.TIMED_OUT
    assert TIMED_OUT_TEXT in page_text(follow(client, started))
    assert renderers(os.getpid()) <= before


def test_the_test_only_hang_is_refused_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv(TEST_HANG_VARIABLE, HANGS)
    with pytest.raises(RuntimeError, match=f"{TEST_HANG_VARIABLE} is for tests only"):
        create_app(
            "production",
            {
                "INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "x" * 40,
                "PUBLIC_URL": "https://konvert.example.org",
            },
        )


def test_renewals_after_the_time_limit_do_not_keep_a_job_alive(any_db_app):
    """Should a consumer go on renewing past its job's limit, the sweeper still ends the job
    one lease after the limit; before the limit, renewals keep it running."""
    _, drive = drive_with_letters(1)
    job = PrintJob(drive=drive, status=PrintJobStatus.QUEUED, total=1, done=0)
    db.session.add(job)
    db.session.commit()
    assert print_jobs.claim(job.id)
    lease = timedelta(seconds=print_jobs.lease_seconds())

    assert print_jobs.renew(job.id, utcnow() + timedelta(minutes=5))
    end_abandoned_print_jobs.call_local()
    assert job_now(job.id).status is PrintJobStatus.RUNNING

    assert print_jobs.renew(job.id, utcnow() - lease - timedelta(seconds=1))
    end_abandoned_print_jobs.call_local()
    ended = job_now(job.id)
    assert ended.status is PrintJobStatus.FAILED and ended.error == print_jobs.INTERRUPTED
