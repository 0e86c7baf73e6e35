"""Server-side login sessions: the browser's cookie holds a random key, the database a keyed
hash of it.

Flask's session is a signed cookie: on its own, logging out only asks the browser to forget
it, and a copy taken before still opens the organizers' pages. Here every logged-in browser
has a `LoginSession` row; the user loader accepts a cookie only while its row exists. Logging
out deletes this browser's row; a password change or reset, a deactivation and "log out
everywhere" delete every row of the account. A session also ends SESSION_DAYS after the login.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import LoginSession, User
from app.models.base import utcnow
from app.security import keyed_hash
from app.tokens import TOKEN_BYTES, looks_like_token


def _oldest_valid(now: datetime) -> datetime:
    """Sessions opened at or before this moment have ended."""
    return now - timedelta(days=int(current_app.config["SESSION_DAYS"]))


def open_session(user: User) -> str:
    """Record a new session for ``user`` and return its key, which only the cookie holds.

    The account's sessions that have run out are deleted on the way.
    """
    now = utcnow()
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.created_at <= _oldest_valid(now)
        )
    )
    key = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(LoginSession(user=user, key_hash=keyed_hash(key), created_at=now))
    return key


def session_user(key: str | None) -> User | None:
    """The active account whose open session this key is, or None (ended, expired, unknown)."""
    if not key or not looks_like_token(key):
        return None
    found = db.session.scalars(
        select(LoginSession)
        .options(joinedload(LoginSession.user))
        .where(LoginSession.key_hash == keyed_hash(key))
    ).first()
    if found is None or found.created_at <= _oldest_valid(utcnow()):
        return None
    return found.user if found.user.active else None


def end_session(key: str | None) -> None:
    """End the session with this key (logging out in this browser); unknown keys are ignored."""
    if key and looks_like_token(key):
        db.session.execute(delete(LoginSession).where(LoginSession.key_hash == keyed_hash(key)))


def end_all_sessions(user: User) -> None:
    """End every session of the account, in every browser."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
