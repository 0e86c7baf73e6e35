"""Accounts (organizers, admins, mailroom volunteers, translators), their sessions, invitations,
password resets, one-time login links, and the audit trail."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import enum_column, utcnow


class Role(enum.StrEnum):
    """What an account may do. Supporters have no account at all."""

    ORGANIZER = "organizer"
    ADMIN = "admin"  # everything an organizer may, plus accounts, the organisation, the outbox
    MAILROOM = "mailroom"  # the mailroom only: review, print runs, replies and returns
    TRANSLATOR = "translator"  # the translation desk only


class User(UserMixin, Model):
    """An organizer, mailroom volunteer, translator or admin. No IP address or user agent is
    ever stored."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A translator's languages, as comma-separated codes ("en,de" → "ru").
    translates_from: Mapped[str] = mapped_column(String(100), default="", server_default="")
    translates_into: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: Whether a translator gets the daily digest of open work in their languages.
    wants_digest: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: The interface language the account last logged in with: the digests it gets are
    #: written in it. None until then (the default language).
    language: Mapped[str | None] = mapped_column(String(8))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"

    @property
    def source_languages(self) -> list[str]:
        """The languages a translator translates from."""
        return [code.strip() for code in self.translates_from.split(",") if code.strip()]

    @property
    def target_languages(self) -> list[str]:
        """The languages a translator translates into."""
        return [code.strip() for code in self.translates_into.split(",") if code.strip()]

    @property
    def is_active(self) -> bool:
        """Deactivated accounts cannot log in."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """True for admins."""
        return self.role is Role.ADMIN

    @property
    def can_organize(self) -> bool:
        """True for organizers and admins: prisoners, facilities, drives, imports."""
        return self.role in (Role.ORGANIZER, Role.ADMIN)

    @property
    def can_use_mailroom(self) -> bool:
        """True for mailroom volunteers, organizers and admins."""
        return self.role in (Role.MAILROOM, Role.ORGANIZER, Role.ADMIN)

    @property
    def can_translate(self) -> bool:
        """True for translators, organizers and admins (the translation desk)."""
        return self.role in (Role.TRANSLATOR, Role.ORGANIZER, Role.ADMIN)


class Invitation(Model):
    """A single-use, expiring link by which an admin invites an organizer."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.ORGANIZER)
    # Only a hash of the token is kept: a leaked database does not leak usable links.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    invited_by: Mapped[User | None] = relationship()


class PasswordReset(Model):
    """A single-use, expiring password-reset link."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginSession(Model):
    """One logged-in browser. Its cookie holds a random key; only a keyed hash of it is kept.

    Logging out deletes the row, so a copy of the cookie taken before stops working.
    """

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class LoginLink(Model):
    """A single-use, short-lived link that logs an account in, sent to its address on request.

    Only a keyed hash of the token is kept.
    """

    __tablename__ = "login_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class AuditEntry(Model):
    """Who changed what, and when: every change to prisoner, facility and official data."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(30))  # create, update, transfer, import, …
    entity_type: Mapped[str] = mapped_column(String(30))  # prisoner, facility, official, …
    entity_id: Mapped[int | None] = mapped_column(index=True)
    # {"field": [old, new], …}, or a summary for imports; never supporters' data.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
