"""Regression tests for the audit's findings 3 (PDF denial of service), 12 (private pages
cached) and 13 (files: old print packs, file modes, HSTS and Secure cookies).

Each test is named after its finding and fails if the finding comes back.
"""

from __future__ import annotations

import io
import os
import stat
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, text

from app import create_app
from app.drives import services as drives
from app.extensions import db
from app.models import (
    Drive,
    Letter,
    Official,
    PrintJob,
    PrintJobStatus,
    StoredFile,
    StoredFileChunk,
    User,
)
from app.models.base import utcnow
from app.pdf import bounded
from app.pdf.render import clean_text
from tests.conftest import log_in, page_text, submit
from tests.factories import make_facility, make_letter, make_official, make_prisoner

# The audit's attack: 9,990 one-letter lines, 19,980 characters, 258 pages (257 estimated).
ONE_LETTER_LINES = "а\n" * 9990
WRITE = {"template_id": "None", "language": "ru", "signature": "Аня", "save": "1"}
RUSSIAN = {"Accept-Language": "ru"}


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


@pytest.fixture
def letter(prisoner):
    return make_letter(prisoner)


def no_rendering(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every render the request asks for."""
    asked: list[str] = []

    def refuse(task: str, *args: object, timeout: float) -> object:
        asked.append(task)
        raise AssertionError(f"{task} should not have been rendered")

    monkeypatch.setattr(bounded.RENDERER, "run", refuse)
    return asked


def pack(letter: Letter, organizer: User, age: timedelta = timedelta(0)) -> tuple[Drive, PrintJob]:
    """A drive with a finished print pack (the file's content does not matter here)."""
    drive = drives.create_drive(
        organizer,
        drives.DriveInput(
            title="Вечер", held_on=date.today(), place="", prisoner_ids=[letter.prisoner_id],
            template_ids=[], target_per_prisoner=1,
        ),
    )  # fmt: skip
    job = add_pack(drive, age)
    return drive, job


def add_pack(drive: Drive, age: timedelta = timedelta(0)) -> PrintJob:
    from app.stored_files import store_file

    stored = store_file("print_pack", b"%PDF-1.7 a pack\n", "application/pdf")
    job = PrintJob(drive=drive, status=PrintJobStatus.DONE, total=1, done=1, file_id=stored.id)
    job.finished_at = utcnow() - age
    db.session.add(job)
    db.session.commit()
    return job


# --- finding 3: PDF denial of service ----------------------------------------------------------


def test_finding_03_the_audit_letter_is_refused_when_saved_without_rendering_it(
    client, prisoner, monkeypatch
):
    asked = no_rendering(monkeypatch)
    url = f"/prisoners/{prisoner.id}/write"
    started = time.perf_counter()
    response = submit(client, url, {**WRITE, "body": ONE_LETTER_LINES})
    assert time.perf_counter() - started < 5  # refused by counting lines, not by rendering
    assert response.status_code == 422
    assert (
        "This letter would take 257 pages, and Konvert prints letters of at most 12 pages. "
        "Shorten it, or write the rest in a second letter." in page_text(response)
    )
    assert db.session.scalar(select(Letter)) is None
    assert asked == []

    russian = submit(client, url, {**WRITE, "body": ONE_LETTER_LINES}, headers=RUSSIAN)
    assert russian.status_code == 422
    assert (
        "Письмо заняло бы 257 стр., а Konvert печатает письма не длиннее 12 страниц."
        in page_text(russian)
    )


def test_finding_03_the_cap_is_configurable_and_a_letter_within_it_is_saved(app, client, prisoner):
    app.config["MAX_LETTER_PAGES"] = 2
    three_pages = "Строка письма.\n" * 100
    response = submit(client, f"/prisoners/{prisoner.id}/write", {**WRITE, "body": three_pages})
    assert response.status_code == 422
    assert "at most 2 pages" in page_text(response)
    one_page = "Здравствуйте! У нас весна.\n" * 10
    saved = submit(client, f"/prisoners/{prisoner.id}/write", {**WRITE, "body": one_page})
    assert saved.status_code == 302
    assert db.session.scalar(select(Letter)) is not None


def test_finding_03_wide_letters_are_counted_by_laying_them_out(client, prisoner):
    # 230 lines of 76 «Ю»: the estimate says 7 pages, each line wraps into three: 20 pages.
    wide = ("Ю" * 76 + "\n") * 230
    response = submit(client, f"/prisoners/{prisoner.id}/write", {**WRITE, "body": wide})
    assert response.status_code == 422
    refusal = page_text(response)
    assert "This letter would take" in refusal and "at most 12 pages" in refusal
    pages = int(refusal.split("This letter would take ")[1].split(" ")[0])
    assert pages > 12
    assert db.session.scalar(select(Letter)) is None


def test_finding_03_appeals_are_capped_too(app, client, prisoner):
    head = make_official(prisoner.current_facility)
    url = f"/prisoners/{prisoner.id}/appeal/{head.id}"
    data = {**WRITE, "signature": "Смирнова Анна Петровна", "body": ONE_LETTER_LINES}
    response = submit(client, url, data)
    assert response.status_code == 422
    assert "at most 12 pages" in page_text(response)
    assert db.session.scalar(select(Letter)) is None
    assert db.session.get(Official, head.id) is not None


def test_finding_03_drive_letters_are_capped_too(client, organizer, prisoner):
    drive = drives.create_drive(
        organizer,
        drives.DriveInput(
            title="Вечер", held_on=date.today(), place="", prisoner_ids=[prisoner.id],
            template_ids=[], target_per_prisoner=1,
        ),
    )  # fmt: skip
    participant = drives.join(drive, "Аня", ["ru"])
    db.session.commit()
    url = f"/drives/p/{participant.token}/write/{participant.assignments[0].id}"
    response = submit(client, url, {**WRITE, "body": ONE_LETTER_LINES})
    assert response.status_code == 422
    assert "at most 12 pages" in page_text(response)
    assert db.session.scalar(select(Letter)) is None


def test_finding_03_a_stored_letter_over_the_cap_is_refused_without_rendering(
    client, prisoner, monkeypatch
):
    old = make_letter(prisoner, body=ONE_LETTER_LINES)  # saved before there was a cap
    asked = no_rendering(monkeypatch)
    responses = [
        client.get(f"/t/{old.token}/pdf"),
        submit(client, f"/t/{old.token}", {"envelope": "dl"}, action=f"/t/{old.token}/pdf"),
        client.get(f"/t/{old.token}/pdf?envelope=none", headers=RUSSIAN),
    ]
    assert [response.status_code for response in responses] == [422, 422, 422]
    assert asked == []
    assert (
        "This letter is about 257 pages long, and Konvert prints letters of at most 12 pages."
        in page_text(responses[0])
    )
    assert f'href="/t/{old.token}"' in responses[0].get_data(as_text=True)  # back to the letter
    assert "Это письмо занимает около 257 стр." in page_text(responses[2])


def test_finding_03_rendering_is_bounded_in_time_and_a_worker_survives(
    app, client, prisoner, letter
):
    # Within the cap, but slower to lay out than the (tiny) time limit allows.
    slow = make_letter(prisoner, body="Строка.\n" * 400)
    bounded.letter_pdf(bounded._SAMPLE_LETTER, None, timeout=60)  # the helper is up and warm
    helper = bounded.RENDERER._process
    assert helper is not None and helper.pid != os.getpid()
    app.config["PDF_TIMEOUT_SECONDS"] = 0.05
    started = time.perf_counter()
    response = client.get(f"/t/{slow.token}/pdf", headers=RUSSIAN)
    assert time.perf_counter() - started < 5
    assert response.status_code == 503
    # About a minute (Flask-Limiter restates it in whole seconds left, so 59 or 60).
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    assert "PDF не удалось подготовить вовремя." in page_text(response)
    assert not helper.is_alive()  # the overrunning render was stopped, not left running
    assert "The PDF could not be made in time." in page_text(client.get(f"/t/{slow.token}/pdf"))

    app.config["PDF_TIMEOUT_SECONDS"] = 30  # the next render starts a fresh helper
    normal = client.get(f"/t/{letter.token}/pdf")
    assert normal.status_code == 200 and normal.mimetype == "application/pdf"
    assert "Пишу Вам из Тбилиси." in PdfReader(io.BytesIO(normal.data)).pages[0].extract_text()


def test_finding_03_long_unbroken_runs_get_break_points(client, letter):
    # Without break points WeasyPrint takes seconds over one long "word" (quadratic search).
    cleaned = clean_text("Слово " + "Щ" * 45 + " https://example.org")
    assert cleaned == "Слово " + "\u200b".join(["Щ" * 10] * 4 + ["Щ" * 5]) + " https://example.org"
    assert clean_text("Обычный текст, без длинных слов.") == "Обычный текст, без длинных слов."


def test_finding_03_every_pdf_route_is_rate_limited_together(app, client, organizer, letter):
    app.config["RATELIMIT_PDF"] = "3 per minute"
    codes = [client.get(f"/t/{letter.token}/pdf").status_code for _ in range(2)]
    form = {"envelope": "none", "sender_name": "", "sender_address": "", "sender_country": ""}
    codes.append(
        submit(client, f"/t/{letter.token}", form, action=f"/t/{letter.token}/pdf").status_code
    )
    codes.append(client.get(f"/t/{letter.token}/pdf").status_code)
    codes.append(
        submit(client, f"/t/{letter.token}", form, action=f"/t/{letter.token}/pdf").status_code
    )
    assert codes == [200, 200, 200, 429, 429]
    assert "Too many requests" in page_text(client.get(f"/t/{letter.token}/pdf"))

    drive, job = pack(letter, organizer)
    log_in(client, organizer)
    assert client.get(f"/drives/{drive.id}/print/{job.id}.pdf").status_code == 429


# --- finding 12: private pages are not cached -------------------------------------------------


def private_urls(letter: Letter, organizer: User) -> list[str]:
    drive, job = pack(letter, organizer)
    participant = drives.join(drive, "Аня", ["ru"])
    db.session.commit()
    return [
        f"/t/{letter.token}",
        f"/t/{letter.token}/pdf",
        f"/t/{'A' * 43}",  # even a wrong token's answer
        f"/api/v1/letters/{letter.token}",
        f"/drives/p/{participant.token}",
        f"/join/{drive.join_token}",
        "/login",
        "/manage/",
        f"/drives/{drive.id}",
        f"/drives/{drive.id}/print/{job.id}.pdf",
        "/manage/import/",
        "/admin/outbox",
        "/stats",  # public, but the organizer's own page carries their account and CSRF token
        "/prisoners",
    ]


def test_finding_12_every_private_page_says_no_store(client, admin, letter):
    log_in(client, admin)
    for url in private_urls(letter, admin):
        response = client.get(url)
        assert response.status_code in (200, 302, 404), url
        assert response.headers.get("Cache-Control") == "no-store", url


def test_finding_12_link_pages_and_answers_to_forms_are_private_without_login(client, letter):
    for url in (f"/t/{letter.token}", f"/t/{letter.token}/pdf", "/login", "/drives"):
        assert client.get(url).headers.get("Cache-Control") == "no-store", url
    refused = submit(
        client, f"/t/{letter.token}", {"kind": "sent"}, action=f"/t/{letter.token}/events"
    )
    assert refused.status_code == 422
    assert refused.headers["Cache-Control"] == "no-store"


def test_finding_12_public_pages_keep_their_caching(client, letter):
    for url in ("/", "/prisoners", f"/prisoners/{letter.prisoner_id}", "/static/css/konvert.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
    assert client.get("/stats").headers["Cache-Control"] == "public, no-cache"
    assert client.get("/api/v1/facilities").headers["Cache-Control"] == "public, max-age=300"


# --- finding 13: files ------------------------------------------------------------------------


def download(client: FlaskClient, job: PrintJob):
    return client.get(f"/drives/{job.drive_id}/print/{job.id}.pdf")


def test_finding_13_a_superseded_pack_is_deleted_and_its_download_is_gone(
    app, client, organizer, letter, monkeypatch
):
    from app.pdf import pack as pack_module

    drive, first = pack(letter, organizer)
    letter.drive_id = drive.id
    letter.share_with_organisers()  # written at the drive: the organizers may print it
    db.session.commit()
    first_file = first.file_id
    log_in(client, organizer)
    assert download(client, first).status_code == 200

    monkeypatch.setattr(pack_module, "render_pack", lambda *args, **kwargs: b"%PDF-1.7 new\n")
    started = submit(
        client, f"/drives/{drive.id}", {"envelope": "dl"}, action=f"/drives/{drive.id}/print"
    )
    assert started.status_code == 302
    newer = db.session.scalars(select(PrintJob).order_by(PrintJob.id.desc())).first()
    assert newer.id != first.id and newer.status is PrintJobStatus.DONE
    # Deleted from the database, every chunk of it; the job's row stays, without its pack.
    assert db.session.get(StoredFile, first_file) is None
    assert not db.session.scalars(
        select(StoredFileChunk).where(StoredFileChunk.file_id == first_file)
    ).all()
    assert db.session.get(PrintJob, first.id).file_id is None
    gone = download(client, first)
    assert gone.status_code == 410
    assert "This print pack is no longer kept" in page_text(gone)
    assert "deleted when a newer one is built for the same evening, and 7 days after" in (
        page_text(gone)
    )
    assert download(client, newer).data == b"%PDF-1.7 new\n"
    russian = client.get(f"/drives/{drive.id}/print/{first.id}.pdf", headers=RUSSIAN)
    assert "Этот пакет для печати больше не хранится" in page_text(russian)


def test_finding_13_packs_are_deleted_after_the_days_they_are_kept(app, client, organizer, letter):
    from app.drives.tasks import purge_print_packs
    from app.stored_files import store_file

    app.config["PACK_KEEP_DAYS"] = 3
    drive, old = pack(letter, organizer, age=timedelta(days=3, minutes=1))
    recent = add_pack(drive, age=timedelta(days=2))
    old_file, recent_file = old.file_id, recent.file_id
    # A pack no job names (its drive was deleted), and a file of another kind, which has
    # retention rules of its own.
    orphan = store_file("print_pack", b"%PDF-1.7 nobody's\n", "application/pdf").id
    other_kind = store_file("reply_scan", b"a scan", "image/png").id
    db.session.commit()

    purge_print_packs.call_local()

    kept = set(db.session.scalars(select(StoredFile.id)))
    assert kept == {recent_file, other_kind}
    assert old_file not in kept and orphan not in kept
    assert set(db.session.scalars(select(StoredFileChunk.file_id))) == kept
    log_in(client, organizer)
    gone = download(client, db.session.get(PrintJob, old.id))
    assert gone.status_code == 410 and "3 days after it was built" in page_text(gone)
    assert download(client, recent).status_code == 200
    page = page_text(client.get(f"/drives/{drive.id}"))
    assert "This pack is no longer kept" not in page  # the newest one is still there
    db.session.get(PrintJob, recent.id).finished_at = utcnow() - timedelta(days=4)
    db.session.commit()
    purge_print_packs.call_local()
    page = page_text(client.get(f"/drives/{drive.id}"))
    assert "This pack is no longer kept: packs are deleted 3 days after they are built." in page


@pytest.fixture
def loose_umask():
    """Files must be private whatever the umask: run with the common, permissive one."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_finding_13_database_and_queue_are_private(tmp_path, loose_umask):
    """(Import uploads are no files of their own any more: they wait in the database.)"""
    from app.jobs import LazySqliteStorage

    folder = tmp_path / "instance"
    settings = {"INSTANCE_PATH": str(folder), "SECRET_KEY": "x" * 32}
    application = create_app("testing", settings)
    with application.app_context():
        db.session.execute(text("CREATE TABLE t (x INTEGER)"))
        db.session.execute(text("INSERT INTO t VALUES (1)"))
        db.session.commit()
        database = folder / "konvert.db"
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert path.exists() and mode(path) == 0o600, path
        assert mode(folder) == 0o700
        db.session.remove()
        db.engine.dispose()

    queue = LazySqliteStorage("konvert", filename=str(tmp_path / "jobs.db"))
    queue.enqueue(b"job")
    assert mode(tmp_path / "jobs.db") == 0o600


def test_finding_13_the_written_pack_is_private(app, organizer, letter, loose_umask, monkeypatch):
    """A pack is written into the database (private as above), never as a file of its own."""
    from app.drives.printing import run_print_job
    from app.pdf import pack as pack_module
    from app.stored_files import read_file

    monkeypatch.setattr(pack_module, "render_pack", lambda *args, **kwargs: b"%PDF-1.7 new\n")

    drive, _ = pack(letter, organizer)
    letter.drive_id = drive.id
    letter.share_with_organisers()  # written at the drive: the organizers may print it
    job = PrintJob(drive=drive, status=PrintJobStatus.QUEUED, total=1, done=0)
    db.session.add(job)
    db.session.commit()
    run_print_job(job.id, pool=None)
    db.session.commit()
    written = db.session.get(PrintJob, job.id)
    assert written.status is PrintJobStatus.DONE
    assert read_file(written.file_id) == b"%PDF-1.7 new\n"
    instance = Path(app.instance_path)
    files = {path.name: mode(path) for path in instance.rglob("*")}
    assert set(files) <= {"konvert.db", "konvert.db-wal", "konvert.db-shm"}, files
    assert set(files.values()) == {0o600}


def test_finding_13_an_old_database_readable_by_others_is_made_private(tmp_path, loose_umask):
    folder = tmp_path / "instance"
    folder.mkdir()
    database = folder / "konvert.db"
    database.touch(mode=0o644)
    assert mode(database) == 0o644
    create_app("testing", {"INSTANCE_PATH": str(folder), "SECRET_KEY": "x" * 32})
    assert mode(database) == 0o600


def production_app(folder: Path) -> Flask:
    return create_app(
        "production",
        {"INSTANCE_PATH": str(folder), "SECRET_KEY": "x" * 32, "TESTING": True,
         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'konvert.db'}",
         "PUBLIC_URL": "https://konvert.example.org"},
    )  # fmt: skip


def test_finding_13_production_sends_hsts_and_secure_cookies(app, tmp_path, monkeypatch):
    monkeypatch.delenv("KONVERT_SECURE_COOKIES", raising=False)
    monkeypatch.delenv("KONVERT_HSTS_SECONDS", raising=False)
    production = production_app(tmp_path)
    assert production.config["SESSION_COOKIE_SECURE"] is True
    with production.test_client() as client:
        response = client.get("/login", base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Development serves plain HTTP: no HSTS there (the test app runs the default settings).
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers
