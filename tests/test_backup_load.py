"""A backup taken while writers run restores into a working instance with everything the server
had confirmed before the backup started: on SQLite (with what is still in the WAL) and on
PostgreSQL.

Konvert is served by scripts/run.sh as `make run` serves it. Four writer threads, each a
browser of its own, write letters through the composer form and report them sent and arrived
through the API. Once some are confirmed (a 302 to the tracking link, a 201 for a report),
`flask backup create` runs as a separate process while they go on. The backup is restored by
`flask backup restore` into a new instance, which is served in turn: every letter and report
confirmed before the backup started is on its tracking page and in the API, and the
organizer logged in before the backup is still logged in (the secret key and the sessions
came along).
"""

from __future__ import annotations

import hashlib
import hmac
import http.cookiejar
import json
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date
from email.message import Message
from pathlib import Path

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.models import Role
from app.privacy.crypto import link_hash_key
from tests.conftest import csrf_token
from tests.factories import make_facility, make_prisoner, make_user
from tests.servers import MASTER_KEY, REPO, VENV_BIN, konvert_environment, run_sh

WRITERS = 4
BEFORE_BACKUP = 12  # letters confirmed before the backup starts
AFTER_BACKUP = 4  # and after it ended, so that writes ran through the whole backup
WAIT_SECONDS = 180
ADMIN = "admin@example.org"
PASSWORD = "correct horse battery staple"
# The instance's own secret key file, not KONVERT_SECRET_KEY: the backup must carry it.
SETTINGS = {"SECRET_KEY": "", "RATELIMIT_PUBLIC_WRITES": "100000 per minute"}
SHARED_KEY = "a-shared-secret-key-for-every-machine-not-for-production"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None  # a redirect is an answer to look at, as the confirmation of a write


class Browser:
    """One person's browser: its own cookies, redirects not followed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def _open(self, request: urllib.request.Request) -> tuple[int, str, Message]:
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.headers

    def get(self, path: str) -> tuple[int, str, Message]:
        return self._open(urllib.request.Request(self.url + path))

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str, Message]:
        body = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.url + path, data=body, method="POST"))

    def post_json(self, path: str, payload: dict[str, object]) -> tuple[int, str, Message]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._open(request)

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, str, Message]:
        """Open the form at ``path`` and send it with its CSRF token."""
        status, page, _ = self.get(path)
        assert status == 200, f"{path} answered {status}"
        return self.post_form(path, {"csrf_token": csrf_token(page), **fields})


@dataclass
class Confirmed:
    """Every write the server confirmed, with when the confirmation arrived."""

    letters: list[tuple[float, str]] = field(default_factory=list)  # (time, token)
    events: list[tuple[float, str, int, str]] = field(default_factory=list)  # token, id, note
    refused: list[int] = field(default_factory=list)  # statuses of writes not confirmed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def letters_before(self, moment: float) -> set[str]:
        with self.lock:
            return {token for at, token in self.letters if at < moment}

    def events_before(self, moment: float) -> list[tuple[str, int, str]]:
        with self.lock:
            return [(token, id_, note) for at, token, id_, note in self.events if at < moment]

    def count_letters(self) -> int:
        with self.lock:
            return len(self.letters)


def _write_letters(url: str, prisoner_ids: list[int], number: int, stop: threading.Event,
                   confirmed: Confirmed) -> None:  # fmt: skip
    """A writer: a letter to each prisoner in turn, reported sent then arrived."""
    browser = Browser(url)
    today = date.today().isoformat()
    turn = 0
    while not stop.is_set():
        prisoner_id = prisoner_ids[(number + turn) % len(prisoner_ids)]
        turn += 1
        status, _, headers = browser.submit(
            f"/prisoners/{prisoner_id}/write",
            {"template_id": "None", "language": "ru", "signature": f"Писатель {number}",
             "body": f"Здравствуйте! Письмо {turn} от писателя {number}.", "save": "1"},
        )  # fmt: skip
        if status != 302:
            with confirmed.lock:
                confirmed.refused.append(status)
            continue
        token = re.search(r"/t/([A-Za-z0-9_-]+)\?saved=1$", headers["Location"]).group(1)
        with confirmed.lock:
            confirmed.letters.append((time.monotonic(), token))
        for kind in ("sent", "arrived"):
            note = f"{kind} by writer {number}, letter {turn}"
            report = {"kind": kind, "date": today, "note": note}
            if kind == "sent":
                report["channel"] = "post"
            else:  # the same day as sent, by post: the writer confirms it was
                report["confirm_same_day"] = True
            status, body, _ = browser.post_json(f"/api/v1/letters/{token}/events", report)
            with confirmed.lock:
                if status == 201:
                    event_id = json.loads(body)["event"]["id"]
                    confirmed.events.append((time.monotonic(), token, event_id, note))
                else:
                    confirmed.refused.append(status)


@contextmanager
def writers(url: str, prisoner_ids: list[int]) -> Iterator[Confirmed]:
    """Writer threads against ``url`` for as long as the block runs."""
    confirmed = Confirmed()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_write_letters, args=(url, prisoner_ids, n, stop, confirmed))
        for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    try:
        yield confirmed
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)


def _wait_for_letters(confirmed: Confirmed, count: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while confirmed.count_letters() < count:
        if time.monotonic() > deadline:
            pytest.fail(f"only {confirmed.count_letters()} letters confirmed: {confirmed.refused}")
        time.sleep(0.05)


def _seed(instance: Path, url: str) -> list[int]:
    """A migrated database with a facility, four prisoners and an admin; their ids."""
    app = create_app("testing", {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        facility = make_facility()
        names = ("Горинов", "Иванов", "Петров", "Сидоров")
        ids = [make_prisoner(facility, last_name=name).id for name in names]
        make_user(ADMIN, role=Role.ADMIN, password=PASSWORD)
        db.session.remove()
        db.engine.dispose()
    return ids


def _flask(instance: Path, database_url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`flask …` in a process of its own, configured as the served instance is."""
    environment = konvert_environment(instance, _settings(database_url))
    environment["FLASK_APP"] = "app:create_app"
    return subprocess.run(
        [str(VENV_BIN / "flask"), *arguments],
        cwd=REPO,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _letter_tokens(database: Path, tokens: set[str]) -> set[str]:
    """Which of ``tokens`` have their letter in ``database`` (which keeps only link hashes)."""
    key = link_hash_key(bytes.fromhex(MASTER_KEY))
    by_hash = {
        hmac.new(key, f"letter:{token}".encode(), hashlib.sha256).hexdigest(): token
        for token in tokens
    }
    with closing(sqlite3.connect(database)) as connection:
        stored = {row[0] for row in connection.execute("SELECT token_hash FROM letter")}
    return {token for link_hash, token in by_hash.items() if link_hash in stored}


@dataclass
class Backup:
    """A backup made under load, and what the writers had been told before it started."""

    folder: Path
    letters: set[str]
    events: list[tuple[str, int, str]]
    plain_copy: Path | None  # konvert.db copied as a file at the same moment (SQLite)


def _settings(database_url: str) -> dict[str, str]:
    """The served instance's settings. On SQLite its secret key is its instance file, which
    the backup must carry; on PostgreSQL Konvert requires KONVERT_SECRET_KEY (every machine
    shares it), which the backup carries as well."""
    if database_url.startswith("sqlite"):
        return {**SETTINGS, "DATABASE_URL": database_url}
    return {**SETTINGS, "DATABASE_URL": database_url, "SECRET_KEY": SHARED_KEY}


def _back_up_under_load(tmp_path: Path, database_url: str, admin: Browser) -> Backup:
    """Serve a seeded instance, log the admin in, and back it up while writers run."""
    instance = tmp_path / "served"
    instance.mkdir()
    prisoner_ids = _seed(instance, database_url)
    folder = tmp_path / "backup"
    plain_copy = None
    settings = _settings(database_url)
    with run_sh(instance, settings, tmp_path / "served.log") as served:
        admin.url = served.url
        status, _, _ = admin.submit("/login", {"email": ADMIN, "password": PASSWORD})
        assert status == 302
        assert admin.get("/manage/")[0] == 200
        with writers(served.url, prisoner_ids) as confirmed:
            _wait_for_letters(confirmed, BEFORE_BACKUP)
            if database_url.startswith("sqlite"):
                plain_copy = tmp_path / "plain-copy.db"
                shutil.copyfile(instance / "konvert.db", plain_copy)
            started = time.monotonic()
            made = _flask(instance, database_url, "backup", "create", str(folder))
            assert made.returncode == 0, made.stdout + made.stderr
            _wait_for_letters(confirmed, confirmed.count_letters() + AFTER_BACKUP)
        assert not [status for status in confirmed.refused if status >= 500], served.log_text()
    letters, events = confirmed.letters_before(started), confirmed.events_before(started)
    assert len(letters) >= BEFORE_BACKUP
    assert len(events) >= BEFORE_BACKUP  # each letter was reported sent before the next one
    return Backup(folder, letters, events, plain_copy)


def _restore_and_check(tmp_path: Path, backup: Backup, database_url: str, admin: Browser) -> None:
    """Restore into a new instance, serve it, and find every confirmed write there."""
    instance = tmp_path / "restored"
    restored = _flask(instance, database_url, "backup", "restore", str(backup.folder))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "(as in the backup)" in restored.stdout
    served_key = tmp_path / "served/secret_key"
    key_in_use = served_key.read_text() if served_key.exists() else SHARED_KEY
    assert (instance / "secret_key").read_text().strip() == key_in_use.strip()
    settings = _settings(database_url)
    with run_sh(instance, settings, tmp_path / "restored.log") as served:
        reader = Browser(served.url)
        notes: dict[str, set[str]] = {token: set() for token in backup.letters}
        ids: dict[str, set[int]] = {token: set() for token in backup.letters}
        for token, event_id, note in backup.events:
            notes[token].add(note)
            ids[token].add(event_id)
        for token in backup.letters:
            status, page, _ = reader.get(f"/t/{token}")
            assert status == 200, token
            for note in notes[token]:
                assert note in page, (token, note)
            status, body, _ = reader.get(f"/api/v1/letters/{token}")
            assert status == 200
            assert ids[token] <= {event["id"] for event in json.loads(body)["events"]}
        # The organizer's login session (a keyed hash under the secret key) came along.
        admin.url = served.url
        assert admin.get("/manage/")[0] == 200


def test_a_sqlite_backup_under_load_has_every_confirmed_write_and_what_the_wal_held(tmp_path):
    url = f"sqlite:///{tmp_path / 'served' / 'konvert.db'}"
    admin = Browser("")
    backup = _back_up_under_load(tmp_path, url, admin)

    in_backup = _letter_tokens(backup.folder / "konvert.db", backup.letters)
    assert backup.letters <= in_backup
    # A plain copy of konvert.db, taken just before, lacks letters the server had confirmed:
    # they were still in konvert.db-wal. The backup has them.
    in_plain_copy = _letter_tokens(backup.plain_copy, backup.letters)
    only_in_wal = backup.letters - in_plain_copy
    assert only_in_wal, "every confirmed letter was already in konvert.db: the WAL held none"
    assert only_in_wal <= in_backup

    _restore_and_check(
        tmp_path, backup, f"sqlite:///{tmp_path / 'restored' / 'konvert.db'}", admin
    )


def test_a_postgresql_backup_under_load_has_every_confirmed_write(postgres_server, tmp_path):
    import psycopg
    from psycopg import sql

    urls = {}
    with psycopg.connect(
        host="127.0.0.1", port=postgres_server.port, user="postgres", dbname="postgres",
        autocommit=True,
    ) as connection:  # fmt: skip
        for name in ("backup_source", "backup_target"):
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            urls[name] = postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    admin = Browser("")
    backup = _back_up_under_load(tmp_path, urls["backup_source"], admin)
    manifest = json.loads((backup.folder / "manifest.json").read_text())
    assert manifest["database"] == "postgresql"
    assert manifest["counts"]["letters"] >= len(backup.letters)
    _restore_and_check(tmp_path, backup, urls["backup_target"], admin)
