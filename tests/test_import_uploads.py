"""Import uploads waiting for their confirmation, on SQLite and on PostgreSQL: kept in the
database, so that the confirmation may reach any machine; only their uploader's, for an hour,
used up by the first confirmation; nothing of them in an instance folder."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse

from app import create_app
from app.extensions import db
from app.imports import uploads
from app.imports.tasks import forget_expired_uploads
from app.models import Facility, ImportUpload, StoredFile, StoredFileChunk, User
from app.models.base import utcnow
from app.stored_files import read_file
from app.tokens import keyed_hash
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.isolation import isolate_requests

pytestmark = pytest.mark.both_databases

DATA = Path(__file__).resolve().parent / "data" / "imports"
FACILITIES = "facilities_utf8_bom_semicolon.csv"
EXPIRED = "That upload has expired (files are kept for an hour). Upload the file again."


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def preview(client: FlaskClient, kind: str = "facilities", name: str = FACILITIES):
    content = (DATA / name).read_bytes()
    return submit(
        client,
        "/manage/import/",
        {"kind": kind, "file": FileStorage(io.BytesIO(content), filename=name)},
        action="/manage/import/preview",
    )


def token_of(page: TestResponse) -> str:
    marker = 'name="token" type="hidden" value="'
    html = page.get_data(as_text=True)
    assert marker in html, "no confirm button"
    return html.split(marker, 1)[1].split('"', 1)[0]


def confirm(client: FlaskClient, page: TestResponse, token: str) -> TestResponse:
    return submit(client, page, {"token": token}, action="/manage/import/confirm")


def files_in(folder: Path) -> set[str]:
    """What an instance folder holds, but the SQLite database (which has its own files)."""
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if not path.name.startswith("konvert.db")
    }


def other_machine(app: Flask, folder: Path) -> Flask:
    """Konvert with an instance folder of its own on the same database and secret key, as a
    second machine behind the same proxy."""
    folder.mkdir()
    other = create_app(
        "testing",
        {
            "INSTANCE_PATH": str(folder),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
        },
    )
    isolate_requests(other)  # each request in its own app context, as on that machine
    return other


def same_browser(client: FlaskClient, other: Flask) -> FlaskClient:
    """A client of ``other`` holding ``client``'s session cookie: the same browser, whose next
    request the proxy sends to the other machine."""
    browser = other.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    browser.set_cookie("session", cookie.value)
    return browser


def test_a_dry_run_on_one_machine_is_imported_by_another(app, client, organizer, tmp_path):
    log_in(client, organizer)
    here = Path(app.instance_path)
    before = files_in(here)
    dry_run = preview(client)
    assert dry_run.status_code == 200
    token = token_of(dry_run)
    other = other_machine(app, tmp_path / "other-machine")
    browser = same_browser(client, other)

    done = confirm(browser, dry_run, token)

    with other.app_context():
        db.engine.dispose()
    assert done.status_code == 200
    assert flashed(done) == ["Imported: 3 created, 0 updated."]
    assert count(Facility) == 3
    # Nothing was written to either machine's instance folder, and nothing is left anywhere.
    assert files_in(here) == before
    assert files_in(tmp_path / "other-machine") == set()
    assert count(ImportUpload) == 0
    assert count(StoredFile) == 0 and count(StoredFileChunk) == 0


def test_the_upload_waits_in_the_database_under_a_keyed_hash(app, client, organizer):
    log_in(client, organizer)
    here = Path(app.instance_path)
    before = files_in(here)

    token = token_of(preview(client))

    assert files_in(here) == before  # no file written to the instance folder
    upload = db.session.scalar(select(ImportUpload))
    assert upload.token_hash == keyed_hash(token, uploads.HASH_PURPOSE) != token
    assert token not in upload.token_hash
    assert (upload.user_id, upload.kind, upload.filename) == (
        organizer.id,
        "facilities",
        FACILITIES,
    )
    assert upload.expires_at - upload.created_at == timedelta(hours=1)
    assert read_file(upload.file_id) == (DATA / FACILITIES).read_bytes()


def test_a_used_token_is_refused_as_expired(client, organizer):
    log_in(client, organizer)
    dry_run = preview(client)
    token = token_of(dry_run)
    assert confirm(client, dry_run, token).status_code == 200

    again = confirm(client, dry_run, token)

    assert flashed(follow(client, again)) == [EXPIRED]
    assert count(Facility) == 3


def test_an_expired_token_is_refused_and_its_upload_deleted(client, organizer):
    log_in(client, organizer)
    dry_run = preview(client)
    token = token_of(dry_run)
    db.session.execute(update(ImportUpload).values(expires_at=utcnow() - timedelta(seconds=1)))

    response = confirm(client, dry_run, token)

    assert flashed(follow(client, response)) == [EXPIRED]
    assert count(Facility) == 0
    assert count(ImportUpload) == 0 and count(StoredFile) == 0  # swept on the way


def test_another_users_token_is_refused_and_stays_its_owners(app, client, organizer, admin):
    log_in(client, admin)
    admins_page = preview(client)
    token = token_of(admins_page)
    intruder = app.test_client()
    log_in(intruder, organizer)

    response = confirm(intruder, preview(intruder), token)

    assert flashed(follow(intruder, response)) == [EXPIRED]
    assert count(Facility) == 0
    # Its owner can still import it: a stolen token cannot even destroy the upload.
    assert flashed(confirm(client, admins_page, token)) == ["Imported: 3 created, 0 updated."]


@pytest.mark.parametrize(
    "token", ["", "not-a-token", "A" * 43, "../" + "A" * 40, "A" * 44], ids=repr
)
def test_a_token_that_was_never_issued_is_refused(client, organizer, token):
    log_in(client, organizer)
    dry_run = preview(client)

    response = confirm(client, dry_run, token)

    assert flashed(follow(client, response)) == [EXPIRED]
    assert count(Facility) == 0
    assert count(ImportUpload) == 1  # the real one is untouched


def test_a_refused_import_uses_up_its_upload(client, runner, organizer):
    assert runner.invoke(args=["import", "facilities", str(DATA / FACILITIES)]).exit_code == 0
    log_in(client, organizer)
    dry_run = preview(client, "prisoners", "prisoners.json")
    assert dry_run.status_code == 200
    token = token_of(dry_run)
    # Meanwhile another organizer removes a facility the file names.
    db.session.execute(delete(Facility).where(Facility.external_id == "vlad-ik3"))

    refused = confirm(client, dry_run, token)

    assert refused.status_code == 422
    assert "Nothing was imported" in page_text(refused)
    assert count(ImportUpload) == 0 and count(StoredFile) == 0  # upload the file again
    assert flashed(follow(client, confirm(client, dry_run, token))) == [EXPIRED]


def test_expired_uploads_are_swept_by_the_job_and_by_the_next_upload(client, organizer, admin):
    now = utcnow()
    uploads.store_upload(admin.id, "facilities", "old.csv", b"old", now)
    uploads.store_upload(admin.id, "facilities", "new.csv", b"new", now)
    db.session.execute(
        update(ImportUpload)
        .where(ImportUpload.filename == "old.csv")
        .values(expires_at=now - timedelta(seconds=1))
    )
    db.session.commit()

    forget_expired_uploads.call_local()

    db.session.expire_all()
    assert db.session.scalars(select(ImportUpload.filename)).all() == ["new.csv"]
    assert count(StoredFile) == 1
    # The next upload sweeps too, without waiting for the job.
    db.session.execute(update(ImportUpload).values(expires_at=now - timedelta(seconds=1)))
    log_in(client, organizer)
    assert preview(client).status_code == 200
    assert db.session.scalars(select(ImportUpload.user_id)).all() == [organizer.id]
    assert count(StoredFile) == 1


def test_an_upload_goes_with_its_uploaders_account(admin):
    uploads.store_upload(admin.id, "facilities", "f.csv", b"data", utcnow())
    db.session.commit()

    db.session.execute(delete(User).where(User.id == admin.id))
    db.session.commit()
    assert count(ImportUpload) == 0  # ON DELETE CASCADE
    assert count(StoredFile) == 1  # its content waits for the next sweep…

    assert uploads.sweep_expired_uploads(utcnow()) == 1
    db.session.commit()
    assert count(StoredFile) == 0 and count(StoredFileChunk) == 0


def test_the_upgrade_deletes_uploads_left_in_the_instance_folder(app, admin):
    from flask_migrate import downgrade, upgrade

    uploads.store_upload(admin.id, "facilities", "f.csv", b"data", utcnow())
    db.session.commit()
    db.session.close()
    downgrade(revision="cdb64746f187")  # uploads waited in instance/import-uploads
    assert count(StoredFile) == 0  # the pending upload went with its table
    folder = Path(app.instance_path) / "import-uploads"
    folder.mkdir(mode=0o700)
    token = "A" * 43
    (folder / f"{token}.data").write_bytes(b"external_id,code\n")
    (folder / f"{token}.json").write_text('{"kind": "facilities"}')

    upgrade()

    assert not folder.exists()  # no prisoner data left beside the database
    assert count(ImportUpload) == 0


def test_the_upgrade_leaves_what_it_did_not_write(app):
    from flask_migrate import downgrade, upgrade

    downgrade(revision="cdb64746f187")
    folder = Path(app.instance_path) / "import-uploads"
    folder.mkdir(mode=0o700)
    (folder / "notes.txt").write_text("mine")
    (folder / f"{'B' * 43}.json").write_text("{}")

    upgrade()

    assert sorted(path.name for path in folder.iterdir()) == ["notes.txt"]
