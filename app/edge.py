"""The edges where work is committed: one for requests, one for jobs.

Services change models and never commit; a request or a job is the unit of work. A request
commits once, after its view returned a response that is not an error (below 400), and rolls
back otherwise; a job commits once, when its body finished without raising. Work that must
wait until the data it needs is committed (enqueueing a job, sending mail) registers with
`after_commit` and runs right after the commit, or never, when the transaction rolls back.

One kind of step cannot wait for the end of its request: using up a single-use credential
whose use must stay done whatever the request does next (an import upload, used up by its
confirmation even when the import is then refused). The view commits that step with
`commit_used_up`, before it goes on.

`install` puts the request edge and the session hook behind `after_commit` in place; it is
called by `create_app`, which the job worker uses too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.extensions import db

_AFTER_COMMIT = "konvert_after_commit"


def install(app: Flask) -> None:
    """Commit (or roll back) at the end of every request; run `after_commit` callbacks."""
    app.after_request(_end_request)
    if not event.contains(Session, "after_commit", _run_after_commit):
        event.listen(Session, "after_commit", _run_after_commit)
        event.listen(Session, "after_rollback", _forget_after_commit)


def _end_request(response: Response) -> Response:
    """The one place where a request commits: only what a successful view did is kept.

    An error response (a refused form, a missing page, a denied action) rolls back whatever
    the view changed before it refused. A view that raises never gets here: its session is
    rolled back when the app context ends.
    """
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def commit_used_up() -> None:
    """Commit, in the middle of a request, the step that used up a single-use credential.

    Only for that: what the view does next is committed or rolled back at the end of the
    request as usual, but the credential stays used, so that a refused or failed request
    cannot be replayed and a second request racing for it finds it gone.
    """
    db.session.commit()


@contextmanager
def job(app: Flask) -> Iterator[Flask]:
    """Run a job's body in an app context and session of its own, committed at its end.

    Even when the job runs at once inside a request (immediate mode), it gets its own
    session, as it would in the consumer: the request's uncommitted changes are not its own.
    """
    with app.app_context():
        try:
            yield app
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()


def after_commit(callback: Callable[[], None], session: Session | None = None) -> None:
    """Call ``callback`` once the current transaction of ``session`` (by default, this
    context's) commits.

    Registering the same callback twice in a transaction calls it once. When the transaction
    rolls back, the callback is forgotten.
    """
    info = (session if session is not None else db.session).info
    callbacks: list[Callable[[], None]] = info.setdefault(_AFTER_COMMIT, [])
    if callback not in callbacks:
        callbacks.append(callback)


def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


def _forget_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
