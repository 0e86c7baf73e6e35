"""Flask-Login's user loader: the session holds "id:session_version"."""

from __future__ import annotations

from app.extensions import db
from app.models import User


def load_user(session_id: str) -> User | None:
    """The user for a session, unless their session version moved on (password changed)."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user
