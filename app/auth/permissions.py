"""Who may do what. Services call these checks; routes only use the decorators to redirect
people who are not logged in to the login page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeAlias, TypeVar, cast

from flask import redirect, request, url_for
from flask_login import AnonymousUserMixin, current_user
from werkzeug.exceptions import Forbidden

from app.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

# Whoever asks a service to act: a logged-in account, an anonymous visitor, or nobody (a
# command or a job). Services check what the actor may do with the functions below.
Actor: TypeAlias = User | AnonymousUserMixin | None


def require_organizer(actor: Actor) -> User:
    """The actor, if they are an active organizer or admin; else Forbidden."""
    if not isinstance(actor, User) or not actor.is_active:
        raise Forbidden()
    if actor.role not in (Role.ORGANIZER, Role.ADMIN):
        raise Forbidden()
    return actor


def require_mailroom(actor: Actor) -> User:
    """The actor, if they are an active mailroom volunteer, organizer or admin; else Forbidden."""
    if not isinstance(actor, User) or not actor.is_active:
        raise Forbidden()
    if actor.role not in (Role.MAILROOM, Role.ORGANIZER, Role.ADMIN):
        raise Forbidden()
    return actor


def require_translator(actor: Actor) -> User:
    """The actor, if they are an active translator, organizer or admin; else Forbidden."""
    if not isinstance(actor, User) or not actor.is_active:
        raise Forbidden()
    if actor.role not in (Role.TRANSLATOR, Role.ORGANIZER, Role.ADMIN):
        raise Forbidden()
    return actor


def require_admin(actor: Actor) -> User:
    """The actor, if they are an active admin; else Forbidden."""
    user = require_organizer(actor)
    if user.role is not Role.ADMIN:
        raise Forbidden()
    return user


def logged_in_user() -> User:
    """The logged-in account itself, not Flask-Login's proxy (models and sessions need it).

    Only for views behind `login_required`: there the user loader gave a User."""
    return cast(User, current_user._get_current_object())


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page, then back here."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)
