"""Print packs on SQLite and on PostgreSQL: kept in the database and served by any machine,
deleted when superseded or old, and jobs that always end (leases, the sweeper, a queue that
cannot be reached). The same with real consumer processes is in test_print_consumer.py."""

from __future__ import annotations

import hashlib
import io
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from huey.exceptions import TaskLockedException
from pypdf import PdfReader
from sqlalchemy import select

from app import create_app, jobs
from app.drives import print_jobs, services
from app.drives.printing import run_print_job
from app.drives.tasks import end_abandoned_print_jobs, enqueue_print_job
from app.extensions import db
from app.job_locks import OwnedLock, holder_gone
from app.models import (
    Drive,
    Letter,
    PrintJob,
    PrintJobStatus,
    StoredFile,
    StoredFileChunk,
    User,
)
from app.models.base import utcnow
from app.stored_files import CHUNK_BYTES, delete_files, read_file, store_file
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import (
    insert_drive_as_before_privacy_at_rest,
    make_facility,
    make_letter,
    make_prisoner,
    make_user,
)
from tests.isolation import isolate_requests
from tests.servers import redis_server

INTERRUPTED_TEXT = "Building the print pack was interrupted"
QUEUE_TEXT = "The print queue cannot be reached: try again in a minute."


def drive_with_letters(letters: int = 3) -> tuple[object, Drive]:
    """An organizer and a drive at which ``letters`` letters were written."""
    organizer = make_user()
    facility = make_facility()
    prisoners = [
        make_prisoner(facility, last_name=f"Иванов{index}", patronymic=None)
        for index in range(min(letters, 4))
    ]
    drive = services.create_drive(
        organizer,
        services.DriveInput(
            title="Вечер писем", held_on=date.today(), place="",
            prisoner_ids=[p.id for p in prisoners], template_ids=[], target_per_prisoner=2,
        ),
    )  # fmt: skip
    db.session.commit()
    for index in range(letters):
        make_letter(
            prisoners[index % len(prisoners)],
            drive_id=drive.id,
            body=f"Здравствуйте! Письмо номер {index + 1}.\n",
        )
    return organizer, drive


def start_pack(client, drive: Drive):
    return submit(
        client,
        f"/drives/{drive.id}",
        {"envelope": "dl", "sender_country": "Грузия"},
        action=f"/drives/{drive.id}/print",
    )


def jobs_of(drive: Drive) -> list[PrintJob]:
    return list(db.session.scalars(select(PrintJob).where(PrintJob.drive_id == drive.id)))


def download(client, job: PrintJob):
    return client.get(f"/drives/{job.drive_id}/print/{job.id}.pdf")


# --- files in the database --------------------------------------------------------------------


def test_a_pack_is_built_into_the_database_and_downloaded_whole(any_db_app):
    organizer, drive = drive_with_letters(3)
    client = any_db_app.test_client()
    log_in(client, organizer)
    assert start_pack(client, drive).status_code == 302
    job = db.session.scalar(select(PrintJob))
    assert job.status is PrintJobStatus.DONE and job.done == job.total == 3
    assert job.lease_until is None and job.file_id is not None
    progress = client.get(f"/drives/{drive.id}/print/{job.id}.json").get_json()
    assert progress["status"] == "done" and progress["download"] and progress["error"] == ""

    response = client.get(progress["download"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(response.data))
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        response.headers["Content-Disposition"] == f'inline; filename="konvert-pack-{job.id}.pdf"'
    )
    stored = db.session.get(StoredFile, job.file_id)
    assert stored.kind == "print_pack" and stored.byte_size == len(response.data)
    assert stored.sha256 == hashlib.sha256(response.data).hexdigest()
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]
    assert "ФКУ ИК-3 УФСИН России по Владимирской области" in texts[0]  # the cover list
    assert len([t for t in texts if "РОССИЯ / RUSSIA" in t]) == 3  # the envelopes
    assert all(letter.printed_at for letter in db.session.scalars(select(Letter)))
    assert client.get(f"/drives/{drive.id}/stats.json").get_json()["printed"] == 3


def test_a_large_file_is_stored_in_chunks_and_read_back_the_same(any_db_app):
    content = bytes(range(256)) * (CHUNK_BYTES // 256) * 2 + b"tail"  # 2 MiB and 4 bytes
    stored = store_file("print_pack", content, "application/pdf")
    db.session.commit()
    chunks = db.session.scalars(
        select(StoredFileChunk.seq).where(StoredFileChunk.file_id == stored.id)
    ).all()
    assert sorted(chunks) == [0, 1, 2]
    assert read_file(stored.id) == content
    assert delete_files([stored.id]) == 1
    db.session.commit()
    assert db.session.scalar(select(StoredFileChunk.seq)) is None


def test_a_second_machine_serves_the_same_pack(any_db_app, tmp_path):
    """Another instance folder, the same database: the pack is there, byte for byte."""
    organizer, drive = drive_with_letters(2)
    client = any_db_app.test_client()
    log_in(client, organizer)
    start_pack(client, drive)
    job = db.session.scalar(select(PrintJob))
    first = download(client, job)
    assert first.status_code == 200

    other_folder = tmp_path / "other-machine"
    other_folder.mkdir()
    other = create_app(
        "testing",
        {
            "INSTANCE_PATH": str(other_folder),
            "SQLALCHEMY_DATABASE_URI": any_db_app.config["SQLALCHEMY_DATABASE_URI"],
        },
    )
    isolate_requests(other)  # each request in its own app context, as on that machine
    other_client = other.test_client()
    organizer_id = organizer.id
    with other.app_context():
        log_in(other_client, db.session.get(User, organizer_id))
        db.session.remove()
    second = download(other_client, job)
    with other.app_context():
        db.engine.dispose()
    assert second.status_code == 200
    assert second.data == first.data
    assert not list(other_folder.rglob("*.pdf"))


def test_a_failed_pack_shows_why_keeps_nothing_and_can_be_retried(any_db_app, monkeypatch):
    import app.pdf.pack
    import app.pdf.pack_layout

    organizer, drive = drive_with_letters(1)
    client = any_db_app.test_client()
    log_in(client, organizer)

    def broken(*args, **kwargs):
        raise app.pdf.pack_layout.PackRenderError("letter 1 of 1 could not be rendered")

    monkeypatch.setattr(app.pdf.pack, "render_pack", broken)
    start_pack(client, drive)
    failed = db.session.scalar(select(PrintJob))
    assert failed.status is PrintJobStatus.FAILED and failed.lease_until is None
    assert "could not be rendered" in page_text(client.get(f"/drives/{drive.id}"))
    download_page = download(client, failed)
    assert download_page.status_code == 404
    assert "There is nothing here." in page_text(download_page)
    assert db.session.scalar(select(StoredFile.id)) is None
    monkeypatch.undo()
    start_pack(client, drive)
    retried = db.session.scalars(select(PrintJob).order_by(PrintJob.id.desc())).first()
    assert retried.id != failed.id and retried.status is PrintJobStatus.DONE


def test_a_superseded_pack_is_deleted_and_only_packs_are_purged(any_db_app):
    organizer, drive = drive_with_letters(1)
    client = any_db_app.test_client()
    log_in(client, organizer)
    start_pack(client, drive)
    start_pack(client, drive)
    first, second = sorted(jobs_of(drive), key=lambda job: job.id)
    assert first.status is second.status is PrintJobStatus.DONE
    assert first.file_id is None and second.file_id is not None
    assert db.session.scalars(select(StoredFile.id)).all() == [second.file_id]
    assert download(client, first).status_code == 410

    any_db_app.config["PACK_KEEP_DAYS"] = 1
    scan = store_file("reply_scan", b"a scan", "image/png").id  # not a pack: not ours to purge
    db.session.get(PrintJob, second.id).finished_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    assert print_jobs.purge_old_packs(utcnow(), 1) == 1
    db.session.commit()
    assert db.session.scalars(select(StoredFile.id)).all() == [scan]
    assert db.session.get(PrintJob, second.id).file_id is None
    gone = download(client, second)
    assert gone.status_code == 410 and "This print pack is no longer kept" in page_text(gone)


# --- jobs that always end ---------------------------------------------------------------------


def left_running(drive: Drive, lease_left: timedelta | None) -> PrintJob:
    """A job as a consumer leaves it: running, its lease ending after ``lease_left``."""
    job = PrintJob(drive=drive, status=PrintJobStatus.RUNNING, total=3, done=1)
    job.lease_until = None if lease_left is None else utcnow() + lease_left
    db.session.add(job)
    db.session.commit()
    return job


def test_a_job_with_a_live_lease_blocks_a_new_build_and_an_expired_one_does_not(any_db_app):
    organizer, drive = drive_with_letters(3)
    client = any_db_app.test_client()
    log_in(client, organizer)
    alive = left_running(drive, timedelta(minutes=1))
    refused = start_pack(client, drive)
    assert flashed(follow(client, refused)) == ["A print pack is already being built."]
    assert [job.id for job in jobs_of(drive)] == [alive.id]

    # Its consumer died: the lease is not renewed, and runs out.
    db.session.get(PrintJob, alive.id).lease_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    started = start_pack(client, drive)
    assert flashed(follow(client, started)) == []
    interrupted, rebuilt = sorted(jobs_of(drive), key=lambda job: job.id)
    assert interrupted.status is PrintJobStatus.FAILED and interrupted.error == "interrupted"
    assert rebuilt.status is PrintJobStatus.DONE
    assert download(client, rebuilt).status_code == 200


def test_the_sweeper_ends_lost_jobs_as_interrupted_and_says_so(any_db_app):
    organizer, drive = drive_with_letters(3)
    # One drive each: a drive has one active job at most.
    others = [drive_with_letters_for(organizer)[1] for _ in range(4)]
    expired = left_running(drive, timedelta(seconds=-1))
    from_before_leases = left_running(others[0], None)
    lost_in_queue = PrintJob(drive=others[1], status=PrintJobStatus.QUEUED, total=3, done=0)
    lost_in_queue.created_at = utcnow() - timedelta(seconds=601)
    waiting = PrintJob(drive=others[2], status=PrintJobStatus.QUEUED, total=3, done=0)
    db.session.add_all([lost_in_queue, waiting])
    db.session.commit()
    alive = left_running(others[3], timedelta(minutes=1))

    end_abandoned_print_jobs.call_local()

    def state(job: PrintJob) -> tuple[PrintJobStatus, str]:
        found = db.session.get(PrintJob, job.id)
        return found.status, found.error

    for ended in (expired, from_before_leases, lost_in_queue):
        assert state(ended) == (PrintJobStatus.FAILED, "interrupted")
    assert state(waiting) == (PrintJobStatus.QUEUED, "")
    assert state(alive) == (PrintJobStatus.RUNNING, "")

    client = any_db_app.test_client()
    log_in(client, organizer)
    page = client.get(f"/drives/{drive.id}")
    assert INTERRUPTED_TEXT in page_text(page) and "Retry" in page_text(page)
    status = client.get(f"/drives/{drive.id}/print/{expired.id}.json").get_json()
    assert status["status"] == "failed" and status["error"].startswith(INTERRUPTED_TEXT)
    russian = client.get(f"/drives/{drive.id}", headers={"Accept-Language": "ru"})
    assert "Сборка пакета для печати прервалась" in page_text(russian)


def drive_with_letters_for(organizer) -> tuple[object, Drive]:
    """A second drive of the same organizer, with one letter."""
    prisoner = db.session.scalars(select(Letter)).first().prisoner
    drive = services.create_drive(
        organizer,
        services.DriveInput(
            title="Второй вечер", held_on=date.today(), place="", prisoner_ids=[prisoner.id],
            template_ids=[], target_per_prisoner=1,
        ),
    )  # fmt: skip
    db.session.commit()
    make_letter(prisoner, drive_id=drive.id)
    return organizer, drive


def test_a_job_ended_while_it_renders_stops_and_keeps_nothing(any_db_app, monkeypatch):
    """The lease ran out (the sweeper ended the job) while the pack was still rendering: the
    builder stops at its next progress and neither stores the pack nor marks it done."""
    from app.pdf import pack as pack_module

    _, drive = drive_with_letters(3)
    job = PrintJob(drive=drive, status=PrintJobStatus.QUEUED, total=3, done=0)
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    leases = []

    def render(items, cover, progress, **kwargs):
        progress(0, len(items))
        leases.append(db.session.get(PrintJob, job_id).lease_until)
        print_jobs.release(job_id, print_jobs.INTERRUPTED)  # what the sweeper does, elsewhere
        progress(1, len(items))
        raise AssertionError("the builder should have stopped")

    monkeypatch.setattr(pack_module, "render_pack", render)
    with any_db_app.app_context():
        run_print_job(job_id)
        db.session.commit()
    db.session.expire_all()
    ended = db.session.get(PrintJob, job_id)
    assert ended.status is PrintJobStatus.FAILED and ended.error == "interrupted"
    assert leases[0] is not None and leases[0] > utcnow()  # the progress renewed the lease
    assert db.session.scalar(select(StoredFile.id)) is None
    assert not any(letter.printed_at for letter in db.session.scalars(select(Letter)))


# --- the queue cannot be reached ----------------------------------------------------------------


@pytest.fixture
def queue_on_redis(any_db_app: Flask, tmp_path: Path):
    """The app's jobs go to a real redis-server (no consumer); yields a function stopping it."""
    stack = redis_server(tmp_path)
    url = stack.__enter__()
    any_db_app.config.update(REDIS_URL=url, HUEY_IMMEDIATE=False)
    jobs.bind_queue(any_db_app)
    stopped = []

    def stop_redis() -> None:
        stopped.append(True)
        stack.__exit__(None, None, None)

    yield stop_redis
    if not stopped:
        stack.__exit__(None, None, None)
    any_db_app.config.update(REDIS_URL=None, HUEY_IMMEDIATE=True)
    jobs.bind_queue(any_db_app)


def test_with_the_queue_down_a_build_says_try_again_and_leaves_no_job(any_db_app, queue_on_redis):
    organizer, drive = drive_with_letters(2)
    client = any_db_app.test_client()
    log_in(client, organizer)
    assert start_pack(client, drive).status_code == 302
    (queued,) = jobs_of(drive)
    assert queued.status is PrintJobStatus.QUEUED and jobs.huey.pending_count() == 1

    queue_on_redis()  # Redis stops, and its queue (never saved) is lost with it
    db.session.get(PrintJob, queued.id).created_at = utcnow() - timedelta(seconds=601)
    db.session.commit()
    refused = start_pack(client, drive)
    assert refused.status_code == 302
    page = follow(client, refused)
    assert flashed(page) == [QUEUE_TEXT]
    (lost,) = jobs_of(drive)  # no new job; the lost one ended
    assert lost.status is PrintJobStatus.FAILED and lost.error == "interrupted"
    again = submit(
        client,
        f"/drives/{drive.id}",
        {"envelope": "dl"},
        action=f"/drives/{drive.id}/print",
        headers={"Accept-Language": "ru"},
    )
    assert flashed(follow(client, again)) == [
        "Очередь печати недоступна: попробуйте ещё раз через минуту."
    ]


def test_a_job_whose_enqueue_failed_after_its_commit_is_failed_not_left_queued(
    any_db_app, queue_on_redis
):
    organizer, drive = drive_with_letters(1)
    job = PrintJob(drive=drive, status=PrintJobStatus.QUEUED, total=1, done=0)
    db.session.add(job)
    db.session.commit()
    queue_on_redis()
    enqueue_print_job(job.id, "dl", "")  # what runs after the build request's commit
    db.session.expire_all()
    assert db.session.get(PrintJob, job.id).status is PrintJobStatus.FAILED
    client = any_db_app.test_client()
    log_in(client, organizer)
    assert QUEUE_TEXT in page_text(client.get(f"/drives/{drive.id}"))


# --- locks ------------------------------------------------------------------------------------


def test_a_lock_left_by_a_dead_consumer_is_taken_over_and_a_live_one_is_not(
    any_db_app, queue_on_redis
):
    lock = OwnedLock("konvert-test-lock")
    mine = lock.acquire()
    with pytest.raises(TaskLockedException):
        lock.acquire()  # held by this very process, alive
    lock.release(mine)
    assert not lock.is_locked()

    dead = subprocess.Popen(["true"])
    dead.wait()
    record = {**lock._record(), "pid": dead.pid}  # a consumer of this machine, killed
    jobs.huey.put(lock.key, record)
    taken = lock.acquire()
    assert taken.holder["pid"] != dead.pid
    lock.release(taken)

    elsewhere = {"machine": "another-host", "pid": 1, "since": 1000.0}
    assert not holder_gone({**elsewhere, "since": 1000.0}, 900, now=1500.0)
    assert holder_gone(elsewhere, 900, now=2000.0)
    jobs.huey.put(lock.key, {**elsewhere, "since": time.time()})
    with pytest.raises(TaskLockedException):
        lock.acquire()  # another machine's, recent: it may well be running
    jobs.huey.delete(lock.key)


# --- the upgrade from packs in the instance folder ----------------------------------------------


def test_the_upgrade_moves_this_machine_s_packs_into_the_database(any_db_app):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    downgrade(revision="5d0c2b7e9a41")  # the schema of packs kept in instance/packs
    with db.engine.begin() as connection:
        drive_id = insert_drive_as_before_privacy_at_rest(connection)
    folder = Path(any_db_app.instance_path) / "packs"
    folder.mkdir(mode=0o700)
    (folder / "pack-1-kept.pdf").write_bytes(b"%PDF-1.7 built before the upgrade\n")
    (folder / "pack-3-crashed.pdf.part").write_bytes(b"half")
    insert = text(
        "INSERT INTO print_job (id, drive_id, status, total, done, error, file_name, created_at,"
        " finished_at) VALUES (:id, :drive, :status, 1, 1, '', :file, :now, :now)"
    )
    now = utcnow()
    with db.engine.begin() as connection:
        for job_id, status, file_name in [
            (1, "done", "pack-1-kept.pdf"),
            (2, "done", "pack-2-built-on-another-machine.pdf"),
            (3, "running", None),
        ]:
            connection.execute(
                insert, {"id": job_id, "drive": drive_id, "status": status, "file": file_name,
                         "now": now}
            )  # fmt: skip

    upgrade()

    kept, elsewhere, running = (db.session.get(PrintJob, job_id) for job_id in (1, 2, 3))
    assert read_file(kept.file_id) == b"%PDF-1.7 built before the upgrade\n"
    assert print_jobs.pack_ready(kept)
    assert print_jobs.pack_gone(elsewhere)  # "no longer kept": it can be built again
    assert not folder.exists()  # no letter left in clear text beside the database
    assert running.lease_until is None
    end_abandoned_print_jobs.call_local()
    db.session.expire_all()
    assert db.session.get(PrintJob, 3).status is PrintJobStatus.FAILED
