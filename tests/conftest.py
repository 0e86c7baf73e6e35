"""Shared fixtures: a real SQLite database migrated with the real migrations, per test."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import event
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from app import create_app
from app.extensions import db
from tests.isolation import isolate_requests
from tests.mailbox import clear_sent_mail
from tests.postgres import any_db_app, pg_app, postgres_app, postgres_server  # noqa: F401

CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FLASH_PATTERN = re.compile(r'<div class="flash flash-\w+" role="status">(.*?)</div>', re.DOTALL)


def _settings(folder: Path) -> dict[str, object]:
    return {
        "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'konvert.db'}",
    }


@pytest.fixture(autouse=True)
def _no_real_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would talk SMTP to anything but a server on loopback."""
    import smtplib

    original = smtplib.SMTP.connect

    def connect(
        self: smtplib.SMTP, host: str = "localhost", port: int = 0, *args: object
    ) -> object:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise AssertionError(f"a test tried to reach a real SMTP server at {host}")
        return original(self, host, port, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)


@pytest.fixture(autouse=True)
def _no_mail_sent_yet() -> None:
    """Each test reads only the mail it sent itself (see tests/mailbox.py)."""
    clear_sent_mail()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file built once by running every migration; each test gets a copy."""
    folder = tmp_path_factory.mktemp("migrated")
    app = create_app("testing", _settings(folder))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    path = folder / "konvert.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    return path


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """In a module marked ``both_databases``, every test built on `app` (and so on `client`,
    `runner`, `organizer`, `admin`…) runs twice: on SQLite, then on PostgreSQL."""
    if metafunc.definition.get_closest_marker("both_databases") and (
        "app" in metafunc.fixturenames
    ):
        metafunc.parametrize("app", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def app(
    request: pytest.FixtureRequest, migrated_database: Path, tmp_path: Path
) -> Iterator[Flask]:
    """The application on a fresh copy of the migrated database.

    The test body runs inside an app context of its own, with its own session (for
    factories and for reading results); requests and commands get theirs (see
    `IsolatedClient`). In a module marked ``both_databases`` it is also the application on
    the session's PostgreSQL database, emptied (see tests/postgres.py).
    """
    if getattr(request, "param", "sqlite") == "postgresql":
        yield from postgres_app(request.getfixturevalue("postgres_server"), tmp_path)
        return
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(migrated_database, instance / "konvert.db")
    application = create_app("testing", _settings(instance))
    isolate_requests(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client; CSRF protection is on, as in production."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Runs `flask …` commands against the test app."""
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    """The CSRF token embedded in a page's form."""
    match = CSRF_PATTERN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def submit(
    client: FlaskClient,
    page: str | TestResponse,
    data: Mapping[str, Any] | None = None,
    action: str | None = None,
    **kwargs: Any,
) -> TestResponse:
    """Fill in and send a form as a browser would, with the CSRF token of the page it is on.

    ``page`` is the URL of the page with the form, which is opened first (it must answer
    200), or a page the test already has (say the answer to an earlier post, when the form
    is there). ``data`` goes to ``action``, or back to the page's own URL, with the page's
    CSRF token added. Other keyword arguments (``headers``, ``environ_base``…) go with every
    request, as one browser sends the same ones each time. A file (a ``FileStorage``) is
    sent as multipart, encoded in memory: the test client would spool a large body to a
    temporary file it never closes.
    """
    if isinstance(page, str):
        shown = client.get(page, **kwargs)
        assert shown.status_code == 200, f"the form page {page} answered {shown.status_code}"
        action = action or page
    else:
        shown = page
        assert action, "say where the form on a page the test already has is sent"
    fields = {"csrf_token": csrf_token(shown.get_data(as_text=True)), **(data or {})}
    if any(isinstance(value, FileStorage) for value in fields.values()):
        boundary, body = encode_multipart(fields)
        return client.post(
            action, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs
        )
    return client.post(action, data=fields, **kwargs)


def follow(client: FlaskClient, response: TestResponse) -> TestResponse:
    """The page a redirect leads to, as the browser shows it next (with any flash message)."""
    assert response.status_code in (302, 303), f"not a redirect: {response.status_code}"
    return client.get(response.headers["Location"])


def flashed(response: TestResponse) -> list[str]:
    """The notices shown at the top of a page (the flash messages), as a person reads them."""
    return [
        unescape(message) for message in FLASH_PATTERN.findall(response.get_data(as_text=True))
    ]


def page_text(response: TestResponse) -> str:
    """The page as a person reads it: tags removed, entities decoded, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", unescape(text)).strip()


def count_queries(client: FlaskClient, url: str) -> int:
    """How many SQL statements a GET of ``url`` runs (it must answer 200)."""
    statements: list[str] = []

    def record(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def log_in(client: FlaskClient, user: object, **request: Any) -> None:
    """Start a logged-in session for ``user`` as a real login does: a server-side session
    (app.auth.sessions) whose key the cookie holds. ``request`` (say ``environ_base`` or
    ``headers``) describes the request the cookie is set on, as for the test client."""
    from app.auth.sessions import open_session

    key = open_session(user)  # type: ignore[arg-type]
    db.session.commit()
    with client.session_transaction(**request) as session:
        session["_user_id"] = key
        session["_fresh"] = True


@pytest.fixture
def organizer(app: Flask) -> object:
    """An active organizer account."""
    from tests.factories import make_user

    return make_user()


@pytest.fixture
def admin(app: Flask) -> object:
    """An active admin account."""
    from app.models import Role
    from tests.factories import make_user

    return make_user(email="admin@example.org", role=Role.ADMIN)
