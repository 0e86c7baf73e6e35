"""Requests and commands in tests run as in production: each in its own app context and
database session, so that a view, job or command that forgets to commit fails its test."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from click.testing import Result
from flask import Flask, request, request_started
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from app.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def end_test_transaction() -> None:
    """Commit what the test itself wrote and start its next read afresh.

    Called before every request and command: what the test set up is committed (as the
    factories do), and every object the test holds is expired, so that what the test reads
    afterwards comes from the database as the request or command left it, never from this
    session's memory.
    """
    db.session.commit()


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context and session.

    In production each request pushes its own app context, and with it its own database
    session. Flask's test client would reuse the test's app context, and so the test's
    session: a view that forgot to commit would still look right to the test. Running the
    request in an empty ``contextvars`` context makes Flask push a new app context, whose
    session is removed (rolled back) at its end, exactly as in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """Send the request from outside the test's app context.

        The response is read whole inside the request's context: a streamed body is produced
        while its request is still current, as a WSGI server would produce it.
        """
        end_test_transaction()
        kwargs.setdefault("buffered", True)
        with reads_never_write(self.application) as writes:
            response = contextvars.Context().run(super().open, *args, **kwargs)
        assert not writes, f"a request that only reads wrote: {writes}"
        return response


class IsolatedRunner(FlaskCliRunner):
    """Runs `flask …` commands in their own app context and session, as a shell would."""

    def invoke(self, *args: Any, **kwargs: Any) -> Result:
        """Invoke the command from outside the test's app context."""
        end_test_transaction()
        return contextvars.Context().run(super().invoke, *args, **kwargs)


@contextmanager
def reads_never_write(app: Flask) -> Iterator[list[str]]:
    """Collect what the sessions of GET (HEAD, OPTIONS) requests write; it should be nothing.

    Only the request's own session is watched: a job that a page view starts at once in
    immediate mode runs in a session of its own and may write.
    """
    watched: set[int] = set()
    writes: list[str] = []

    def watch(_sender: Flask, **_extra: object) -> None:
        if request.method in SAFE_METHODS:
            watched.add(id(db.session()))

    def flushed(session: Session, _context: object) -> None:
        if id(session) in watched:
            changed = [*session.new, *session.dirty, *session.deleted]
            writes.append(f"{request.method} {request.path} flushed {changed}")

    def executed(state: ORMExecuteState) -> None:
        if id(state.session) in watched and (
            state.is_insert or state.is_update or state.is_delete
        ):
            writes.append(f"{request.method} {request.path} ran {state.statement}")

    event.listen(Session, "after_flush", flushed)
    event.listen(Session, "do_orm_execute", executed)
    try:
        with request_started.connected_to(watch, app):
            yield writes
    finally:
        event.remove(Session, "after_flush", flushed)
        event.remove(Session, "do_orm_execute", executed)


def isolate_requests(app: Flask) -> None:
    """Make ``app.test_client()`` and ``app.test_cli_runner()`` isolated (see above)."""
    app.test_client_class = IsolatedClient
    app.test_cli_runner_class = IsolatedRunner
