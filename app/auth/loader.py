"""Flask-Login's user loader: the session cookie holds the key of a server-side session."""

from __future__ import annotations

from app.auth.sessions import session_user
from app.models import User


def load_user(session_key: str) -> User | None:
    """The user of an open session (see app.auth.sessions), or None once it has ended."""
    return session_user(session_key)
