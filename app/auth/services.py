"""Accounts (organizers, admins, mailroom volunteers, translators): login, invitations,
password resets, activation.

Plain functions on models. They never commit (the route or command does) and never see the
request: no IP address or user agent reaches this module.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import TypeVar

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from app.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from app.auth.permissions import Actor, require_admin
from app.auth.sessions import end_all_sessions
from app.domain import DomainError
from app.extensions import db
from app.mail.services import queue_email, valid_address
from app.manage.audit import record
from app.models import Invitation, PasswordReset, Role, User
from app.models.base import utcnow
from app.tokens import looks_like_token

# Long enough for any passphrase; bounds the work one request can ask of the hasher.
MAX_PASSWORD_LENGTH = 1000

Link = TypeVar("Link", Invitation, PasswordReset)
LinkBuilder = Callable[[str], str]
"""Turns a fresh token into the absolute link that goes into the email."""


class LinkError(Exception):
    """An invitation or reset link that cannot be used.

    ``reason`` is "unknown" (never existed), "used", "expired", or "taken" (an account with the
    invited address exists already).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalise_email(email: str | None) -> str:
    """The form in which addresses are stored and compared: trimmed, lower case."""
    return (email or "").strip().lower()


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a link token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def rate_limit_key(email: str | None) -> str:
    """The key that counts login attempts for one account.

    A keyed hash of the normalised address: the limiter's storage (memory or Redis) never holds
    an address, and the key does not depend on where the request came from.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    digest = hmac.new(secret, normalise_email(email).encode("utf-8"), hashlib.sha256)
    return "account:" + digest.hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


@cache
def _dummy_hash() -> str:
    # Verified when the address is unknown, so that both answers take about as long.
    return hash_password(secrets.token_urlsafe(16))


def check_new_password(password: str, field: str = "password") -> None:
    """Refuse a password that is too short or absurdly long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            field,
            str(
                _l(
                    "Use at least %(num)d characters. A few unrelated words make a good password.",
                    num=MIN_PASSWORD_LENGTH,
                )
            ),
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(field, str(_l("This password is too long.")))


def find_account(email: str) -> User | None:
    """The account with this address (however it was typed), active or not, or None."""
    return db.session.scalars(select(User).where(User.email == normalise_email(email))).first()


def authenticate(email: str, password: str) -> User | None:
    """The active account with this address and password, or None (never says which was wrong).

    Upgrades the stored hash when it was made with weaker parameters than today's.
    """
    user = find_account(email)
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def create_account(email: str, password: str, role: Role, name: str = "") -> User:
    """A new active account of any role (for `flask users create` and `create-admin`: the
    command line is trusted, so no actor is checked)."""
    address = normalise_email(email)
    if not valid_address(address):
        raise DomainError("email", str(_l("This is not an email address.")))
    if find_account(address) is not None:
        raise DomainError("email", str(_l("An account with this address already exists.")))
    check_new_password(password)
    user = User(email=address, name=name.strip(), role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    record(None, "create", "user", user.id, {"role": role.value})
    return user


def create_admin(email: str, password: str, name: str = "") -> User:
    """A new active admin account (for `flask users create-admin`)."""
    return create_account(email, password, Role.ADMIN, name)


def list_users(actor: Actor) -> list[User]:
    """Every account, oldest first (admins only)."""
    require_admin(actor)
    return list(db.session.scalars(select(User).order_by(User.created_at, User.id)))


def open_invitations(actor: Actor) -> list[Invitation]:
    """Invitations not yet accepted and not yet expired, newest first (admins only)."""
    require_admin(actor)
    query = (
        select(Invitation)
        .options(selectinload(Invitation.invited_by))
        .where(Invitation.used_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    return list(db.session.scalars(query))


def invite(
    actor: Actor,
    email: str,
    role: Role,
    link_for: LinkBuilder,
    language: str = "en",
) -> Invitation:
    """Invite someone to open an account: a single-use link, mailed to them, that expires.

    An earlier open invitation to the same address stops working: only the newest link counts.
    """
    admin = require_admin(actor)
    address = normalise_email(email)
    if not valid_address(address):
        raise DomainError("email", str(_l("This is not an email address.")))
    if find_account(address) is not None:
        raise DomainError("email", str(_l("An account with this address already exists.")))
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(
            Invitation.email == address,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(expires_at=now)
    )
    days = int(current_app.config["INVITATION_DAYS"])
    token, digest = _new_token()
    invitation = Invitation(
        email=address,
        role=role,
        token_hash=digest,
        invited_by=admin,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    queue_email(
        address,
        "invitation",
        {"link": link_for(token), "expires_at": invitation.expires_at, "days": days},
        language,
    )
    record(admin, "invite", "invitation", invitation.id, {"role": role.value})
    return invitation


def _usable(model: type[Link], token: str) -> Link:
    """The invitation or reset for a token, if it can still be used; else LinkError."""
    if not looks_like_token(token):
        raise LinkError("unknown")
    found = db.session.scalars(select(model).where(model.token_hash == token_hash(token))).first()
    if found is None:
        raise LinkError("unknown")
    if found.used_at is not None:
        raise LinkError("used")
    if found.expires_at <= utcnow():
        raise LinkError("expired")
    return found


def find_invitation(token: str) -> Invitation:
    """The open invitation for a link token; LinkError if it is unknown, used, expired or taken."""
    invitation = _usable(Invitation, token)
    if find_account(invitation.email) is not None:
        raise LinkError("taken")
    return invitation


def accept_invitation(token: str, name: str, password: str) -> User:
    """Open the invited account with a name and password; the link then stops working."""
    invitation = find_invitation(token)
    name = name.strip()
    if not name:
        raise DomainError("name", str(_l("Give a name other organizers will know you by.")))
    check_new_password(password)
    invitation.used_at = utcnow()
    user = User(
        email=invitation.email,
        name=name,
        role=invitation.role,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    record(user, "create", "user", user.id, {"role": user.role.value, "invitation": invitation.id})
    return user


def request_password_reset(email: str, link_for: LinkBuilder, language: str = "en") -> None:
    """Mail a reset link if an active account has this address; otherwise do nothing.

    The caller answers the same either way, so nobody learns which addresses have accounts.
    """
    user = find_account(email)
    if user is None or not user.active:
        return
    hours = int(current_app.config["PASSWORD_RESET_HOURS"])
    now = utcnow()
    token, digest = _new_token()
    reset = PasswordReset(
        user=user, token_hash=digest, created_at=now, expires_at=now + timedelta(hours=hours)
    )
    db.session.add(reset)
    queue_email(
        user.email,
        "password_reset",
        {"link": link_for(token), "expires_at": reset.expires_at, "hours": hours},
        language,
    )


def find_reset(token: str) -> PasswordReset:
    """The open reset for a link token; LinkError if it is unknown, used or expired."""
    reset = _usable(PasswordReset, token)
    if not reset.user.active:
        raise LinkError("unknown")
    return reset


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    # Whoever was logged in with the old password is logged out (the caller opens a new
    # session for this browser).
    end_all_sessions(user)


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; the link and every other open one stop working,
    and every session of the account ends."""
    reset = find_reset(token)
    check_new_password(password)
    now = utcnow()
    user = reset.user
    _set_password(user, password)
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    reset.used_at = now
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password; every session ends (the caller opens a new one)."""
    if not verify_password(user.password_hash, current):
        raise DomainError("current_password", str(_l("This is not your current password.")))
    check_new_password(new)
    _set_password(user, new)


def set_active(actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate an account (it can no longer log in, its sessions end) or reactivate it."""
    admin = require_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.id == admin.id and not active:
        raise DomainError("user", str(_l("You cannot deactivate your own account.")))
    if user.active != active:
        user.active = active
        # Deleted, not only refused: sessions from before a deactivation must not come back
        # with a reactivation.
        end_all_sessions(user)
        record(admin, "activate" if active else "deactivate", "user", user.id)
    return user
